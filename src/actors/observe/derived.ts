// Actors whose output is a pure function of events already in a trace (the PTP data plane: the generation actor
// that parses recorded lines, the clock bank and its clocks). A trace records nothing they send or are sent from
// outside the machines, and a replay runs them for real instead of an inert stub, so their events re-happen.
import type { AnyActorLogic } from 'xstate';

const derived = new WeakSet<object>();

/** Marks `logic` as derived (see above) and returns it. */
export function derivedLogic<T extends AnyActorLogic>(logic: T): T {
  derived.add(logic);
  return logic;
}

export function isDerivedLogic(logic: unknown): boolean {
  return typeof logic === 'object' && logic !== null && derived.has(logic);
}
