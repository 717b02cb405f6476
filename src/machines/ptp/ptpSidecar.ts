// The PTP sidecar lifecycle: loading → serving → restarting → loading … A generation (config, metrics registry, line
// parser) is loaded by the named actor `loadGeneration`. While serving, two actors are invoked: `clockBank` (the
// clockState actors of this generation) and `ptpGeneration` (the data plane: lines in, verdict edges out). Lines are
// forwarded to the generation actor, its edges to the clock bank, and the clocks' state changes come back here to be
// logged, recorded in the clock_state gauge (by the generation actor) and emitted to observers. Leaving `serving` ends
// both invocations: that is the one place a generation and its clocks stop. The machine itself does no I/O: every
// transition only names actions (a pure `transition()` parses nothing and updates no metric).
// The listener lives in the supervisor's socketServer, so a restart here closes no connection; while the queue of
// lines held during a load is full, the sidecar asks the socketServer to stop reading (backpressure). While serving,
// the lines of a read take the direct path (named entry / exit actions `attachLineSink` / `detachLineSink`: the
// socketServer hands them to the serving generation actor without a socket.line event); `forwardLines` is the chart
// path for a line that still arrives as an event (the direct path off, or a replay of a trace).
import { providedAction, providedCallback, providedDefault, providedPromise } from '../provided.js';
import { and, assign, emit, fromPromise, raise, sendParent, sendTo, setup, type ActorRefFrom } from 'xstate';
import type { SocketCommandEvent, SocketConnectionEvent, SocketLineEvent } from '../supervisor/sourceEvents.js';
import { exitCodes, type SupervisorExitEvent } from '../supervisor/spec.js';
import { clockBankPlaceholder, type ClockType } from './clockState.js';
import type {
  ClockStateChanged,
  ClockStateName,
  GenerationEdgesEvent,
  GenerationInputEvent,
  OsClockDisciplineChanged,
  OsClockOwnerChanged,
  OsClockStateChanged,
  SidecarEmitted,
  SidecarGeneration,
  SyncStateChanged,
} from './events.js';

export type {
  ClockEdge,
  ClockSeed,
  ClockStateChanged,
  ClockVerdict,
  SidecarGeneration,
  GenerationEdgesEvent,
} from './events.js';

/** ptp.queueMaxBytes's default (16 MiB). */
export const defaultQueueMaxBytes = 16 * 1024 * 1024;

export interface PtpSidecarInput {
  /** Child id reported in child.ready (default 'ptp'). */
  id?: string;
  /**
   * Bytes of lines held while not serving (UTF-16 code units + 1 per line: = bytes for the ASCII linuxptp writes).
   * At the bound the sidecar stops reading the sockets; lines already read beyond it are dropped and counted.
   */
  queueMaxBytes?: number;
  restartMode: 'inProcess' | 'process';
  /** ptp.emitLogsUrl is set: invoke `emitLogs` after each load. */
  emitLogs: boolean;
}

/** How many clocks are in each state (kept per change, so no rule walks all clocks). */
export type StateCounts = Record<ClockStateName, number>;

/**
 * Per profile, counted by state: its phc2sys clocks, its ptp4l clocks and its status clocks (T-BC, GM: the daemon's
 * verdict on the whole PTP clock).
 */
interface ProfileCounts {
  phc2sys: StateCounts;
  ptp4l: StateCounts;
  status: StateCounts;
  /** Its chronyd CLOCK_REALTIME (the OS clock while chronyd owns it, NTP failover). */
  chronyd: StateCounts;
  /** 1 while the profile's osClockDiscipline chart says phc2sys no longer disciplines CLOCK_REALTIME. */
  undisciplined: number;
}
const noProfileClocks = (): ProfileCounts => ({
  phc2sys: noClocks(),
  ptp4l: noClocks(),
  status: noClocks(),
  chronyd: noClocks(),
  undisciplined: 0,
});

