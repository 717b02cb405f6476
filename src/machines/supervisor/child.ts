// One supervised child's lifecycle. The supervisor spawns one of these per ChildSpec; this machine spawns the child
// itself (its id and systemId from the spec) on entry of `up` and stops it on exit, restarts it by its policy (OTP:
// permanent | transient | temporary) after an exponential backoff on the actor clock, and routes the events its
// child sends back (a source's netlink.* / socket.* events) to the concerns the supervisor's routing table names.
//
//   up.running ──error/done/failed [shouldRestart ∧ intensityExceeded]──▶ escalated (final: output.escalate)
//   up.running ──error/done/failed [shouldRestart]──▶ backoff ──after restartBackoff──▶ up
//   up.running ──error/done/failed──▶ stopped (final)
//   up.running ──supervisor.stop [drains]──▶ up.stopping ──done/error/failed, or after shutdownTimeout──▶ stopped
//   up.running | backoff ──supervisor.stop──▶ stopped
//   up.running: notReady ⇄ ready by child.ready (a child that does not report readiness is ready once running)
//
// The intensity window needs no wall clock: each restart raises a delayed `child.forgetRestart` after periodMs.
import {
  and,
  assign,
  enqueueActions,
  sendParent,
  sendTo,
  setup,
  stopChild,
  type AnyActorRef,
  type AnyEventObject,
} from 'xstate';
import type { BackoffSpec, ChildSpec } from './spec.js';
import { deliverByRoute, routesFor, soleRoute, type RoutingTable } from './routing.js';

export interface ChildLifecycleInput {
  spec: ChildSpec;
  maxRestarts: number;
  periodMs: number;
  backoff: BackoffSpec;
  shutdownTimeoutMs: number;
  /** The supervisor's routing table: event-type prefix → systemIds of the concerns that receive it. */
  routes: RoutingTable;
}

export interface ChildLifecycleContext extends ChildLifecycleInput {
  /** Restarts within the intensity window. */
  recentRestarts: number;
  /** All restarts since start. */
  totalRestarts: number;
  /** Delay before the pending restart. */
  backoffMs: number;
  lastError?: string;
}

/** What the supervisor learns when a lifecycle ends. */
export interface ChildLifecycleOutput {
  id: string;
  /** The child exceeded its restart intensity: the supervisor shuts down with exit code 70. */
  escalate: boolean;
  reason: string;
}

/** Sent by the supervisor to begin this child's part of a graceful shutdown. */
export interface ChildStopEvent {
  type: 'supervisor.stop';
}

/** Told to the supervisor (which emits them for metrics and logs). */
export type ChildNotice =
  | { type: 'child.up'; id: string }
  | { type: 'child.down'; id: string; reason: string }
  | { type: 'child.restarted'; id: string }
  | { type: 'child.dropped'; id: string; eventType: string };

const donePrefix = 'xstate.done.actor.';

export function exitReason(event: AnyEventObject): string {
  if (event.type.startsWith(donePrefix)) return 'finished';
  const e = event.error;
  if (e instanceof Error) return e.message;
  return typeof e === 'string' ? e : JSON.stringify(e ?? 'finished');
}

function nextBackoffMs(context: ChildLifecycleContext): number {
  const b = context.spec.backoff ?? context.backoff;
  return Math.min(b.maxMs, Math.round(b.initialMs * b.factor ** context.recentRestarts));
}

/** What happens when the child errors, finishes, or reports an asynchronous failure. */
const childExit = [
  {
    guard: and(['shouldRestart', 'intensityExceeded']),
    target: '#childLifecycle.escalated',
    actions: ['recordExit', 'announceDown'],
  },
  { guard: 'shouldRestart', target: '#childLifecycle.backoff', actions: ['countRestart', 'announceDown'] },
  { target: '#childLifecycle.stopped', actions: ['recordExit', 'announceDown'] },
] as const;

