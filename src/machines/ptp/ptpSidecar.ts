// The PTP sidecar lifecycle: loading → serving → restarting → loading … A generation (config, metrics registry, line
// parser) is loaded by the named actor `loadGeneration`; lines go through the generation's parser in a plain loop
// (the data plane) and only clock verdict edges become events, sent to one clockState child per clock.
// The listener lives in the supervisor's socketServer, so a restart here closes no connection.
import { and, assign, fromPromise, sendParent, setup, type ActorRefFrom } from 'xstate';
import { clockStateMachine, type ClockStateActor, type ClockStateInput } from './clockState.js';
import type { SocketCommandEvent, SocketConnectionEvent, SocketLineEvent } from '../supervisor/sourceEvents.js';
import type { SupervisorExitEvent } from '../supervisor/spec.js';

export type ClockVerdict = 'locked' | 'outOfRange' | 'freerun' | 'holdover';

/** A clock known at load; an edge is a verdict change for one clock (both produced by the generation). */
export type ClockSeed = ClockStateInput;
export interface ClockEdge extends ClockSeed {
  verdict: ClockVerdict;
}

/** One loaded generation, opaque to the machine beyond this (implemented by src/io/ptp/generation.ts). */
export interface SidecarGeneration {
  /** Clocks whose statechart starts at load. */
  readonly seeds: readonly ClockSeed[];
  /** Parses lines, updates metrics, returns verdict edges. Never throws. */
  ingest(lines: readonly string[]): ClockEdge[];
  /** Drops the generation's metrics registry. */
  stop(): void;
}

export interface PtpSidecarInput {
  /** Child id reported in child.ready (default 'ptp'). */
  id?: string;
  /** Lines held while not serving; overflow drops the oldest. */
  queueMax: number;
  restartMode: 'inProcess' | 'process';
  /** ptp.emitLogsUrl is set: invoke `emitLogs` after each load. */
  emitLogs: boolean;
}

export interface PtpSidecarContext {
  id: string;
  queueMax: number;
  restartMode: 'inProcess' | 'process';
  emitLogs: boolean;
  generation: SidecarGeneration | undefined;
  clocks: Record<string, ClockStateActor>;
  /** Lines that arrived while not serving, oldest first. */
  queue: string[];
  queueDropped: number;
  pendingRestart: boolean;
  /** Loads started so far (1 = the first load). */
  loads: number;
}

export type PtpSidecarEvent = SocketLineEvent | SocketCommandEvent | SocketConnectionEvent | { type: 'shutdown' };

const clockSystemId = (key: string): string => `ptp.clock.${key}`;

/** Clocks the edges name that do not exist yet, once each. */
function newClocks(clocks: Record<string, ClockStateActor>, edges: readonly ClockEdge[]): ClockEdge[] {
  const seen = new Set<string>();
  const out: ClockEdge[] = [];
  for (const e of edges) {
    if (e.key in clocks || seen.has(e.key)) continue;
    seen.add(e.key);
    out.push(e);
  }
  return out;
}

function withClocks<S extends ClockSeed>(
  clocks: Record<string, ClockStateActor>,
  seeds: readonly S[],
  spawn: (seed: S) => ClockStateActor,
): Record<string, ClockStateActor> {
  const out = { ...clocks };
  for (const s of seeds) out[s.key] ??= spawn(s);
  return out;
}

function seedOf(s: ClockSeed): ClockStateInput {
  return { key: s.key, process: s.process, iface: s.iface, profile: s.profile, holdoverTimeoutMs: s.holdoverTimeoutMs };
}