export interface PtpSidecarContext {
  id: string;
  queueMaxBytes: number;
  restartMode: 'inProcess' | 'process';
  emitLogs: boolean;
  generation: SidecarGeneration | undefined;
  /**
   * Lines that arrived while not serving, oldest first, as the socket handed them over (texts of lines each followed
   * by `\n`), and their size (see queueMaxBytes).
   */
  queue: string[];
  queueBytes: number;
  queueDropped: number;
  pendingRestart: boolean;
  /** Loads started so far (1 = the first load). */
  loads: number;
  /** Clocks of this generation by state: all of them, and per profile (the OS-clock and sync-state rules). */
  clockCounts: StateCounts;
  profileCounts: Record<string, ProfileCounts>;
  /** The OS clock state per profile, and the node's sync state, last reported. */
  osClock: Record<string, ClockStateName>;
  /**
   * Who disciplines CLOCK_REALTIME, per profile with NTP failover, as its osClockOwner chart last reported (the chart
   * holds the rule; absent = phc2sys, the owner at every load).
   */
  osClockOwner: Record<string, OsClockOwnerChanged['owner']>;
  syncState: ClockStateName | null;
}

export type PtpSidecarEvent =
  | SocketLineEvent
  | SocketCommandEvent
  | SocketConnectionEvent
  | GenerationEdgesEvent
  | ClockStateChanged
  | OsClockDisciplineChanged
  | OsClockOwnerChanged
  | { type: 'ptp.checkOsClock'; profile: string }
  | { type: 'ptp.checkSyncState' }
  | { type: 'shutdown' };

/**
 * How much of `text` (lines each followed by `\n`) fits in the queue: the length of its longest run of whole lines
 * from the start that does (a line's size is its length + 1, its `\n`).
 */
function fitting(context: PtpSidecarContext, text: string): number {
  const room = context.queueMaxBytes - context.queueBytes;
  if (text.length <= room) return text.length;
  return room > 0 ? text.lastIndexOf('\n', room - 1) + 1 : 0;
}

/** The lines of text[from…] (each followed by `\n`; a last one without is a line too). */
function linesIn(text: string, from: number): number {
  let n = 0;
  for (let i = text.indexOf('\n', from); i >= 0; i = text.indexOf('\n', i + 1)) n++;
  return text.length > from && !text.endsWith('\n') ? n + 1 : n;
}

const rank: Record<ClockStateName, number> = { LOCKED: 0, HOLDOVER: 1, FREERUN: 2 };
const noClocks = (): StateCounts => ({ LOCKED: 0, HOLDOVER: 0, FREERUN: 0 });
/** The worst state present in the counts: FREERUN > HOLDOVER > LOCKED; null when empty. */
function worstOf(c: StateCounts): ClockStateName | null {
  return c.FREERUN > 0 ? 'FREERUN' : c.HOLDOVER > 0 ? 'HOLDOVER' : c.LOCKED > 0 ? 'LOCKED' : null;
}
function moved(c: StateCounts, from: ClockStateName | null, to: ClockStateName): StateCounts {
  const out = { ...c };
  if (from !== null) out[from] -= 1;
  out[to] += 1;
  return out;
}
/** Which count of its profile a clock's state goes to (the OS-clock rule); other processes are not counted there. */
const profileRole = (process: string): 'phc2sys' | 'ptp4l' | 'status' | 'chronyd' | undefined =>
  process === 'phc2sys'
    ? 'phc2sys'
    : process === 'ptp4l'
      ? 'ptp4l'
      : process === 'T-BC' || process === 'GM'
        ? 'status'
        : process === 'chronyd'
          ? 'chronyd'
          : undefined;

/**
 * The PTP clock of a profile (O-RAN E1): its T-BC / GM status clocks when it has one (the daemon's verdict on the
 * whole clock: a T-BC in holdover is HOLDOVER even though its ptp4l port was lost), else its ptp4l clocks.
 */
function ptpClockOf(p: ProfileCounts): ClockStateName | null {
  return worstOf(p.status) ?? worstOf(p.ptp4l);
}

/** Who disciplines the profile's CLOCK_REALTIME (its osClockOwner chart; phc2sys unless it reported chronyd). */
const ownerOf = (context: PtpSidecarContext, profile: string): OsClockOwnerChanged['owner'] =>
  context.osClockOwner[profile] ?? 'phc2sys';

/** The profiles with NTP failover (`chronydOpts`) of the serving generation. */
const chronydProfilesOf = (context: PtpSidecarContext): readonly string[] =>
  (context.generation as { chronydProfiles?: readonly string[] } | undefined)?.chronydProfiles ?? [];

/**
 * OS clock (O-RAN E3, Table 37) of a profile = the worst of phc2sys's CLOCK_REALTIME and the profile's PTP clock
 * (E1): a FREERUN GM forces it FREERUN; FREERUN while phc2sys no longer disciplines CLOCK_REALTIME
 * (osClockDiscipline); undefined while the profile has no phc2sys clock yet. While chronyd owns CLOCK_REALTIME (NTP
 * failover, osClockOwner), it is chronyd's state (undefined until chronyd reported one).
 */
