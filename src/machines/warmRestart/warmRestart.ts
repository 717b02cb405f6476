// warmRestart: is this start warm or cold, and when does the initial sync end (ARCHITECTURE.md §4).
//
//   checking ─warm→ warmStart → initialSyncInProgress ─eoiu.detected | after initialSyncTimeout | timeout 0→
//       │                                              initialSyncComplete ─appDbGate.opened→ complete (final)
//       └─cold→ coldStart ───────────────────────────────────────────────────────────────────→ complete (final)
//
// Contract
//   input:   { timeoutSecs?: number (10), checkEnableTable?: boolean (false) }
//   actor:   readSonicConfig: () → { enabled: boolean, timerSecs?: number }  (STATE_DB WARM_RESTART_ENABLE_TABLE|swss
//            or |system enable=true; CONFIG_DB WARM_RESTART|swss portsyncd_timer). On error: not enabled, no timer.
//   events:  stateFile.loaded {…} | stateFile.cold {reason}   (from the stateFile machine; decides the state file part)
//            eoiu.detected                                     (from the eoiuDetector machine)
//            appDbGate.opened                                  (from the appDbGate machine, after reconciliation)
//   named actions (no-ops unless provided; the composer wires them to Redis, metrics and the gate):
//     setWarmRestartState {state: 'initialized'|'restored'|'reconciled'|'disabled'}  STATE_DB WARM_RESTART_TABLE|portsyncd
//     incrementRestoreCount                                                           same key, restore_count += 1
//     countColdStart, countWarmStart, countEoiuDetected, countEoiuTimeout
//     recordInitialSyncStart, recordInitialSyncEnd {reason}   (the histogram: the composer measures wall time)
//     openAppDbGate {reconcile}   (cold: open at once; warm: reconcile, then the gate answers appDbGate.opened)
//     logDecision {mode, why, timeoutSecs}
//   output:  { mode: 'warm'|'cold', reason: 'eoiu'|'timeout'|'cold', timeoutSecs }
// The timeout is a named delay: the CONFIG_DB timer (1..9999) wins over input.timeoutSecs; 0 completes at once.
// Once initialSyncInProgress is left the delay is cancelled and further eoiu.detected are ignored, so neither a
// late timeout nor a second EOIU can complete twice.
import { assign, fromPromise, setup } from 'xstate';

export type WarmRestartTableState = 'initialized' | 'restored' | 'reconciled' | 'disabled';
export type CompletionReason = 'eoiu' | 'timeout' | 'cold';

export interface WarmRestartInput {
  timeoutSecs?: number;
  checkEnableTable?: boolean;
}

export interface SonicWarmRestartConfig {
  /** enable=true in WARM_RESTART_ENABLE_TABLE|swss or |system. */
  enabled: boolean;
  /** CONFIG_DB WARM_RESTART|swss portsyncd_timer, when set. */
  timerSecs?: number | undefined;
}

export interface WarmRestartContext {
  timeoutSecs: number;
  checkEnableTable: boolean;
  /** undefined until the stateFile machine has answered. */
  stateFileValid: boolean | undefined;
  stateFileWhy: string;
  sonic: SonicWarmRestartConfig | undefined;
  mode: 'warm' | 'cold' | undefined;
  reason: CompletionReason | undefined;
}

export type WarmRestartEvent =
  | { type: 'stateFile.loaded' }
  | { type: 'stateFile.cold'; reason: string }
  | { type: 'eoiu.detected' }
  | { type: 'appDbGate.opened' };

export interface WarmRestartOutput {
  mode: 'warm' | 'cold';
  reason: CompletionReason;
  timeoutSecs: number;
}

/** The timer from CONFIG_DB wins when it is in 1..9999; otherwise the configured value (0 = complete at once). */
export function effectiveTimeoutSecs(configured: number, timerSecs: number | undefined): number {
  if (timerSecs !== undefined && Number.isInteger(timerSecs) && timerSecs >= 1 && timerSecs <= 9999) return timerSecs;
  return configured;
}