const sidecarSetup = setup({
  types: {
    context: {} as PtpSidecarContext,
    input: {} as PtpSidecarInput,
    events: {} as PtpSidecarEvent,
  },
  actors: {
    /** Reads the ConfigMap, then the INI files, and builds a generation. Provided by the composition. */
    loadGeneration: fromPromise<SidecarGeneration, { load: number }>(async () => {
      throw new Error('loadGeneration not provided');
    }),
    /** GET ptp.emitLogsUrl (with a timeout) so the daemon replays its state. Provided by the composition. */
    emitLogs: fromPromise<void, { load: number }>(async () => {}),
    clockState: clockStateMachine,
  },
  guards: {
    isRestart: ({ event }) => event.type === 'socket.command' && event.command === 'RESTART',
    isLiveStart: ({ event }) => event.type === 'socket.command' && event.command === 'LIVE_START',
    restartModeIsProcess: ({ context }) => context.restartMode === 'process',
    restartPending: ({ context }) => context.pendingRestart,
    queueWouldOverflow: ({ context, event }) =>
      event.type === 'socket.line' && context.queue.length + event.lines.length > context.queueMax,
    emitLogsConfigured: ({ context }) => context.emitLogs,
  },
  delays: {
    /** After a failed load (an unexpected I/O error: missing or malformed files are not failures). */
    reloadDelay: 1_000,
  },
  actions: {
    reportReady: sendParent(({ context }, params: { ready: boolean }) => ({
      type: 'child.ready' as const,
      id: context.id,
      ready: params.ready,
    })),
    requestProcessExit: sendParent((): SupervisorExitEvent => ({
      type: 'supervisor.exit',
      code: 75, // exitCodes.ptpRestart
      reason: 'CMD RESTART with ptp.restart.mode=process',
    })),
    setPendingRestart: assign({ pendingRestart: true }),
    /** Logged by the composition: CMD LIVE_START accepted (counted by the socket server). */
    acceptLiveStart: () => {},
    /** Logged by the composition: an unknown CMD, never parsed (counted by the socket server). */
    ignoreUnknownCommand: () => {},
    /** Logged and counted by the composition; runs before queueLines drops the oldest lines. */
    queueOverflowed: (_, _params: { dropped: number }) => {},
    /** Logged by the composition. */
    logLoadFailed: () => {},
    /** Logged by the composition, with context.loads. */
    logGenerationLoaded: () => {},
    logEmitLogsFailed: () => {},
    /** The socket accepted a connection: GET emit-logs, as the reference does (coalesced by the composition). */
    requestLogsForConnection: () => {},
    /** Logged by the composition: a restart began (stopping the generation). */
    logRestart: () => {},
    queueLines: assign(({ context, event }) => {
      if (event.type !== 'socket.line') return {};
      const queue = context.queue.concat(event.lines);
      const over = queue.length - context.queueMax;
      if (over > 0) queue.splice(0, over);
      return { queue, queueDropped: context.queueDropped + Math.max(0, over) };
    }),
    beginLoad: assign(({ context }) => ({ pendingRestart: false, loads: context.loads + 1 })),
  },
});

/** Starts the clocks known at load (FREERUN), for the generation just stored in context. */
const startClocks = sidecarSetup.assign(({ context, spawn }) => ({
  clocks: withClocks({}, context.generation?.seeds ?? [], (seed) =>
    spawn('clockState', { id: `clock:${seed.key}`, systemId: clockSystemId(seed.key), input: seedOf(seed) }),
  ),
}));

type SidecarEnqueue = Parameters<Parameters<typeof sidecarSetup.enqueueActions>[0]>[0]['enqueue'];

/** Spawns the clocks the edges name for the first time, then sends each edge to its clock, in order. */
function routeEdges(enqueue: SidecarEnqueue, clocks: PtpSidecarContext['clocks'], edges: readonly ClockEdge[]): void {
  const missing = newClocks(clocks, edges);
  if (missing.length > 0) {
    enqueue.assign({
      clocks: ({ context: c, spawn }) =>
        withClocks(c.clocks, missing, (e) =>
          spawn('clockState', { id: `clock:${e.key}`, systemId: clockSystemId(e.key), input: seedOf(e) }),
        ),
    });
  }
  for (const e of edges) {
    enqueue.sendTo(({ context: c }) => c.clocks[e.key] as ClockStateActor, { type: `clock.${e.verdict}` as const });
  }
}

/** Queued lines go through the new generation before any new line. */
const drainQueue = sidecarSetup.enqueueActions(({ context, enqueue }) => {
  if (!context.generation || context.queue.length === 0) return;
  const edges = context.generation.ingest(context.queue);
  enqueue.assign({ queue: [] });
  routeEdges(enqueue, context.clocks, edges);
});

/**
 * The data plane: the generation parses the batch and updates metrics in a plain loop; only verdict edges become
 * events, routed to their clocks.
 */
const ingestLines = sidecarSetup.enqueueActions(({ context, event, enqueue }) => {
  if (event.type !== 'socket.line' || !context.generation) return;
  const edges = context.generation.ingest(event.lines);
  if (edges.length > 0) routeEdges(enqueue, context.clocks, edges);
});

