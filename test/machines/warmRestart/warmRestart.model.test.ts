// warmRestart, model-based: every state and bounded simple paths, for a warm-capable and a zero-timeout /
// enable-table configuration, replayed on a real actor with the initial-sync timer on a ModelClock. Invariants: the
// APP_DB gate is opened exactly once and never during a warm initial sync; the timeout timer is armed exactly while
// the initial sync is in progress; the sync completes at most once (EOIU or timeout, never both); the reason is
// eoiu | timeout | cold; the WARM_RESTART_TABLE states follow initialized → restored → reconciled, or disabled.
import { describe, expect, it } from 'vitest';
import { fromPromise, type AnyMachineSnapshot } from 'xstate';
import {
  warmRestartMachine,
  type SonicWarmRestartConfig,
  type WarmRestartContext,
  type WarmRestartInput,
  type WarmRestartOutput,
} from '../../../src/machines/warmRestart/warmRestart.js';
import { replayAll, shortestPaths, simplePaths, unvisited, type ModelSpec } from '../../support/modelTesting.js';

let calls: string[] = [];
const rec =
  (name: string) =>
  (_: unknown, params?: unknown): void =>
    void calls.push(params === undefined ? name : `${name} ${JSON.stringify(params)}`);
const count = (prefix: string) => calls.filter((c) => c.startsWith(prefix)).length;

const machine = warmRestartMachine.provide({
  actors: { readSonicConfig: fromPromise<SonicWarmRestartConfig>(() => new Promise<never>(() => {})) },
  actions: {
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
      'stateFile.loaded': [{ type: 'stateFile.loaded' }],
      'stateFile.cold': [{ type: 'stateFile.cold', reason: 'missing' }],
      'eoiu.detected': [{ type: 'eoiu.detected' }],
      'appDbGate.opened': [{ type: 'appDbGate.opened' }],
      'done:readSonicConfig': [
        { type: 'done', output: { enabled: true, timerSecs: 3 } },
        { type: 'done', output: { enabled: false } },
      ],
    },
    project: (s) => ctx(s),
    reset: () => {
      calls = [];
    },
    effects: () => calls,
    check: ({ snapshot, clock }) => {
      const c = ctx(snapshot);
      const opens = calls.filter((x) => x.startsWith('openAppDbGate'));
      const syncing = snapshot.matches('initialSyncInProgress');
      const undecided = snapshot.matches('checking');
      // The gate stays closed until the decision, and through a warm initial sync; then it is opened exactly once.
      if (syncing || undecided) expect(opens).toEqual([]);
      else expect(opens).toEqual([`openAppDbGate ${JSON.stringify({ reconcile: c.mode === 'warm' })}`]);
      // The initial-sync timer is armed exactly while the warm initial sync is in progress.
      const armed = clock.pending().filter((t) => t.event?.type.startsWith('xstate.after.initialSyncTimeout'));
      expect(armed.length, 'initialSyncTimeout armed').toBe(syncing ? 1 : 0);
      // It is the only timer, so it was armed at time 0, with the effective timeout (CONFIG_DB timer or input).
      if (syncing) expect(armed[0]!.due).toBe(c.timeoutSecs * 1000);
      // Completion at most once, by exactly one of EOIU or timeout, and only for a warm start.
      const completions = count('countEoiuDetected') + count('countEoiuTimeout');
      expect(completions).toBeLessThanOrEqual(1);
      expect(count('recordInitialSyncEnd')).toBe(completions);
      expect(completions).toBe(c.mode === 'warm' && !syncing ? 1 : 0);
      if (c.reason !== undefined) expect(['eoiu', 'timeout', 'cold']).toContain(c.reason);
      if (c.reason === 'eoiu') expect(count('countEoiuDetected')).toBe(1);
      if (c.reason === 'timeout') expect(count('countEoiuTimeout')).toBe(1);
      // SONiC bookkeeping.
      const states = calls.filter((x) => x.startsWith('setWarmRestartState')).map((x) => JSON.parse(x.slice(20)).state);
      if (c.mode === 'cold') expect(states).toEqual(['disabled']);
      else expect(['initialized', 'restored', 'reconciled'].slice(0, states.length)).toEqual(states);
      expect(count('countColdStart') + count('countWarmStart')).toBe(c.mode === undefined ? 0 : 1);
      if (snapshot.status === 'done') {
        const out = snapshot.output as WarmRestartOutput;
        expect(out.mode).toBe(c.mode);
        expect(out.reason).toBe(c.mode === 'cold' ? 'cold' : c.reason);
        if (out.mode === 'warm') expect(states).toEqual(['initialized', 'restored', 'reconciled']);
      }
    },
  };
}

describe.each([
  { timeoutSecs: 5, checkEnableTable: false },
  { timeoutSecs: 5, checkEnableTable: true },
  { timeoutSecs: 0, checkEnableTable: false },
])('warmRestart model (xstate/graph), input %o', (input) => {
  const spec = specFor(input);

  it('shortest paths reach every state node reachable with this input, and the invariants hold in each', () => {
    const paths = shortestPaths(spec);
    const visited = replayAll(spec, paths);
    const missing = unvisited(machine, visited);
    // A zero timeout completes at once: the timer (and so eoiu.detected) can never win, but every state is still
    // entered (initialSyncInProgress transiently).
    expect(missing).toEqual([]);
  });

  it('bounded simple paths keep the invariants', () => {
    const paths = simplePaths(spec, { maxDepth: 8, max: 300 });
    expect(paths.length).toBeGreaterThan(3);
    replayAll(spec, paths);
  });
});