export const warmRestartMachine = setup({
  types: {
    input: {} as WarmRestartInput,
    context: {} as WarmRestartContext,
    events: {} as WarmRestartEvent,
    output: {} as WarmRestartOutput,
  },
  actors: {
    readSonicConfig: fromPromise<SonicWarmRestartConfig>(async () => {
      throw new Error("actor 'readSonicConfig' was not provided");
    }),
  },
  guards: {
    decided: ({ context }) => context.stateFileValid !== undefined && context.sonic !== undefined,
    warmStartAllowed: ({ context }) =>
      context.stateFileValid === true && (!context.checkEnableTable || context.sonic?.enabled === true),
    zeroTimeout: ({ context }) => context.timeoutSecs <= 0,
  },
  delays: {
    initialSyncTimeout: ({ context }) => context.timeoutSecs * 1000,
  },
  actions: {
    setWarmRestartState: (_, _params: { state: WarmRestartTableState }) => {},
    incrementRestoreCount: () => {},
    countColdStart: () => {},
    countWarmStart: () => {},
    countEoiuDetected: () => {},
    countEoiuTimeout: () => {},
    recordInitialSyncStart: () => {},
    recordInitialSyncEnd: (_, _params: { reason: CompletionReason }) => {},
    openAppDbGate: (_, _params: { reconcile: boolean }) => {},
    logDecision: (_, _params: { mode: 'warm' | 'cold'; why: string; timeoutSecs: number }) => {},
  },
}).createMachine({
  id: 'warmRestart',
  context: ({ input }) => ({
    timeoutSecs: input?.timeoutSecs ?? 10,
    checkEnableTable: input?.checkEnableTable ?? false,
    stateFileValid: undefined,
    stateFileWhy: '',
    sonic: undefined,
    mode: undefined,
    reason: undefined,
  }),
  initial: 'checking',
  states: {
    checking: {
      invoke: {
        src: 'readSonicConfig',
        onDone: {
          actions: assign({
            sonic: ({ event }) => event.output,
            timeoutSecs: ({ context, event }) => effectiveTimeoutSecs(context.timeoutSecs, event.output.timerSecs),
          }),
        },
        // Redis unreachable at start: no enable flag (warm start refused when it is required), default timer.
        onError: { actions: assign({ sonic: { enabled: false } }) },
      },
      on: {
        'stateFile.loaded': { actions: assign({ stateFileValid: true, stateFileWhy: 'state file loaded' }) },
        'stateFile.cold': {
          actions: assign({ stateFileValid: false, stateFileWhy: ({ event }) => `state file ${event.reason}` }),
        },
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
              why: context.stateFileWhy,
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
              why: context.stateFileValid
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
        'countColdStart',
        { type: 'openAppDbGate', params: { reconcile: false } },
      ],
      always: 'complete',
    },
    warmStart: {
      entry: [
        assign({ mode: 'warm' }),
        { type: 'setWarmRestartState', params: { state: 'initialized' } },
        'incrementRestoreCount',
        'countWarmStart',
      ],
      always: 'initialSyncInProgress',
    },
    initialSyncInProgress: {
      // 'restored': the saved state is in memory and the kernel's truth is being collected; APP_DB is held.
      entry: [{ type: 'setWarmRestartState', params: { state: 'restored' } }, 'recordInitialSyncStart'],
      always: {
        guard: 'zeroTimeout',
        target: 'initialSyncComplete',
        actions: [assign({ reason: 'timeout' }), 'countEoiuTimeout'],
      },
      after: {
        initialSyncTimeout: {
          target: 'initialSyncComplete',
          actions: [assign({ reason: 'timeout' }), 'countEoiuTimeout'],
        },
      },
      on: {
        'eoiu.detected': { target: 'initialSyncComplete', actions: [assign({ reason: 'eoiu' }), 'countEoiuDetected'] },
      },
    },
    initialSyncComplete: {
      entry: [
        {
          type: 'recordInitialSyncEnd',
          params: ({ context }) => ({ reason: context.reason ?? 'timeout' }),
        },
        { type: 'openAppDbGate', params: { reconcile: true } },
      ],
      on: {
        'appDbGate.opened': {
          target: 'complete',
          actions: { type: 'setWarmRestartState', params: { state: 'reconciled' } },
        },
      },
    },
    complete: {
      type: 'final',
    },
  },
  output: ({ context }) => ({
    mode: context.mode ?? 'cold',
    reason: context.reason ?? 'cold',
    timeoutSecs: context.timeoutSecs,
  }),
});

export type WarmRestartMachine = typeof warmRestartMachine;