export const childLifecycleMachine = setup({
  types: {
    context: {} as ChildLifecycleContext,
    input: {} as ChildLifecycleInput,
    events: {} as AnyEventObject,
    output: {} as ChildLifecycleOutput,
  },
  guards: {
    /** Restart policy: permanent always, transient only after an error, temporary never. */
    shouldRestart: ({ context, event }) => {
      const policy = context.spec.restart;
      if (policy === 'temporary') return false;
      if (policy === 'transient') return !event.type.startsWith(donePrefix);
      return true;
    },
    intensityExceeded: ({ context }) => context.recentRestarts + 1 > (context.spec.maxRestarts ?? context.maxRestarts),
    drains: ({ context }) => context.spec.drain === true,
    readinessNotReported: ({ context }) => context.spec.reportsReady !== true,
    reportsReady: ({ event }) => event.type === 'child.ready' && event.ready === true,
    reportsNotReady: ({ event }) => event.type === 'child.ready' && event.ready === false,
    isRoutable: ({ context, event }) => routesFor(context.routes, event.type).length > 0,
    /** Exactly one concern receives this event type (the usual case): `forward` delivers it. */
    hasSoleRoute: ({ context, event }) => soleRoute(context.routes, event.type) !== undefined,
  },
  delays: {
    /** Exponential backoff: initialMs × factor^(restarts in the window − 1), capped at maxMs. */
    restartBackoff: ({ context }) => context.backoffMs,
    /** The intensity window: a restart counts against maxRestarts for this long. */
    intensityPeriod: ({ context }) => context.spec.periodMs ?? context.periodMs,
    shutdownTimeout: ({ context }) => context.shutdownTimeoutMs,
  },
  actions: {
    startChild: enqueueActions(({ context, enqueue }) => {
      const s = context.spec;
      enqueue.spawnChild(s.logic, { id: s.id, systemId: s.systemId, input: s.input } as never);
    }),
    announceUp: sendParent(({ context }) => ({ type: 'child.up', id: context.spec.id }) as ChildNotice),
    stopChild: stopChild(({ context }) => context.spec.id),
    announceRestart: sendParent(({ context }) => ({ type: 'child.restarted', id: context.spec.id }) as ChildNotice),
    announceDown: sendParent(({ context, event }) => ({
      type: 'child.down',
      id: context.spec.id,
      reason: event.type === 'supervisor.stop' ? 'shutdown' : exitReason(event),
    })),
    announceTimeout: sendParent(({ context }) => ({
      type: 'child.down',
      id: context.spec.id,
      reason: 'shutdown timeout',
    })),
    /** Counts the restart, computes its backoff and arms the intensity window's forget event. */
    countRestart: enqueueActions(({ context, event, enqueue }) => {
      enqueue.assign({
        backoffMs: nextBackoffMs(context),
        recentRestarts: context.recentRestarts + 1,
        totalRestarts: context.totalRestarts + 1,
        lastError: exitReason(event),
      });
      enqueue.raise({ type: 'child.forgetRestart' }, { delay: 'intensityPeriod' });
    }),
    forgetRestart: assign({ recentRestarts: ({ context }) => Math.max(0, context.recentRestarts - 1) }),
    recordExit: assign({ lastError: ({ event }) => exitReason(event) }),
    /** A draining child gets `shutdown` and shutdownTimeoutMs to finish (a final save, closed connections). */
    requestDrain: sendTo(({ context }) => context.spec.id, { type: 'shutdown' }),
    /** A service asks for the whole daemon to exit (supervisor.exit): the supervisor decides. */
    relayToSupervisor: sendParent(({ event }) => event),
    /** The one receiver of the event (the usual case) gets it; when it is not running, the event is counted. */
    forward: enqueueActions(({ context, event, enqueue, system }) => {
      const target = system.get(soleRoute(context.routes, event.type) ?? '') as AnyActorRef | undefined;
      if (target) enqueue.sendTo(target, event);
      else enqueue.raise({ type: 'child.dropped', id: context.spec.id, eventType: event.type });
    }),
    /** The events a source sends back go to every concern whose `receives` prefix matches. */
    route: enqueueActions(({ context, event, enqueue, system }) => {
      const delivered = deliverByRoute(
        context.routes,
        event.type,
        (id) => system.get(id),
        (target) => enqueue.sendTo(target, event),
      );
      if (!delivered) enqueue.raise({ type: 'child.dropped', id: context.spec.id, eventType: event.type });
    }),
    reportDropped: sendParent(({ event }) => event),
  },
}).createMachine({
  id: 'childLifecycle',
  context: ({ input }) => ({ ...input, recentRestarts: 0, totalRestarts: 0, backoffMs: 0 }),
  initial: 'up',
  on: {
    'child.forgetRestart': { actions: 'forgetRestart' },
    'child.dropped': { actions: 'reportDropped' },
  },
  states: {
    /** The child exists: spawned on entry, stopped on exit. */
    up: {
      entry: ['startChild', 'announceUp'],
      exit: 'stopChild',
      initial: 'running',
      states: {
        running: {
          initial: 'notReady',
          states: {
            notReady: {
              // A child that does not report readiness is ready as soon as it runs.
              always: { guard: 'readinessNotReported', target: 'ready' },
              on: { 'child.ready': { guard: 'reportsReady', target: 'ready' } },
            },
            ready: { on: { 'child.ready': { guard: 'reportsNotReady', target: 'notReady' } } },
          },
          on: {
            'xstate.error.actor.*': childExit,
            'xstate.done.actor.*': childExit,
            'child.failed': childExit,
            'supervisor.stop': [
              { guard: 'drains', target: 'stopping' },
              { target: '#childLifecycle.stopped', actions: 'announceDown' },
            ],
            'supervisor.exit': { actions: 'relayToSupervisor' },
            '*': [
              { guard: 'hasSoleRoute', actions: 'forward' },
              { guard: 'isRoutable', actions: 'route' },
            ],
          },
        },
        stopping: {
          entry: 'requestDrain',
          on: {
            'xstate.error.actor.*': { target: '#childLifecycle.stopped', actions: 'announceDown' },
            'xstate.done.actor.*': { target: '#childLifecycle.stopped', actions: 'announceDown' },
            'child.failed': { target: '#childLifecycle.stopped', actions: 'announceDown' },
            // Sources keep running until their own phase: a draining service may still get their events.
            '*': [
              { guard: 'hasSoleRoute', actions: 'forward' },
              { guard: 'isRoutable', actions: 'route' },
            ],
          },
          after: { shutdownTimeout: { target: '#childLifecycle.stopped', actions: 'announceTimeout' } },
        },
      },
    },
    backoff: {
      after: { restartBackoff: { target: 'up', actions: 'announceRestart' } },
      on: { 'supervisor.stop': 'stopped' },
    },
    stopped: {
      type: 'final',
      output: ({ context }) => ({ id: context.spec.id, escalate: false, reason: context.lastError ?? 'stopped' }),
    },
    escalated: {
      type: 'final',
      output: ({ context }) => ({ id: context.spec.id, escalate: true, reason: context.lastError ?? 'failed' }),
    },
  },
  output: ({ event }) => (event as unknown as { output: ChildLifecycleOutput }).output,
});
