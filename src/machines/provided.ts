// What a machine names but does not implement: the composition (src/daemon) provides the real actor or action with
// machine.provide(...), tests provide fakes. A placeholder fails loudly when it runs (an actor rejects or throws with
// the name to provide) and is recognisable, so a test can prove that the real composition leaves none in place.
import { fromCallback, fromPromise, type AnyEventObject, type NonReducibleUnknown } from 'xstate';

const placeholders = new WeakSet<object>();

function mark<T extends object>(impl: T): T {
  placeholders.add(impl);
  return impl;
}

/** A promise actor the composition must provide: until then it rejects naming itself. */
export function providedPromise<TOutput, TInput = NonReducibleUnknown>(name: string) {
  return mark(
    fromPromise<TOutput, TInput>(async () => {
      throw new Error(`actor '${name}' must be provided by the composition`);
    }),
  );
}

/** A callback actor the composition must provide: until then it fails at start naming itself. */
export function providedCallback<TEvent extends AnyEventObject = AnyEventObject, TInput = NonReducibleUnknown>(
  name: string,
) {
  return mark(
    fromCallback<TEvent, TInput>(() => {
      throw new Error(`actor '${name}' must be provided by the composition`);
    }),
  );
}

/**
 * An effect-only action (a metric, a log line) the composition must provide. It does nothing until then, so unit
 * tests of the chart need not provide every counter; the composition test proves the daemon provides them all.
 */
export function providedAction<TParams = undefined>(): (_: unknown, params: TParams) => void {
  return mark((_: unknown, _params: TParams) => {});
}

/**
 * A default the composition must replace, kept because it is harmless and unit tests of the chart rely on it (an
 * inert callback, a promise that resolves with nothing): marked, so the composition test still finds it left in place.
 */
export function providedDefault<T extends object>(logic: T): T {
  return mark(logic);
}

/** True for an actor logic or action created by one of the helpers above. */
export function isPlaceholder(impl: unknown): boolean {
  return typeof impl === 'object' || typeof impl === 'function' ? placeholders.has(impl as object) : false;
}
