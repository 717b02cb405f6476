// warmRestart, model-based: every state and bounded simple paths, for a warm-capable and a zero-timeout /
// enable-table configuration, replayed on a real actor with the initial-sync timer on a ModelClock. Invariants: the
// APP_DB gate is opened exactly once and never during a warm initial sync; the timeout timer is armed exactly while
// the initial sync is in progress; the sync completes at most once (EOIU or timeout, never both); the reason is
// eoiu | timeout | cold; the WARM_RESTART_TABLE states follow initialized → restored → reconciled, or disabled.
import { describe, expect } from 'vitest';
import { createMachine, type AnyMachineSnapshot } from 'xstate';
import {
  warmRestartMachine,
  type WarmRestartContext,
  type WarmRestartInput,
} from '../../../src/machines/warmRestart/warmRestart.js';
import { modelPathTests, type ModelSpec } from '../../support/modelTesting.js';

let calls: string[] = [];
const rec =
  (name: string) =>
  (_: unknown, params?: unknown): void =>
    void calls.push(params === undefined ? name : `${name} ${JSON.stringify(params)}`);
const count = (prefix: string) => calls.filter((c) => c.startsWith(prefix)).length;

// The children are inert (they have their own models); what they tell their parent, and redisTables' answers, are
// model events.
const inert = createMachine({ initial: 'idle', states: { idle: {} } }) as never;
const machine = warmRestartMachine.provide({
  actors: { stateFile: inert, eoiuDetector: inert, appDbGate: inert },
  actions: {
    requestSonicConfig: rec('requestSonicConfig'),
    notifySynced: rec('notifySynced'),
    notifyDecided: rec('notifyDecided'),
    resetRestoreCount: rec('resetRestoreCount'),
    requestFinalSave: rec('requestFinalSave'),
    setWarmRestartState: rec('setWarmRestartState'),
    incrementRestoreCount: rec('incrementRestoreCount'),
    countColdStart: rec('countColdStart'),
    countWarmStart: rec('countWarmStart'),
    countEoiuDetected: rec('countEoiuDetected'),
    countEoiuTimeout: rec('countEoiuTimeout'),
    recordInitialSyncStart: rec('recordInitialSyncStart'),
    recordInitialSyncEnd: rec('recordInitialSyncEnd'),
    openAppDbGate: rec('openAppDbGate'),
    logDecision: rec('logDecision'),
  },
});

const ctx = (s: AnyMachineSnapshot) => s.context as WarmRestartContext;

