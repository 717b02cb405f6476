// The root of the actor tree: spawns the I/O sources and the services from ChildSpecs, restarts them by their
// policy (OTP semantics: permanent | transient | temporary) with exponential backoff, escalates when a child
// exceeds its restart intensity, forwards source events to the concern machines by systemId, and shuts down in
// phases (services drain first, then sources, then http).
//
// Time never comes from Date.now(): the intensity window is kept by a delayed `supervisor.forgetRestart` event per
// restart, so the whole chart runs on the actor clock (SimulatedClock in tests).
import { and, assign, enqueueActions, setup, type ActorRefFrom, type AnyEventObject } from 'xstate';
import type { ChildReadyEvent } from './sourceEvents.js';
import { exitCodes, type BackoffSpec, type ChildSpec, type SupervisorExitEvent } from './spec.js';

export interface SupervisorInput {
  children: ChildSpec[];
  maxRestarts: number;
  periodMs: number;
  backoff: BackoffSpec;
  shutdownTimeoutMs: number;
}

export type ChildStatus = 'running' | 'backoff' | 'stopping' | 'stopped';

export interface ChildState {
  status: ChildStatus;
  ready: boolean;
  /** Restarts within the intensity window. */
  recentRestarts: number;
  /** All restarts since start. */
  totalRestarts: number;
  /** Delay before the pending restart. */
  backoffMs: number;
  lastError?: string;
}

export interface SupervisorContext {
  specs: Record<string, ChildSpec>;
  /** Child ids in spawn order. */
  order: string[];
  children: Record<string, ChildState>;
  maxRestarts: number;
  periodMs: number;
  backoff: BackoffSpec;
  shutdownTimeoutMs: number;
  /** Shutdown phases (distinct shutdownOrder values, ascending) and the index of the one draining now. */
  phases: number[];
  phase: number;
  exitCode: number;
  exitReason: string;
  /** Source events that found no running concern (a service between restarts). */
  droppedEvents: number;
}

export interface SupervisorOutput {
  exitCode: number;
  reason: string;
}

/** Asks for a graceful shutdown (SIGTERM / SIGINT). */
export interface SupervisorShutdownEvent {
  type: 'shutdown';
  reason?: string;
}

/** A callback actor that failed asynchronously (it cannot throw from a socket callback) reports it this way. */
export interface ChildFailedEvent {
  type: 'child.failed';
  id: string;
  error: string;
}

export type SupervisorEvent =
  | SupervisorShutdownEvent
  | SupervisorExitEvent
  | ChildReadyEvent
  | ChildFailedEvent
  | { type: 'supervisor.restartChild'; id: string }
  | { type: 'supervisor.forgetRestart'; id: string }
  | AnyEventObject;

/** Emitted for observers (metrics, logs): `actor.on('child.restarted', …)`. */
export type SupervisorEmitted =
  | { type: 'child.up'; id: string }
  | { type: 'child.down'; id: string; reason: string }
  | { type: 'child.restarted'; id: string }
  | { type: 'supervisor.shuttingDown'; exitCode: number; reason: string };

const errorPrefix = 'xstate.error.actor.';
const donePrefix = 'xstate.done.actor.';

/** The child a lifecycle event is about: xstate.error.actor.<id>, xstate.done.actor.<id>, or an event with `id`. */
export function childIdOf(event: AnyEventObject): string {
  if (event.type.startsWith(errorPrefix)) return event.type.slice(errorPrefix.length);
  if (event.type.startsWith(donePrefix)) return event.type.slice(donePrefix.length);
  return typeof event.id === 'string' ? event.id : '';
}

function errorText(event: AnyEventObject): string {
  if (event.type.startsWith(donePrefix)) return 'finished';
  const e = event.error;
  if (e instanceof Error) return e.message;
  return typeof e === 'string' ? e : JSON.stringify(e ?? 'finished');
}

