// warmRestart: the parent of the warm-restart concern. It owns the state file (stateFile), the end-of-initial-update
// detector (eoiuDetector) and the APP_DB gate (appDbGate); portsync sends it link facts and desired APP_DB writes and
// gets one decision back: warmRestart.synced, "the initial sync is over, the gate is open" (docs/warm-restart.md).
//
//   running (parallel)
//     decision:    checking ─warm→ warmStart → initialSyncInProgress ─eoiu | after initialSyncTimeout | timeout 0→
//                     │                                           initialSyncComplete ─appDbGate.opened→ complete
//                     └─cold→ coldStart ─appDbGate.opened──────────────────────────────────────────────→ complete
//     eoiu:        waiting (netlink.* go to the eoiuDetector) ─eoiu.detected→ detected
//     expectation: collecting ─state file and CONFIG_DB known→ sent (eoiu.setExpectedPorts)
//     persistence: active ─the state file store failed→ unavailable
//   shutdown → finishing (the stateFile machine's final save) → stopped (final); at once when unavailable
//   The stateFile machine holds its saves (holdSaves) until releaseStateFileSaves: at a cold start's decision, after
//   a warm start's reconciliation.
//
// Contract
//   input:   { timeoutSecs?: 10, authority?: 'sonic', checkEnableTable?: false, eoiuMode?: 'dump',
//              stateFileDebounceMs?: 200 }
//   Who decides warm or cold (authority):
//     'sonic' (default): SONiC's WarmStart::checkWarmStart — warm iff STATE_DB WARM_RESTART_ENABLE_TABLE|system or
//              |swss has enable=true AND WARM_RESTART_TABLE|portsyncd has a restore_count (then +1); otherwise cold
//              and restore_count set to "0". The state file only supplies data (the expected ports, last state).
//     'stateFile': hosts without SONiC's tables — a valid state file means warm (also enable=true when
//              checkEnableTable); restore_count is still kept as SONiC keeps it.
//   events in (from portsync): netlink.* (while the initial sync runs), stateFile.upsert|remove|replace,
//            config.ports {names}, appDb.write {ops}, shutdown
//   events in (children, through sendParent): stateFile.loaded | stateFile.cold, eoiu.detected, appDbGate.opened
//   events in (answers of redisTables): redis.warmRestartConfig {enabled, hasRestoreCount} | redis.requestFailed
//   named actions with I/O (requests to redisTables by systemId): requestSonicConfig, setWarmRestartState {state},
//            incrementRestoreCount, resetRestoreCount, watchAppDb (warm: the early APPL_DB read); notifyDecided {mode} and notifySynced {mode, reason, set, del}
//            (sendParent to portsync)
//   named actions (no-ops unless provided): countColdStart, countWarmStart, countEoiuDetected, countEoiuTimeout,
//            recordInitialSyncStart, recordInitialSyncEnd {reason}, logDecision {mode, why, timeoutSecs}
// The timeout is a named delay (input.timeoutSecs, syncvisor's own configuration; 0 completes at once). Once
// initialSyncInProgress is left the delay is cancelled and the eoiu region no longer matters, so neither a late
// timeout nor a second EOIU can complete twice. An EOIU that comes before the warm/cold decision is kept (the eoiu
// region is in `detected`) and completes the initial sync as soon as it starts.
import { assign, forwardTo, sendParent, sendTo, setup, stateIn } from 'xstate';
import { providedAction } from '../provided.js';
import type { NetlinkSourceEvent } from '../supervisor/sourceEvents.js';
import type { RedisReplyEvent, SonicWarmRestartConfig, WarmRestartTableState } from '../portsync/events.js';
import { appDbGateMachine, redisRequest, type AppDbGateOpenedEvent } from './appDbGate.js';
import { eoiuDetectorMachine, type EoiuDetectedEvent, type EoiuMode } from './eoiuDetector.js';
import type { CompletionReason, StartMode, WarmRestartFactEvent, WarmRestartSyncedEvent } from './events.js';
import { stateFileMachine, type StateFileEmitted } from './stateFile.js';
import * as table from '../portsync/portTable.js';

export type { CompletionReason, SonicWarmRestartConfig, WarmRestartTableState };