function specFor(input: WarmRestartInput): ModelSpec<typeof machine> {
  return {
    machine,
    input,
    events: {
      'stateFile.loaded': [{ type: 'stateFile.loaded', ports: {}, slot: 'current', savedAt: 1 }],
      'stateFile.cold': [{ type: 'stateFile.cold', reason: 'missing' }],
      'eoiu.detected': [{ type: 'eoiu.detected', messagesSeen: 1, dumpedInterfaces: 1 }],
      'appDbGate.opened': [{ type: 'appDbGate.opened', set: 0, del: 0 }],
      'redis.warmRestartConfig': [
        { type: 'redis.warmRestartConfig', enabled: true, hasRestoreCount: true },
        { type: 'redis.warmRestartConfig', enabled: false, hasRestoreCount: true },
      ],
      'redis.requestFailed': [{ type: 'redis.requestFailed', request: 'readWarmRestartConfig', message: 'down' }],
      'config.ports': [{ type: 'config.ports', names: ['Ethernet0'] }],
      'xstate.error.actor.stateFile': [{ type: 'xstate.error.actor.stateFile', error: new Error('store broken') }],
      shutdown: [{ type: 'shutdown' }],
    },
    project: (s) => ctx(s),
    reset: () => {
      calls = [];
    },
    effects: () => calls,
    check: ({ snapshot, clock }) => {
      const c = ctx(snapshot);
      const opens = calls.filter((x) => x.startsWith('openAppDbGate'));
      const syncing = snapshot.matches({ running: { decision: 'initialSyncInProgress' } });
      const undecided = snapshot.matches({ running: { decision: 'checking' } }) || c.mode === undefined;
      // The gate stays closed until the decision, and through a warm initial sync; then it is opened exactly once.
      // (After a shutdown the decision stops where it was.)
      if (syncing || undecided) expect(opens).toEqual([]);
      else if (snapshot.matches('running'))
        expect(opens).toEqual([`openAppDbGate ${JSON.stringify({ reconcile: c.mode === 'warm' })}`]);
      // portsync hears "synced" exactly once, when the decision region is complete.
      const complete = c.mode !== undefined && calls.includes('notifySynced');
      expect(count('notifySynced')).toBe(complete ? 1 : 0);
      if (snapshot.matches({ running: { decision: 'complete' } })) expect(count('notifySynced')).toBe(1);
      // Shutdown asks the state file for its final save, unless the store is broken.
      if (snapshot.matches('finishing')) expect(count('requestFinalSave')).toBe(1);
      // The initial-sync timer is armed exactly while the warm initial sync is in progress.
      const armed = clock.pending().filter((t) => t.event?.type.startsWith('xstate.after.initialSyncTimeout'));
      expect(armed.length, 'initialSyncTimeout armed').toBe(syncing ? 1 : 0);
      // It is the only timer, so it was armed at time 0, with the effective timeout (CONFIG_DB timer or input).
      if (syncing) expect(armed[0]!.due).toBe(c.timeoutSecs * 1000);
      // Completion at most once, by exactly one of EOIU or timeout, and only for a warm start.
      const completions = count('countEoiuDetected') + count('countEoiuTimeout');
      expect(completions).toBeLessThanOrEqual(1);
      expect(count('recordInitialSyncEnd')).toBe(completions);
      if (snapshot.matches('running')) expect(completions).toBe(c.mode === 'warm' && !syncing ? 1 : 0);
      if (c.reason !== undefined) expect(['eoiu', 'timeout', 'cold']).toContain(c.reason);
      if (c.reason === 'eoiu') expect(count('countEoiuDetected')).toBe(1);
      if (c.reason === 'timeout') expect(count('countEoiuTimeout')).toBe(1);
      // SONiC bookkeeping.
      const states = calls.filter((x) => x.startsWith('setWarmRestartState')).map((x) => JSON.parse(x.slice(20)).state);
      if (c.mode === 'cold') expect(states).toEqual(['disabled']);
      else expect(['initialized', 'restored', 'reconciled'].slice(0, states.length)).toEqual(states);
      expect(count('countColdStart') + count('countWarmStart')).toBe(c.mode === undefined ? 0 : 1);
      // SONiC's restore_count: +1 on a warm start, "0" on a cold one; portsync told the mode once.
      expect(count('incrementRestoreCount')).toBe(c.mode === 'warm' ? 1 : 0);
      expect(count('resetRestoreCount')).toBe(c.mode === 'cold' ? 1 : 0);
      expect(count('notifyDecided')).toBe(c.mode === undefined ? 0 : 1);
      // SONiC's authority: warm exactly when the enable flag and a restore_count were reported.
      if (c.mode !== undefined && c.authority === 'sonic') {
        expect(c.mode === 'warm').toBe(c.sonic?.enabled === true && c.sonic.hasRestoreCount);
      }
      if (snapshot.matches({ running: { decision: 'complete' } })) {
        expect(c.reason).toBe(c.mode === 'cold' ? 'cold' : c.reason);
        if (c.mode === 'warm') expect(states).toEqual(['initialized', 'restored', 'reconciled']);
      }
    },
  };
}

describe.each<WarmRestartInput>([
  { timeoutSecs: 5, authority: 'sonic' },
  { timeoutSecs: 0, authority: 'sonic' },
  { timeoutSecs: 5, authority: 'stateFile', checkEnableTable: false },
  { timeoutSecs: 5, authority: 'stateFile', checkEnableTable: true },
  { timeoutSecs: 0, authority: 'stateFile', checkEnableTable: false },
])('warmRestart model (xstate/graph), input %o', (input) => {
  // A zero timeout completes at once: the timer (and so eoiu.detected) can never win, but every state is still
  // entered (initialSyncInProgress transiently).
  modelPathTests(specFor(input), { minShortestPaths: 1, simplePaths: { maxDepth: 8, max: 300, min: 4 } });
});