function spec(context: SupervisorContext, id: string): ChildSpec | undefined {
  return context.specs[id];
}

function backoffOf(context: SupervisorContext, id: string): BackoffSpec {
  return spec(context, id)?.backoff ?? context.backoff;
}

/** Children of the phase being drained that have not stopped yet. */
function phaseChildren(context: SupervisorContext): string[] {
  const order = context.phases[context.phase];
  return context.order.filter(
    (id) => (context.specs[id]!.shutdownOrder ?? 0) === order && context.children[id]!.status !== 'stopped',
  );
}

function withChild(context: SupervisorContext, id: string, patch: Partial<ChildState>): SupervisorContext['children'] {
  const prev = context.children[id];
  if (!prev) return context.children;
  return { ...context.children, [id]: { ...prev, ...patch } };
}

/** What happens when a child errors, finishes, or reports an asynchronous failure. */
const childExit = [
  {
    guard: and(['isLiveChild', 'shouldRestart', 'intensityExceeded']),
    target: '#supervisor.shuttingDown',
    actions: ['markStopped', 'setExit'],
  },
  { guard: and(['isLiveChild', 'shouldRestart']), actions: 'scheduleRestart' },
  { guard: 'isLiveChild', actions: 'markStopped' },
] as const;

export const supervisorMachine = setup({
  types: {
    context: {} as SupervisorContext,
    input: {} as SupervisorInput,
    events: {} as SupervisorEvent,
    output: {} as SupervisorOutput,
    emitted: {} as SupervisorEmitted,
  },
  guards: {
    /**
     * Lifecycle event of the current incarnation of a child: it is running (or draining). A late `child.failed` for
     * a child already in backoff or stopped is stale and must not count as a second failure.
     */
    isLiveChild: ({ context, event }) => {
      const c = context.children[childIdOf(event)];
      return c !== undefined && (c.status === 'running' || c.status === 'stopping');
    },
    shouldRestart: ({ context, event }) => {
      const s = spec(context, childIdOf(event));
      if (!s || s.restart === 'temporary') return false;
      if (s.restart === 'transient') return !event.type.startsWith(donePrefix);
      return true;
    },
    intensityExceeded: ({ context, event }) => {
      const id = childIdOf(event);
      const max = spec(context, id)?.maxRestarts ?? context.maxRestarts;
      return (context.children[id]?.recentRestarts ?? 0) + 1 > max;
    },
    isForwardable: ({ context, event }) =>
      context.order.some((id) => context.specs[id]!.receives?.some((p) => event.type.startsWith(p))),
    phaseDrained: ({ context }) => phaseChildren(context).length === 0,
    lastPhase: ({ context }) => context.phase >= context.phases.length - 1,
  },
  delays: {
    /** Exponential backoff: initialMs × factor^(restarts in the window − 1), capped at maxMs. */
    restartBackoff: ({ context, event }) => context.children[childIdOf(event)]?.backoffMs ?? context.backoff.initialMs,
    /** The intensity window: a restart counts against maxRestarts for this long. */
    intensityPeriod: ({ context, event }) => spec(context, childIdOf(event))?.periodMs ?? context.periodMs,
    shutdownTimeout: ({ context }) => context.shutdownTimeoutMs,
  },
  actions: {
    spawnAll: enqueueActions(({ context, enqueue }) => {
      for (const id of context.order) {
        const s = context.specs[id]!;
        enqueue.spawnChild(s.logic, { id: s.id, systemId: s.systemId, input: s.input } as never);
        enqueue.emit({ type: 'child.up', id });
      }
    }),
    respawnChild: enqueueActions(({ context, event, enqueue }) => {
      const id = childIdOf(event);
      const s = spec(context, id);
      if (!s || context.children[id]?.status !== 'backoff') return;
      enqueue.spawnChild(s.logic, { id: s.id, systemId: s.systemId, input: s.input } as never);
      enqueue.assign({ children: withChild(context, id, { status: 'running', ready: false }) });
      enqueue.emit({ type: 'child.restarted', id });
      enqueue.emit({ type: 'child.up', id });
    }),
    /** Stops the failed incarnation and schedules the next one after the backoff delay. */
    scheduleRestart: enqueueActions(({ context, event, enqueue }) => {
      const id = childIdOf(event);
      const recent = (context.children[id]?.recentRestarts ?? 0) + 1;
      const b = backoffOf(context, id);
      const backoffMs = Math.min(b.maxMs, Math.round(b.initialMs * b.factor ** (recent - 1)));
      enqueue.stopChild(id);
      enqueue.cancel(`restart.${id}`); // at most one pending restart per child
      enqueue.assign({
        children: withChild(context, id, {
          status: 'backoff',
          ready: false,
          recentRestarts: recent,
          totalRestarts: (context.children[id]?.totalRestarts ?? 0) + 1,
          backoffMs,
          lastError: errorText(event),
        }),
      });
      enqueue.emit({ type: 'child.down', id, reason: errorText(event) });
      enqueue.raise({ type: 'supervisor.restartChild', id }, { delay: 'restartBackoff', id: `restart.${id}` });
      enqueue.raise({ type: 'supervisor.forgetRestart', id }, { delay: 'intensityPeriod' });
    }),
    forgetRestart: assign({
      children: ({ context, event }) => {
        const id = childIdOf(event);
        const c = context.children[id];
        return c ? withChild(context, id, { recentRestarts: Math.max(0, c.recentRestarts - 1) }) : context.children;
      },
    }),
    markStopped: enqueueActions(({ context, event, enqueue }) => {
      const id = childIdOf(event);
      enqueue.stopChild(id);
      enqueue.assign({
        children: withChild(context, id, {
          status: 'stopped',
          ready: false,
          ...(event.type.startsWith(errorPrefix) || event.type === 'child.failed'
            ? { lastError: errorText(event) }
            : {}),
        }),
      });
      enqueue.emit({ type: 'child.down', id, reason: errorText(event) });
    }),
    setReady: assign({
      children: ({ context, event }) =>
        event.type === 'child.ready' ? withChild(context, event.id, { ready: event.ready }) : context.children,
    }),
    setExit: assign(({ event }) => {
      if (event.type === 'supervisor.exit') return { exitCode: event.code, exitReason: event.reason };
      if (event.type === 'shutdown') return { exitCode: exitCodes.ok, exitReason: event.reason ?? 'shutdown' };
      return {
        exitCode: exitCodes.intensity,
        exitReason: `child ${childIdOf(event)} exceeded its restart intensity: ${errorText(event)}`,
      };
    }),
    /** Sends the event to every running concern whose `receives` prefixes match; counts it when none is there. */
    forward: enqueueActions(({ context, event, enqueue, system }) => {
      let delivered = false;
      for (const id of context.order) {
        const s = context.specs[id]!;
        if (!s.receives?.some((p) => event.type.startsWith(p))) continue;
        const target = context.children[id]?.status === 'running' ? system.get(s.systemId) : undefined;
        if (target) {
          enqueue.sendTo(target, event);
          delivered = true;
        }
      }
      if (!delivered) enqueue.assign({ droppedEvents: context.droppedEvents + 1 });
    }),
    beginShutdown: enqueueActions(({ context, enqueue }) => {
      enqueue.emit({ type: 'supervisor.shuttingDown', exitCode: context.exitCode, reason: context.exitReason });
      // Pending restarts are cancelled: nothing comes back up while we go down.
      for (const id of context.order) enqueue.cancel(`restart.${id}`);
      const children = { ...context.children };
      for (const id of context.order)
        if (children[id]!.status === 'backoff') children[id] = { ...children[id]!, status: 'stopped' };
      enqueue.assign({ children });
    }),
    /** Drain children of the current phase get `shutdown`; the others are stopped at once. */
    beginPhase: enqueueActions(({ context, enqueue, system }) => {
      let children = context.children;
      for (const id of phaseChildren(context)) {
        const s = context.specs[id]!;
        const ref = system.get(s.systemId);
        if (s.drain && ref) {
          enqueue.sendTo(ref, { type: 'shutdown' });
          children = { ...children, [id]: { ...children[id]!, status: 'stopping' } };
        } else {
          enqueue.stopChild(id);
          children = { ...children, [id]: { ...children[id]!, status: 'stopped', ready: false } };
          enqueue.emit({ type: 'child.down', id, reason: 'shutdown' });
        }
      }
      enqueue.assign({ children });
    }),
    /** The drain timeout passed: whoever of this phase is still there is stopped. */
    forceStopPhase: enqueueActions(({ context, enqueue }) => {
      let children = context.children;
      for (const id of phaseChildren(context)) {
        enqueue.stopChild(id);
        children = { ...children, [id]: { ...children[id]!, status: 'stopped', ready: false } };
        enqueue.emit({ type: 'child.down', id, reason: 'shutdown timeout' });
      }
      enqueue.assign({ children });
    }),
    nextPhase: assign({ phase: ({ context }) => context.phase + 1 }),
  },
}).createMachine({
  id: 'supervisor',
  context: ({ input }) => {
    const specs: Record<string, ChildSpec> = {};
    const children: Record<string, ChildState> = {};
    for (const s of input.children) {
      specs[s.id] = s;
      children[s.id] = { status: 'running', ready: false, recentRestarts: 0, totalRestarts: 0, backoffMs: 0 };
    }
    const phases = [...new Set(input.children.map((s) => s.shutdownOrder ?? 0))].sort((a, b) => a - b);
    return {
      specs,
      order: input.children.map((s) => s.id),
      children,
      maxRestarts: input.maxRestarts,
      periodMs: input.periodMs,
      backoff: input.backoff,
      shutdownTimeoutMs: input.shutdownTimeoutMs,
      phases,
      phase: 0,
      exitCode: exitCodes.ok,
      exitReason: '',
      droppedEvents: 0,
    };
  },
  initial: 'running',
  states: {
    running: {
      entry: 'spawnAll',
      on: {
        'xstate.error.actor.*': childExit,
        'xstate.done.actor.*': childExit,
        'child.failed': childExit,
        'supervisor.restartChild': { actions: 'respawnChild' },
        'supervisor.forgetRestart': { actions: 'forgetRestart' },
        'child.ready': { actions: 'setReady' },
        shutdown: { target: 'shuttingDown', actions: 'setExit' },
        'supervisor.exit': { target: 'shuttingDown', actions: 'setExit' },
        '*': { guard: 'isForwardable', actions: 'forward' },
      },
    },
    shuttingDown: {
      entry: 'beginShutdown',
      initial: 'draining',
      on: {
        'xstate.error.actor.*': { guard: 'isLiveChild', actions: 'markStopped' },
        'xstate.done.actor.*': { guard: 'isLiveChild', actions: 'markStopped' },
        'child.failed': { guard: 'isLiveChild', actions: 'markStopped' },
        'child.ready': { actions: 'setReady' },
        // Sources keep running until their phase: services may still need their events while they drain.
        '*': { guard: 'isForwardable', actions: 'forward' },
      },
      states: {
        draining: {
          entry: 'beginPhase',
          always: [
            { guard: and(['phaseDrained', 'lastPhase']), target: '#supervisor.stopped' },
            { guard: 'phaseDrained', target: 'draining', reenter: true, actions: 'nextPhase' },
          ],
          after: { shutdownTimeout: { actions: 'forceStopPhase' } },
        },
      },
    },
    stopped: { type: 'final' },
  },
  output: ({ context }) => ({ exitCode: context.exitCode, reason: context.exitReason }),
});

export type SupervisorActor = ActorRefFrom<typeof supervisorMachine>;
