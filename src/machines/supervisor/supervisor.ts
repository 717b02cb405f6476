// The root of the actor tree: one child lifecycle machine per ChildSpec (src/machines/supervisor/child.ts: running /
// backoff / stopping / stopped, restarts by policy with backoff and intensity), the routing table that sends source
// events to the concern machines by systemId, escalation (a child that exceeded its restart intensity shuts the
// daemon down with exit code 70) and the phased graceful shutdown (services drain first, then sources, then http).
//
// Time never comes from Date.now(): backoff, the intensity window and the drain timeout are delays on the actor
// clock (SimulatedClock in tests).
import { and, assign, emit, enqueueActions, sendTo, setup, type ActorRefFrom, type AnyActorRef } from 'xstate';
import { childLifecycleMachine, type ChildLifecycleOutput, type ChildNotice } from './child.js';
import { deliverByRoute, routesFor, routingTable, soleRoute, type RoutingTable } from './routing.js';
import type { NetlinkOldNetdevsRetiredEvent, NetlinkSourceEvent, SocketSourceEvent } from './sourceEvents.js';
import { exitCodes, type BackoffSpec, type ChildSpec, type SupervisorExitEvent } from './spec.js';

export interface SupervisorInput {
  children: ChildSpec[];
  maxRestarts: number;
  periodMs: number;
  backoff: BackoffSpec;
  shutdownTimeoutMs: number;
}