function osClockOf(context: PtpSidecarContext, profile: string): ClockStateName | undefined {
  const p = context.profileCounts[profile];
  if (ownerOf(context, profile) === 'chronyd') return p ? (worstOf(p.chronyd) ?? undefined) : undefined;
  if (p && p.undisciplined > 0) return 'FREERUN';
  const phc2sys = p ? worstOf(p.phc2sys) : null;
  if (!p || phc2sys === null) return undefined;
  const ptp = ptpClockOf(p);
  return ptp === null || rank[phc2sys] >= rank[ptp] ? phc2sys : ptp;
}

/** The profile runs chronyd (`chronydOpts`): its chronyd CLOCK_REALTIME is the OS clock while chronyd owns it. */
const isFailoverProfile = (context: PtpSidecarContext, profile: string): boolean =>
  chronydProfilesOf(context).includes(profile);

const sidecarSetup = setup({
  types: {
    context: {} as PtpSidecarContext,
    input: {} as PtpSidecarInput,
    events: {} as PtpSidecarEvent,
    emitted: {} as SidecarEmitted,
  },
  actors: {
    /** Reads the ConfigMap, then the INI files, and builds a generation. Provided by the composition. */
    loadGeneration: providedPromise<SidecarGeneration, { load: number }>('loadGeneration'),
    /** GET ptp.emitLogsUrl (with a timeout) so the daemon replays its state. Provided by the composition. */
    emitLogs: providedDefault(fromPromise<void, { load: number }>(async () => {})),
    /**
     * The data plane of the serving generation: `ptp.lines` in, `ptp.edges` out; stopping it drops the generation.
     * Provided by the composition (src/actors/ptp/generationActor.ts).
     */
    ptpGeneration: providedCallback<
      GenerationInputEvent,
      /** backlog: the queue's texts (lines each followed by `\n`), oldest first. */
      { generation: SidecarGeneration; backlog: readonly string[] }
    >('ptpGeneration'),
    /** The clockState actors of the serving generation (src/actors/ptp/clockBank.ts). Provided by the composition. */
    clockBank: clockBankPlaceholder,
  },
  guards: {
    isRestart: ({ event }) => event.type === 'socket.command' && event.command === 'RESTART',
    isLiveStart: ({ event }) => event.type === 'socket.command' && event.command === 'LIVE_START',
    restartModeIsProcess: ({ context }) => context.restartMode === 'process',
    restartPending: ({ context }) => context.pendingRestart,
    /** Some lines of this batch do not fit in queueMaxBytes. */
    queueWouldOverflow: ({ context, event }) =>
      event.type === 'socket.line' && fitting(context, event.lines) < event.lines.length,
    emitLogsConfigured: ({ context }) => context.emitLogs,
    /** The profile's OS clock (worst of phc2sys and its PTP clock) differs from the one last reported. */
    osClockChanged: ({ context, event }) => {
      if (event.type !== 'ptp.checkOsClock') return false;
      const now = osClockOf(context, event.profile);
      return now !== undefined && now !== context.osClock[event.profile];
    },
    /** The worst clock of all differs from the sync state last reported. */
    syncStateChanged: ({ context }) => worstOf(context.clockCounts) !== context.syncState,
    /**
     * phc2sys's CLOCK_REALTIME gauge (or chronyd's, in a profile with NTP failover) shows the OS clock (worst of
     * phc2sys and the PTP clock, or chronyd's state while it owns CLOCK_REALTIME), set by the OS-clock
     * rule, not phc2sys's own verdict.
     */
    isOsClock: ({ context, event }) =>
      event.type === 'clock.stateChanged' &&
      (event.process === 'phc2sys' ||
        (event.process === 'chronyd' && event.iface === 'CLOCK_REALTIME' && isFailoverProfile(context, event.profile))),
    /** A synce4l port clock changed: its device's overall state (synceDevice, in the clock bank) may change too. */
    isSyncePort: ({ event }) => event.type === 'clock.stateChanged' && event.synce?.level === 'port',
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
      code: exitCodes.tempfail,
      reason: 'CMD RESTART with ptp.restart.mode=process',
    })),
    setPendingRestart: assign({ pendingRestart: true }),
    /** Logged by the composition: CMD LIVE_START accepted (counted by the socket server). */
    acceptLiveStart: providedAction(),
    /** Logged by the composition: an unknown CMD, never parsed (counted by the socket server). */
    ignoreUnknownCommand: providedAction(),
    /** Logged (rate-limited) and counted by the composition: lines read while the queue was full, dropped. */
    queueOverflowed: providedAction<{ dropped: number }>(),
    /** The queue is full: the composition pauses reading the sockets (backpressure). */
    pauseReading: providedAction(),
    /** Serving again: the composition resumes reading the sockets. */
    resumeReading: providedAction(),
    /**
     * Serving: the composition opens the direct path of lines (the socketServer hands each read to the serving
     * generation's ingest, offered by the generation actor once its backlog is parsed; no socket.line event).
     */
    attachLineSink: providedAction(),
    /** Leaving `serving` (a restart, the shutdown): lines come as socket.line events again (the load queue). */
    detachLineSink: providedAction(),
    /** Logged by the composition. */
    logLoadFailed: providedAction(),
    /**
     * A generation loaded while a RESTART was pending is never served: the composition drops it (its registry was
     * never attached). Served generations are dropped by the end of their invocation instead.
     */
    discardGeneration: providedAction(),
    /** Logged by the composition, with context.loads. */
    logGenerationLoaded: providedAction(),
    logEmitLogsFailed: providedAction(),
    /** The socket accepted a connection: GET emit-logs, as the reference does (coalesced by the composition). */
    requestLogsForConnection: providedAction(),
    /** Logged by the composition: a restart began (the serving invocations end). */
    logRestart: providedAction(),
    /** Logged by the composition: one clock entered a state. */
    logClockState: providedAction<ClockStateChanged>(),
    /** Queues what fits of the batch; the rest is dropped (counted in queueDropped). */
    queueLines: assign(({ context, event }) => {
      if (event.type !== 'socket.line') return {};
      const text = event.lines;
      const n = fitting(context, text);
      if (n === 0) return { queueDropped: context.queueDropped + linesIn(text, 0) };
      return {
        queue: context.queue.concat(n === text.length ? text : text.slice(0, n)),
        queueBytes: context.queueBytes + n,
        queueDropped: context.queueDropped + (n === text.length ? 0 : linesIn(text, n)),
      };
    }),
    /** The queue went to the generation actor as its backlog. */
    forgetBacklog: assign({ queue: [], queueBytes: 0 }),
    /** A new load: the clocks of the last generation are gone (their counts kept until now for the restart log). */
    beginLoad: assign(({ context }) => ({
      pendingRestart: false,
      loads: context.loads + 1,
      clockCounts: noClocks(),
      profileCounts: {},
      osClock: {},
      osClockOwner: {},
      syncState: null,
    })),
    storeGeneration: assign({
      generation: ({ event }) => (event as unknown as { output: SidecarGeneration }).output,
    }),
    dropGeneration: assign({ generation: undefined }),
    /**
     * The data plane's chart path: the batch goes to the generation actor (parsed there, not here). While serving,
     * lines normally take the direct path (attachLineSink) and never reach the chart.
     */
    forwardLines: sendTo('generation', ({ event }) => ({
      type: 'ptp.lines' as const,
      lines: (event as SocketLineEvent).lines,
    })),
    /** Verdict edges from the generation actor go to their clocks. */
    forwardEdges: sendTo('clocks', ({ event }) => event as GenerationEdgesEvent),
    /** A synce4l port's state goes to its device's synceDevice chart (held by the clock bank). */
    forwardSyncePortState: sendTo('clocks', ({ event }) => {
      const e = event as ClockStateChanged;
      return {
        type: 'synce.portState' as const,
        device: e.synce?.device ?? '',
        port: e.iface,
        profile: e.profile,
        state: e.to,
      };
    }),
    /** The generation actor sets openshift_ptp_clock_state for the clock. */
    recordClockState: sendTo('generation', ({ event }) => {
      const e = event as ClockStateChanged;
      return { type: 'ptp.clockState' as const, process: e.process, iface: e.iface, state: e.to };
    }),
    /** Observers (O-RAN events, inspector) get the change: `sidecarRef.on('clock.stateChanged', …)`. */
    emitClockState: emit(({ event }) => event as ClockStateChanged),
    /** Counts the change (from → to) overall and in its profile: O(1), whatever the number of clocks. */
    rememberClockState: assign(({ context, event }) => {
      const e = event as ClockStateChanged;
      const role = profileRole(e.process);
      const profileCounts =
        role === undefined
          ? context.profileCounts
          : (() => {
              const p = context.profileCounts[e.profile] ?? noProfileClocks();
              return { ...context.profileCounts, [e.profile]: { ...p, [role]: moved(p[role], e.from, e.to) } };
            })();
      return { clockCounts: moved(context.clockCounts, e.from, e.to), profileCounts };
    }),
    /** The profile's osClockDiscipline chart said whether CLOCK_REALTIME is disciplined (then the OS-clock rule). */
    rememberDiscipline: assign(({ context, event }) => {
      const e = event as OsClockDisciplineChanged;
      const p = context.profileCounts[e.profile] ?? noProfileClocks();
      return {
        profileCounts: { ...context.profileCounts, [e.profile]: { ...p, undisciplined: e.disciplined ? 0 : 1 } },
      };
    }),
    checkOsClockOfDiscipline: raise(({ event }) => ({
      type: 'ptp.checkOsClock' as const,
      profile: (event as OsClockDisciplineChanged).profile,
    })),
    /** The profile's osClockOwner chart handed CLOCK_REALTIME over (NTP failover). */
    rememberOsClockOwner: assign({
      osClockOwner: ({ context, event }) => {
        const e = event as OsClockOwnerChanged;
        return { ...context.osClockOwner, [e.profile]: e.owner };
      },
    }),
    /**
     * One clock_state{iface="CLOCK_REALTIME"} series per profile, the owner's: the one that handed over is removed,
     * the new owner's shows the OS clock (or, until the new owner reported a state, the last one reported).
     */
    dropPreviousOwnerSeries: sendTo('generation', ({ event }) => {
      const e = event as OsClockOwnerChanged;
      return {
        type: 'ptp.clockState' as const,
        process: e.owner === 'chronyd' ? 'phc2sys' : 'chronyd',
        iface: 'CLOCK_REALTIME',
        state: null,
      };
    }),
    recordOwnerSeries: sendTo('generation', ({ context, event }) => {
      const e = event as OsClockOwnerChanged;
      return {
        type: 'ptp.clockState' as const,
        process: e.owner,
        iface: 'CLOCK_REALTIME',
        state: osClockOf(context, e.profile) ?? context.osClock[e.profile] ?? 'FREERUN',
      };
    }),
    checkOsClockOfOwner: raise(({ event }) => ({
      type: 'ptp.checkOsClock' as const,
      profile: (event as OsClockOwnerChanged).profile,
    })),
    emitOsClockState: emit(({ context, event }): OsClockStateChanged => {
      const profile = (event as { profile: string }).profile;
      return {
        type: 'ptp.osClockStateChanged',
        profile,
        from: context.osClock[profile] ?? null,
        to: osClockOf(context, profile) ?? 'FREERUN',
      };
    }),
    rememberOsClockState: assign({
      osClock: ({ context, event }) => {
        const p = (event as { profile: string }).profile;
        return { ...context.osClock, [p]: osClockOf(context, p) ?? 'FREERUN' };
      },
    }),
    /**
     * The generation actor sets clock_state{process=<owner>, iface="CLOCK_REALTIME"} to the OS clock state (the owner
     * is phc2sys, or chronyd while it disciplines CLOCK_REALTIME in a profile with NTP failover).
     */
    recordOsClockState: sendTo('generation', ({ context, event }) => ({
      type: 'ptp.clockState' as const,
      process: ownerOf(context, (event as { profile: string }).profile),
      iface: 'CLOCK_REALTIME',
      state: osClockOf(context, (event as { profile: string }).profile) ?? 'FREERUN',
    })),
    checkOsClock: raise(({ event }) => ({
      type: 'ptp.checkOsClock' as const,
      profile: (event as ClockStateChanged).profile,
    })),
    checkSyncState: raise({ type: 'ptp.checkSyncState' as const }),
    emitSyncState: emit(({ context }): SyncStateChanged => ({
      type: 'ptp.syncStateChanged',
      from: context.syncState,
      to: worstOf(context.clockCounts) ?? 'FREERUN',
    })),
    rememberSyncState: assign({ syncState: ({ context }) => worstOf(context.clockCounts) }),
  },
});