/** Stops every clockState actor (and with it every holdover timer) and drops the generation's registry. */
const stopGeneration = sidecarSetup.enqueueActions(({ context, enqueue }) => {
  for (const ref of Object.values(context.clocks)) enqueue.stopChild(ref);
  const generation = context.generation;
  if (generation) enqueue(() => generation.stop());
  enqueue.assign({ generation: undefined, clocks: {} });
});

/** While not serving (loading, load failed), lines are held in a bounded queue; overflow drops the oldest, counted. */
const queueWhileNotServing = [
  {
    guard: 'queueWouldOverflow',
    actions: [
      {
        type: 'queueOverflowed',
        params: ({ context, event }: { context: PtpSidecarContext; event: PtpSidecarEvent }) => ({
          dropped: context.queue.length + (event as SocketLineEvent).lines.length - context.queueMax,
        }),
      },
      'queueLines',
    ],
  },
  { actions: 'queueLines' },
] as const;

export const ptpSidecarMachine = sidecarSetup.createMachine({
  id: 'ptpSidecar',
  context: ({ input }) => ({
    id: input.id ?? 'ptp',
    queueMax: input.queueMax,
    restartMode: input.restartMode,
    emitLogs: input.emitLogs,
    generation: undefined,
    clocks: {},
    queue: [],
    queueDropped: 0,
    pendingRestart: false,
    loads: 0,
  }),
  initial: 'loading',
  on: {
    shutdown: '.stopped',
    'socket.connected': { guard: 'emitLogsConfigured', actions: 'requestLogsForConnection' },
  },
  states: {
    loading: {
      entry: 'beginLoad',
      invoke: {
        src: 'loadGeneration',
        input: ({ context }) => ({ load: context.loads }),
        onDone: [
          // A RESTART arrived while loading: this generation may predate the daemon's newest files; load again.
          {
            guard: 'restartPending',
            target: 'restarting',
            actions: [assign({ generation: ({ event }) => event.output }), 'logGenerationLoaded'],
          },
          {
            target: 'serving',
            actions: [assign({ generation: ({ event }) => event.output }), 'logGenerationLoaded'],
          },
        ],
        onError: { target: 'loadFailed', actions: 'logLoadFailed' },
      },
      on: {
        'socket.line': queueWhileNotServing,
        'socket.command': [
          { guard: and(['isRestart', 'restartModeIsProcess']), actions: 'requestProcessExit' },
          { guard: 'isRestart', actions: 'setPendingRestart' },
          { guard: 'isLiveStart', actions: 'acceptLiveStart' },
          { actions: 'ignoreUnknownCommand' },
        ],
      },
    },
    loadFailed: {
      after: { reloadDelay: 'loading' },
      on: {
        'socket.line': queueWhileNotServing,
        'socket.command': [
          { guard: and(['isRestart', 'restartModeIsProcess']), actions: 'requestProcessExit' },
          { guard: 'isRestart', target: 'loading' },
          { guard: 'isLiveStart', actions: 'acceptLiveStart' },
          { actions: 'ignoreUnknownCommand' },
        ],
      },
    },
    serving: {
      // Load order ends here: the clocks known at load start, then the queued lines, then new lines.
      entry: [startClocks, drainQueue, { type: 'reportReady', params: { ready: true } }],
      exit: { type: 'reportReady', params: { ready: false } },
      initial: 'checkingEmitLogs',
      states: {
        checkingEmitLogs: {
          always: [{ guard: 'emitLogsConfigured', target: 'requestingLogs' }, { target: 'live' }],
        },
        requestingLogs: {
          invoke: {
            src: 'emitLogs',
            input: ({ context }) => ({ load: context.loads }),
            onDone: 'live',
            onError: { target: 'live', actions: 'logEmitLogsFailed' },
          },
        },
        live: {},
      },
      on: {
        'socket.line': { actions: ingestLines },
        'socket.command': [
          { guard: and(['isRestart', 'restartModeIsProcess']), actions: 'requestProcessExit' },
          { guard: 'isRestart', target: 'restarting' },
          { guard: 'isLiveStart', actions: 'acceptLiveStart' },
          { actions: 'ignoreUnknownCommand' },
        ],
      },
    },
    restarting: {
      entry: ['logRestart', stopGeneration],
      always: 'loading',
    },
    stopped: {
      type: 'final',
      entry: stopGeneration,
    },
  },
});

export type PtpSidecarActor = ActorRefFrom<typeof ptpSidecarMachine>;