export interface SupervisorContext {
  input: SupervisorInput;
  /** Child ids in spawn order. */
  order: string[];
  specs: Record<string, ChildSpec>;
  routes: RoutingTable;
  /** Lifecycles that have not ended yet (a temporary child that stopped has ended). */
  live: string[];
  /** Shutdown phases (distinct shutdownOrder values, ascending) and the index of the one draining now. */
  phases: number[];
  phase: number;
  exitCode: number;
  exitReason: string;
  /** Source events that found no running concern (a service between restarts). */
  droppedEvents: number;
  /**
   * The running concerns by systemId, from their lifecycles' child.up / child.down notices: what the routed events are
   * sent to (a plain `sendTo`, its target read here), and what tells a missing receiver apart before the send.
   */
  receivers: Record<string, AnyActorRef>;
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

/** A lifecycle ended: `xstate.done.actor.<id>` with its output. */
export interface LifecycleDoneEvent {
  type: `xstate.done.actor.${string}`;
  output: ChildLifecycleOutput;
}

/** The source events the supervisor routes to the concerns (by the `receives` prefixes of their specs). */
export type RoutedEvent = NetlinkSourceEvent | NetlinkOldNetdevsRetiredEvent | SocketSourceEvent;

export type SupervisorEvent =
  SupervisorShutdownEvent | SupervisorExitEvent | ChildNotice | LifecycleDoneEvent | RoutedEvent;

/** Emitted for observers (metrics, logs): `actor.on('child.restarted', …)`. */
export type SupervisorEmitted =
  | Exclude<ChildNotice, { type: 'child.dropped' }>
  | { type: 'supervisor.shuttingDown'; exitCode: number; reason: string };

/** The lifecycle a child's state lives in (the supervisor's child with the spec's id). */
export type ChildLifecycleRef = ActorRefFrom<typeof childLifecycleMachine>;

const donePrefix = 'xstate.done.actor.';

/** The systemId of a child's lifecycle machine. */
export const lifecycleSystemId = (id: string): string => `supervisor.${id}`;

function lifecycleOutput(event: { type: string; output?: unknown }): ChildLifecycleOutput | undefined {
  return event.type.startsWith(donePrefix) ? (event.output as ChildLifecycleOutput | undefined) : undefined;
}

/**
 * The receiver with this systemId when it is running. A child.down notice is queued behind the stop of its child, so
 * the ref's own status is checked too: an event routed in between is counted, not sent to a stopped actor.
 */
function runningReceiver(context: SupervisorContext, systemId: string | undefined): AnyActorRef | undefined {
  const ref = systemId === undefined ? undefined : context.receivers[systemId];
  return ref !== undefined && ref.getSnapshot().status === 'active' ? ref : undefined;
}

/** The one running receiver of an event of this type (the usual case: exactly one concern receives it). */
function soleReceiver(context: SupervisorContext, type: string): AnyActorRef | undefined {
  return runningReceiver(context, soleRoute(context.routes, type));
}

/**
 * The target of `forward`: the sole receiver its guard (soleReceiverRunning) has just found running in the same
 * microstep, so its status is not read again.
 */
function forwardTarget(context: SupervisorContext, type: string): AnyActorRef {
  return context.receivers[soleRoute(context.routes, type)!]!;
}

/** Live lifecycles of the phase being drained. */
function phaseChildren(context: SupervisorContext): string[] {
  const order = context.phases[context.phase];
  return context.live.filter((id) => (context.specs[id]!.shutdownOrder ?? 0) === order);
}

export const supervisorMachine = setup({
  types: {
    context: {} as SupervisorContext,
    input: {} as SupervisorInput,
    events: {} as SupervisorEvent,
    output: {} as SupervisorOutput,
    emitted: {} as SupervisorEmitted,
  },
  actors: { childLifecycle: childLifecycleMachine },
  guards: {
    /** The lifecycle that ended says its child exceeded its restart intensity. */
    childEscalated: ({ event }) => lifecycleOutput(event)?.escalate === true,
    isRoutable: ({ context, event }) => routesFor(context.routes, event.type).length > 0,
    /** Exactly one concern receives this event type (the usual case) and it is running: `forward` sends it there. */
    soleReceiverRunning: ({ context, event }) => soleReceiver(context, event.type) !== undefined,
    /** Exactly one concern receives this event type: when it is not running (between restarts) the event is counted. */
    hasSoleRoute: ({ context, event }) => soleRoute(context.routes, event.type) !== undefined,
    phaseDrained: ({ context }) => phaseChildren(context).length === 0,
    lastPhase: ({ context }) => context.phase >= context.phases.length - 1,
  },
  actions: {
    spawnLifecycles: enqueueActions(({ context, enqueue }) => {
      const { input } = context;
      for (const id of context.order)
        enqueue.spawnChild('childLifecycle', {
          id,
          // Named, so that traces record what a source sends to it and a replay can deliver it there.
          systemId: lifecycleSystemId(id),
          input: {
            spec: context.specs[id]!,
            maxRestarts: input.maxRestarts,
            periodMs: input.periodMs,
            backoff: input.backoff,
            shutdownTimeoutMs: input.shutdownTimeoutMs,
            routes: context.routes,
          },
        });
    }),
    /** A child's lifecycle notice (up, down, restarted) becomes an emitted event for metrics and logs. */
    emitNotice: emit(({ event }) => event as SupervisorEmitted),
    countDropped: assign({ droppedEvents: ({ context }) => context.droppedEvents + 1 }),
    /** A child is up (spawned, or restarted): its ref becomes the target of the events routed to its systemId. */
    trackReceiver: assign({
      receivers: ({ context, event, system }) => {
        const systemId = context.specs[(event as ChildNotice).id]?.systemId;
        const ref = systemId === undefined ? undefined : (system.get(systemId) as AnyActorRef | undefined);
        return ref === undefined ? context.receivers : { ...context.receivers, [systemId!]: ref };
      },
    }),
    /** A child is down: events routed to it are counted until it is up again. */
    forgetReceiver: assign({
      receivers: ({ context, event }) => {
        const systemId = context.specs[(event as ChildNotice).id]?.systemId;
        if (systemId === undefined || !(systemId in context.receivers)) return context.receivers;
        const { [systemId]: _gone, ...rest } = context.receivers;
        return rest;
      },
    }),
    forgetLifecycle: assign({
      live: ({ context, event }) => {
        const id = lifecycleOutput(event)?.id;
        return id === undefined ? context.live : context.live.filter((x) => x !== id);
      },
    }),
    setExit: assign(({ event }) => {
      if (event.type === 'supervisor.exit') {
        const e = event as SupervisorExitEvent;
        return { exitCode: e.code, exitReason: e.reason };
      }
      if (event.type === 'shutdown')
        return { exitCode: exitCodes.ok, exitReason: (event as SupervisorShutdownEvent).reason ?? 'shutdown' };
      const out = lifecycleOutput(event);
      return {
        exitCode: exitCodes.software,
        exitReason: `child ${out?.id ?? '?'} exceeded its restart intensity: ${out?.reason ?? ''}`,
      };
    }),
    /** The one running receiver of the event (guarded by soleReceiverRunning) gets it. */
    forward: sendTo(
      ({ context, event }) => forwardTarget(context, event.type),
      ({ event }) => event,
    ),
    /** Sends the event to every running concern whose `receives` prefix matches; counts it when none is there. */
    route: enqueueActions(({ context, event, enqueue }) => {
      const delivered = deliverByRoute(
        context.routes,
        event.type,
        (id) => runningReceiver(context, id),
        (target) => enqueue.sendTo(target, event),
      );
      if (!delivered) enqueue.assign({ droppedEvents: context.droppedEvents + 1 });
    }),
    announceShutdown: emit(({ context }) => ({
      type: 'supervisor.shuttingDown' as const,
      exitCode: context.exitCode,
      reason: context.exitReason,
    })),
    /** Every live lifecycle of the current phase is told to stop: drain children get shutdownTimeoutMs. */
    stopPhase: enqueueActions(({ context, enqueue }) => {
      for (const id of phaseChildren(context)) enqueue.sendTo(id, { type: 'supervisor.stop' });
    }),
    nextPhase: assign({ phase: ({ context }) => context.phase + 1 }),
  },
}).createMachine({
  id: 'supervisor',
  context: ({ input }) => {
    const specs: Record<string, ChildSpec> = {};
    for (const s of input.children) specs[s.id] = s;
    const order = input.children.map((s) => s.id);
    return {
      input,
      order,
      specs,
      routes: routingTable(input.children),
      live: order,
      phases: [...new Set(input.children.map((s) => s.shutdownOrder ?? 0))].sort((a, b) => a - b),
      phase: 0,
      exitCode: exitCodes.ok,
      exitReason: '',
      droppedEvents: 0,
      receivers: {},
    };
  },
  initial: 'running',
  on: {
    'child.up': { actions: ['trackReceiver', 'emitNotice'] },
    'child.down': { actions: ['forgetReceiver', 'emitNotice'] },
    'child.restarted': { actions: 'emitNotice' },
    'child.dropped': { actions: 'countDropped' },
  },
  states: {
    running: {
      entry: 'spawnLifecycles',
      on: {
        'xstate.done.actor.*': [
          { guard: 'childEscalated', target: 'shuttingDown', actions: ['forgetLifecycle', 'setExit'] },
          { actions: 'forgetLifecycle' },
        ],
        shutdown: { target: 'shuttingDown', actions: 'setExit' },
        'supervisor.exit': { target: 'shuttingDown', actions: 'setExit' },
        '*': [
          { guard: 'soleReceiverRunning', actions: 'forward' },
          { guard: 'hasSoleRoute', actions: 'countDropped' },
          { guard: 'isRoutable', actions: 'route' },
        ],
      },
    },
    shuttingDown: {
      entry: 'announceShutdown',
      initial: 'draining',
      on: {
        'xstate.done.actor.*': { actions: 'forgetLifecycle' },
        // Sources keep running until their phase: services may still need their events while they drain.
        '*': [
          { guard: 'soleReceiverRunning', actions: 'forward' },
          { guard: 'hasSoleRoute', actions: 'countDropped' },
          { guard: 'isRoutable', actions: 'route' },
        ],
      },
      states: {
        draining: {
          entry: 'stopPhase',
          always: [
            { guard: and(['phaseDrained', 'lastPhase']), target: '#supervisor.stopped' },
            { guard: 'phaseDrained', target: 'draining', reenter: true, actions: 'nextPhase' },
          ],
        },
      },
    },
    stopped: { type: 'final' },
  },
  output: ({ context }) => ({ exitCode: context.exitCode, reason: context.exitReason }),
});

export type SupervisorActor = ActorRefFrom<typeof supervisorMachine>;

/** A child's state as observers see it (health detail, tests): read from its lifecycle's public snapshot. */
export interface ChildView {
  status: 'running' | 'backoff' | 'stopping' | 'stopped';
  ready: boolean;
  recentRestarts: number;
  totalRestarts: number;
  lastError?: string;
}

export function childView(root: { getSnapshot(): unknown }, id: string): ChildView {
  const snap = root.getSnapshot() as { children: Record<string, ChildLifecycleRef | undefined> };
  const ref = snap.children[id];
  if (!ref) return { status: 'stopped', ready: false, recentRestarts: 0, totalRestarts: 0 };
  const s = ref.getSnapshot();
  const c = s.context;
  const base = { recentRestarts: c.recentRestarts, totalRestarts: c.totalRestarts, lastError: c.lastError };
  if (s.status !== 'active') return { status: 'stopped', ready: false, ...base };
  if (s.matches('backoff')) return { status: 'backoff', ready: false, ...base };
  if (s.matches({ up: 'stopping' })) return { status: 'stopping', ready: false, ...base };
  return { status: 'running', ready: s.matches({ up: { running: 'ready' } }), ...base };
}

/**
 * Calls `onChange` whenever the supervisor or any child's lifecycle changes state (a child becomes ready, goes into
 * backoff, …): the lifecycles live as long as the supervisor, so one subscription each is enough. Returns unsubscribe.
 */
export function watchTree(root: SupervisorActor, onChange: () => void): () => void {
  const subs = [root.subscribe({ next: onChange, error: () => undefined })];
  for (const ref of Object.values(root.getSnapshot().children))
    if (ref) subs.push(ref.subscribe({ next: onChange, error: () => undefined }));
  return () => subs.forEach((s) => s.unsubscribe());
}