/** Who decides warm or cold: SONiC's tables (default) or the state file (hosts without SONiC's tables). */
export type WarmRestartAuthority = 'sonic' | 'stateFile';

export interface WarmRestartInput {
  timeoutSecs?: number;
  /** Default 'sonic'. */
  authority?: WarmRestartAuthority;
  /** authority 'stateFile' only: also require the enable flag. */
  checkEnableTable?: boolean;
  /** eoiu.mode (default dump). */
  eoiuMode?: EoiuMode;
  /** stateFile.debounceMs (default 200). */
  stateFileDebounceMs?: number;
}

export interface WarmRestartContext {
  timeoutSecs: number;
  authority: WarmRestartAuthority;
  checkEnableTable: boolean;
  eoiuMode: EoiuMode;
  stateFileDebounceMs: number;
  /** undefined until the stateFile machine has answered. */
  stateFileValid: boolean | undefined;
  stateFileWhy: string;
  /** Port names of the loaded state file ([] when cold); undefined until the stateFile machine answered. */
  stateFilePorts: string[] | undefined;
  /** CONFIG_DB PORT names, once portsync has read them. */
  configPorts: string[] | undefined;
  /** The ports the eoiuDetector waits for (sent once both lists are known). */
  expectedPorts: string[] | undefined;
  sonic: { enabled: boolean; hasRestoreCount: boolean } | undefined;
  mode: StartMode | undefined;
  reason: CompletionReason | undefined;
  /** What the reconciliation wrote, from appDbGate.opened. */
  reconciled: { set: number; del: number };
}

export type WarmRestartEvent =
  | NetlinkSourceEvent
  | WarmRestartFactEvent
  | StateFileEmitted
  | EoiuDetectedEvent
  | AppDbGateOpenedEvent
  | RedisReplyEvent
  | { type: 'xstate.error.actor.stateFile'; error: unknown }
  | { type: 'shutdown' };

/**
 * The ports EOIU waits for: those of the state file that CONFIG_DB still configures (a port removed from the config
 * will not come back; a configured port that never existed would always cost the timeout). Without CONFIG_DB ports,
 * the state file's; without state-file ports, CONFIG_DB's.
 */
export function expectedPortsOf(stateFilePorts: readonly string[], configPorts: readonly string[]): string[] {
  if (stateFilePorts.length === 0) return [...configPorts].sort();
  if (configPorts.length === 0) return [...stateFilePorts].sort();
  const configured = new Set(configPorts);
  return stateFilePorts.filter((p) => configured.has(p)).sort();
}

/** The children as their parent wires them: each notifies warmRestart (sendParent), which decides. */
export const warmRestartChildren = {
  stateFile: stateFileMachine.provide({
    actions: {
      notifyLoaded: sendParent(({ context }) => ({
        type: 'stateFile.loaded' as const,
        ports: table.toRecord(context.ports),
        slot: context.origin === 'backup' ? ('backup' as const) : ('current' as const),
        savedAt: context.savedAt,
      })),
      notifyCold: sendParent(({ context }) => ({
        type: 'stateFile.cold' as const,
        reason: context.coldReason ?? ('missing' as const),
      })),
    },
  }),
  eoiuDetector: eoiuDetectorMachine.provide({
    actions: {
      notifyDetected: sendParent(({ context }) => ({
        type: 'eoiu.detected' as const,
        messagesSeen: context.messagesSeen,
        dumpedInterfaces: context.dumpedInterfaces,
      })),
    },
  }),
  appDbGate: appDbGateMachine.provide({
    actions: {
      notifyOpened: sendParent(({ context }) => ({
        type: 'appDbGate.opened' as const,
        set: context.reconciled?.set ?? 0,
        del: context.reconciled?.del ?? 0,
      })),
    },
  }),
};

type Ctx = { context: WarmRestartContext };