/** While not serving (loading, load failed), lines are held in a queue bounded in bytes; at the bound, backpressure. */
const queueWhileNotServing = [
  {
    guard: 'queueWouldOverflow',
    actions: [
      {
        type: 'queueOverflowed',
        params: ({ context, event }: { context: PtpSidecarContext; event: PtpSidecarEvent }) => {
          const text = (event as SocketLineEvent).lines;
          return { dropped: linesIn(text, fitting(context, text)) };
        },
      },
      'queueLines',
      'pauseReading',
    ],
  },
  { actions: 'queueLines' },
] as const;

/** A clock entered a state: log, gauge, observers; then the derived OS-clock and sync-state rules (raised). */
const clockStateActions = [
  { type: 'logClockState', params: ({ event }: { event: PtpSidecarEvent }) => event as ClockStateChanged },
  'emitClockState',
  'rememberClockState',
  'checkOsClock',
  'checkSyncState',
] as const;

export const ptpSidecarMachine = sidecarSetup.createMachine({
  id: 'ptpSidecar',
  context: ({ input }) => ({
    id: input.id ?? 'ptp',
    queueMaxBytes: input.queueMaxBytes ?? defaultQueueMaxBytes,
    restartMode: input.restartMode,
    emitLogs: input.emitLogs,
    generation: undefined,
    queue: [],
    queueBytes: 0,
    queueDropped: 0,
    pendingRestart: false,
    loads: 0,
    clockCounts: noClocks(),
    profileCounts: {},
    osClock: {},
    osClockOwner: {},
    syncState: null,
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
            actions: ['logGenerationLoaded', 'discardGeneration'],
          },
          {
            target: 'serving',
            actions: ['storeGeneration', 'logGenerationLoaded'],
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
      // Load order: the clocks known at load start (clockBank), then the queued lines (the generation's backlog),
      // then new lines. Leaving this state stops both invocations: the generation and its clocks end here.
      entry: ['resumeReading', 'attachLineSink', { type: 'reportReady', params: { ready: true } }],
      exit: ['detachLineSink', 'dropGeneration', { type: 'reportReady', params: { ready: false } }],
      invoke: [
        {
          id: 'clocks',
          src: 'clockBank',
          input: ({ context, self }) => ({
            seeds: context.generation?.seeds ?? [],
            owner: self,
            clockTypes:
              (context.generation as { clockTypes?: Record<string, ClockType> } | undefined)?.clockTypes ?? {},
            chronydProfiles: chronydProfilesOf(context),
          }),
        },
        {
          id: 'generation',
          src: 'ptpGeneration',
          input: ({ context }) => ({ generation: context.generation!, backlog: context.queue }),
        },
      ],
      initial: 'checkingEmitLogs',
      states: {
        checkingEmitLogs: {
          // Entered after the invocations started with the backlog: the queue is theirs now.
          entry: 'forgetBacklog',
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
        'socket.line': { actions: 'forwardLines' },
        'ptp.edges': { actions: 'forwardEdges' },
        'clock.stateChanged': [
          { guard: 'isOsClock', actions: clockStateActions },
          { guard: 'isSyncePort', actions: ['recordClockState', ...clockStateActions, 'forwardSyncePortState'] },
          { actions: ['recordClockState', ...clockStateActions] },
        ],
        'ptp.osClockDiscipline': { actions: ['rememberDiscipline', 'checkOsClockOfDiscipline'] },
        'ptp.osClockOwner': {
          actions: ['rememberOsClockOwner', 'dropPreviousOwnerSeries', 'recordOwnerSeries', 'checkOsClockOfOwner'],
        },
        'ptp.checkOsClock': {
          guard: 'osClockChanged',
          actions: ['recordOsClockState', 'emitOsClockState', 'rememberOsClockState'],
        },
        'ptp.checkSyncState': { guard: 'syncStateChanged', actions: ['emitSyncState', 'rememberSyncState'] },
        'socket.command': [
          { guard: and(['isRestart', 'restartModeIsProcess']), actions: 'requestProcessExit' },
          { guard: 'isRestart', target: 'restarting' },
          { guard: 'isLiveStart', actions: 'acceptLiveStart' },
          { actions: 'ignoreUnknownCommand' },
        ],
      },
    },
    restarting: {
      entry: 'logRestart',
      always: 'loading',
    },
    stopped: {
      type: 'final',
    },
  },
});

export type PtpSidecarActor = ActorRefFrom<typeof ptpSidecarMachine>;