export const warmRestartMachine = setup({
  types: {
    input: {} as WarmRestartInput,
    context: {} as WarmRestartContext,
    events: {} as WarmRestartEvent,
  },
  actors: warmRestartChildren,
  guards: {
    decided: ({ context }) => context.stateFileValid !== undefined && context.sonic !== undefined,
    /** SONiC's rule (authority sonic), or the state file's (authority stateFile). */
    warmStartAllowed: ({ context }) =>
      context.authority === 'sonic'
        ? context.sonic?.enabled === true && context.sonic.hasRestoreCount
        : context.stateFileValid === true && (!context.checkEnableTable || context.sonic?.enabled === true),
    zeroTimeout: ({ context }) => context.timeoutSecs <= 0,
    eoiuAlreadyDetected: stateIn({ running: { eoiu: 'detected' } }),
    expectationKnown: ({ context }) => context.stateFilePorts !== undefined && context.configPorts !== undefined,
    stateFileUnavailable: stateIn({ running: { persistence: 'unavailable' } }),
  },
  delays: {
    initialSyncTimeout: ({ context }) => context.timeoutSecs * 1000,
  },
  actions: {
    /** Asks redisTables for the SONiC warm-restart configuration (answer: redis.warmRestartConfig). */
    requestSonicConfig: redisRequest(() => ({ type: 'redis.readWarmRestartConfig', replyTo: 'warmRestart' })),
    applySonicConfig: assign(({ event }) =>
      event.type === 'redis.warmRestartConfig'
        ? { sonic: { enabled: event.enabled, hasRestoreCount: event.hasRestoreCount === true } }
        : {},
    ),
    // Redis unreachable at start: no enable flag (a cold start under SONiC's rule; refused when required).
    assumeNoSonicConfig: assign({ sonic: { enabled: false, hasRestoreCount: false } }),
    recordStateFileLoaded: assign(({ event }) =>
      event.type === 'stateFile.loaded'
        ? { stateFileValid: true, stateFileWhy: 'state file loaded', stateFilePorts: Object.keys(event.ports) }
        : {},
    ),
    recordStateFileCold: assign(({ event }) =>
      event.type === 'stateFile.cold'
        ? { stateFileValid: false, stateFileWhy: `state file ${event.reason}`, stateFilePorts: [] }
        : {},
    ),
    recordConfigPorts: assign(({ event }) => (event.type === 'config.ports' ? { configPorts: event.names } : {})),
    computeExpectedPorts: assign({
      expectedPorts: ({ context }) => expectedPortsOf(context.stateFilePorts ?? [], context.configPorts ?? []),
    }),
    sendExpectedPorts: sendTo('eoiuDetector', ({ context }: Ctx) => ({
      type: 'eoiu.setExpectedPorts' as const,
      ports: context.expectedPorts ?? [],
    })),
    /** netlink.* reach the eoiuDetector while it waits. */
    feedEoiuDetector: forwardTo('eoiuDetector'),
    /** The state file follows the kernel. */
    updateStateFile: forwardTo('stateFile'),
    /** Desired APP_DB writes go through the gate. */
    writeThroughGate: forwardTo('appDbGate'),
    openAppDbGate: sendTo('appDbGate', (_: unknown, params: { reconcile: boolean }) => ({
      type: 'appDbGate.open' as const,
      reconcile: params.reconcile,
    })),
    recordReconciled: assign(({ event }) =>
      event.type === 'appDbGate.opened' ? { reconciled: { set: event.set, del: event.del } } : {},
    ),
    /**
     * A warm start reads APPL_DB now, long before EOIU, and redisTables keeps that read true until the reconciliation
     * asks for it (then only what changed since is read; docs/warm-restart.md, "Early APP_DB read").
     */
    watchAppDb: redisRequest(() => ({ type: 'redis.watchAppDb' })),
    /** STATE_DB WARM_RESTART_TABLE|portsyncd state, through redisTables. */
    setWarmRestartState: redisRequest(({ state }: { state: WarmRestartTableState }) => ({
      type: 'redis.warmRestartState',
      state,
    })),
    /** STATE_DB WARM_RESTART_TABLE|portsyncd restore_count += 1, through redisTables. */
    incrementRestoreCount: redisRequest(() => ({ type: 'redis.restoreCount', change: 'increment' })),
    /** SONiC's cold start: restore_count set to "0", so that the next start can be warm. */
    resetRestoreCount: redisRequest(() => ({ type: 'redis.restoreCount', change: 'reset' })),
    /** portsync learns the mode at once: a cold start copies CONFIG_DB to APP_DB, a warm start does not. */
    notifyDecided: sendParent(({ context }: Ctx) => ({
      type: 'warmRestart.decided' as const,
      mode: context.mode ?? ('cold' as const),
    })),
    /** The decision portsync gets: the initial sync is over, the gate open. */
    notifySynced: sendParent(({ context }: Ctx): WarmRestartSyncedEvent => ({
      type: 'warmRestart.synced',
      mode: context.mode ?? 'cold',
      reason: context.reason ?? 'cold',
      set: context.reconciled.set,
      del: context.reconciled.del,
    })),
    requestFinalSave: sendTo('stateFile', { type: 'shutdown' }),
    /** The state file may be saved from now on (held since start; see docs/warm-restart.md, "Saves held"). */
    releaseStateFileSaves: sendTo('stateFile', { type: 'stateFile.release' }),
    countColdStart: providedAction(),
    countWarmStart: providedAction(),
    countEoiuDetected: providedAction(),
    countEoiuTimeout: providedAction(),
    recordInitialSyncStart: providedAction(),
    recordInitialSyncEnd: providedAction<{ reason: CompletionReason }>(),
    logDecision: providedAction<{ mode: StartMode; why: string; timeoutSecs: number }>(),
  },
}).createMachine({
  id: 'warmRestart',
  context: ({ input }) => ({
    timeoutSecs: input?.timeoutSecs ?? 10,
    authority: input?.authority ?? 'sonic',
    checkEnableTable: input?.checkEnableTable ?? false,
    eoiuMode: input?.eoiuMode ?? 'dump',
    stateFileDebounceMs: input?.stateFileDebounceMs ?? 200,
    stateFileValid: undefined,
    stateFileWhy: '',
    stateFilePorts: undefined,
    configPorts: undefined,
    expectedPorts: undefined,
    sonic: undefined,
    mode: undefined,
    reason: undefined,
    reconciled: { set: 0, del: 0 },
  }),
  invoke: [
    {
      id: 'stateFile',
      systemId: 'stateFile',
      src: 'stateFile',
      // Saves held until the decision is complete (cold: at once; warm: after the reconciliation), so that no save
      // runs inside a warm restart's initial sync and reconciliation; the first one follows them.
      input: ({ context }) => ({ debounceMs: context.stateFileDebounceMs, holdSaves: true }),
      // Done only after its final save on shutdown (or a shutdown before it had read the file).
      onDone: { target: '.stopped' },
      // A failure is handled by the persistence region (running) and by finishing: a broken state file store must
      // not take portsync down (a cold start without saves), nor hold up the shutdown.
    },
    {
      id: 'eoiuDetector',
      systemId: 'eoiuDetector',
      src: 'eoiuDetector',
      input: ({ context }) => ({ mode: context.eoiuMode, awaitExpectedPorts: true }),
    },
    // portsyncd never deletes APP_DB ports or PortInitDone: the reconciliation only writes what is missing or differs.
    { id: 'appDbGate', systemId: 'appDbGate', src: 'appDbGate', input: { deleteUnmentioned: false } },
  ],
  initial: 'running',
  states: {
    running: {
      type: 'parallel',
      on: {
        'stateFile.loaded': { actions: 'recordStateFileLoaded' },
        'stateFile.cold': { actions: 'recordStateFileCold' },
        'stateFile.upsert': { actions: 'updateStateFile' },
        'stateFile.remove': { actions: 'updateStateFile' },
        'stateFile.replace': { actions: 'updateStateFile' },
        'config.ports': { actions: 'recordConfigPorts' },
        'appDb.write': { actions: 'writeThroughGate' },
        shutdown: [{ guard: 'stateFileUnavailable', target: 'stopped' }, { target: 'finishing' }],
      },
      states: {
        decision: {
          initial: 'checking',
          states: {
            checking: {
              entry: 'requestSonicConfig',
              on: {
                'redis.warmRestartConfig': { actions: 'applySonicConfig' },
                'redis.requestFailed': { actions: 'assumeNoSonicConfig' },
              },
              always: { guard: 'decided', target: 'decide' },
            },
            decide: {
              always: [
                {
                  guard: 'warmStartAllowed',
                  target: 'warmStart',
                  actions: {
                    type: 'logDecision',
                    params: ({ context }) => ({
                      mode: 'warm' as const,
                      why:
                        context.authority === 'sonic'
                          ? `warm restart enabled and restore_count present; ${context.stateFileWhy}`
                          : context.stateFileWhy,
                      timeoutSecs: context.timeoutSecs,
                    }),
                  },
                },
                {
                  target: 'coldStart',
                  actions: {
                    type: 'logDecision',
                    params: ({ context }) => ({
                      mode: 'cold' as const,
                      why:
                        context.authority === 'sonic'
                          ? context.sonic?.enabled
                            ? 'WARM_RESTART_TABLE|portsyncd has no restore_count'
                            : 'warm restart not enabled in WARM_RESTART_ENABLE_TABLE'
                          : context.stateFileValid
                            ? 'warm restart not enabled in WARM_RESTART_ENABLE_TABLE'
                            : context.stateFileWhy,
                      timeoutSecs: context.timeoutSecs,
                    }),
                  },
                },
              ],
            },
            coldStart: {
              entry: [
                assign({ mode: 'cold', reason: 'cold' }),
                { type: 'setWarmRestartState', params: { state: 'disabled' } },
                'resetRestoreCount',
                'notifyDecided',
                'countColdStart',
                { type: 'openAppDbGate', params: { reconcile: false } },
                'releaseStateFileSaves',
              ],
              on: {
                'appDbGate.opened': { target: 'complete', actions: ['recordReconciled', 'notifySynced'] },
              },
            },
            warmStart: {
              entry: [
                assign({ mode: 'warm' }),
                { type: 'setWarmRestartState', params: { state: 'initialized' } },
                'incrementRestoreCount',
                'watchAppDb',
                'notifyDecided',
                'countWarmStart',
              ],
              always: 'initialSyncInProgress',
            },
            initialSyncInProgress: {
              // 'restored': the saved state is in memory and the kernel's truth is being collected; APP_DB is held.
              entry: [{ type: 'setWarmRestartState', params: { state: 'restored' } }, 'recordInitialSyncStart'],
              always: [
                {
                  guard: 'zeroTimeout',
                  target: 'initialSyncComplete',
                  actions: [assign({ reason: 'timeout' }), 'countEoiuTimeout'],
                },
                {
                  guard: 'eoiuAlreadyDetected',
                  target: 'initialSyncComplete',
                  actions: [assign({ reason: 'eoiu' }), 'countEoiuDetected'],
                },
              ],
              after: {
                initialSyncTimeout: {
                  target: 'initialSyncComplete',
                  actions: [assign({ reason: 'timeout' }), 'countEoiuTimeout'],
                },
              },
            },
            initialSyncComplete: {
              entry: [
                { type: 'recordInitialSyncEnd', params: ({ context }) => ({ reason: context.reason ?? 'timeout' }) },
                { type: 'openAppDbGate', params: { reconcile: true } },
              ],
              on: {
                'appDbGate.opened': {
                  target: 'complete',
                  actions: [
                    'recordReconciled',
                    { type: 'setWarmRestartState', params: { state: 'reconciled' } },
                    'notifySynced',
                    'releaseStateFileSaves',
                  ],
                },
              },
            },
            complete: {},
          },
        },
        eoiu: {
          initial: 'waiting',
          states: {
            waiting: {
              on: {
                'netlink.link': { actions: 'feedEoiuDetector' },
                'netlink.dumpStarted': { actions: 'feedEoiuDetector' },
                'netlink.dumpDone': { actions: 'feedEoiuDetector' },
                'netlink.overflow': { actions: 'feedEoiuDetector' },
                'eoiu.detected': 'detected',
              },
            },
            detected: {},
          },
        },
        expectation: {
          initial: 'collecting',
          states: {
            collecting: {
              always: {
                guard: 'expectationKnown',
                target: 'sent',
                actions: ['computeExpectedPorts', 'sendExpectedPorts'],
              },
            },
            sent: {},
          },
        },
        persistence: {
          initial: 'active',
          states: {
            active: { on: { 'xstate.error.actor.stateFile': 'unavailable' } },
            unavailable: {},
          },
        },
      },
    },
    finishing: {
      entry: 'requestFinalSave',
      on: { 'xstate.error.actor.stateFile': 'stopped' },
    },
    stopped: { type: 'final' },
  },
});

export type WarmRestartMachine = typeof warmRestartMachine;
