// warmRestart on a SimulatedClock: the reference scenarios (cold start, warm start with EOIU, timeout without EOIU,
// zero timeout, multiple timeout checks) plus the SONiC bookkeeping and the enable-table / CONFIG_DB timer rules.
import { describe, expect, it } from 'vitest';
import { createActor, fromPromise, SimulatedClock } from 'xstate';
import {
  effectiveTimeoutSecs,
  warmRestartMachine,
  type SonicWarmRestartConfig,
} from '../../../src/machines/warmRestart/warmRestart.js';

const flush = () => new Promise((r) => setTimeout(r, 0));

function start(opts: {
  input?: { timeoutSecs?: number; checkEnableTable?: boolean };
  sonic?: SonicWarmRestartConfig | Error;
}) {
  const log: string[] = [];
  const rec =
    (name: string) =>
    (_: unknown, params?: unknown): void => {
      log.push(params === undefined ? name : `${name} ${JSON.stringify(params)}`);
    };
  const clock = new SimulatedClock();
  const machine = warmRestartMachine.provide({
    actors: {
      readSonicConfig: fromPromise<SonicWarmRestartConfig>(async () => {
        const s = opts.sonic ?? { enabled: false };
        if (s instanceof Error) throw s;
        return s;
      }),
    },
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
  const actor = createActor(machine, { clock, input: opts.input ?? {} });
  actor.start();
  const count = (prefix: string) => log.filter((l) => l.startsWith(prefix)).length;
  return { actor, clock, log, count };
}

describe('warmRestart machine', () => {
  it('cold start without a state file: disabled, counted, gate opened at once without reconciliation', async () => {
    const { actor, log } = start({});
    actor.send({ type: 'stateFile.cold', reason: 'missing' });
    await flush();
    const snap = actor.getSnapshot();
    expect(snap.status).toBe('done');
    expect(snap.output).toEqual({ mode: 'cold', reason: 'cold', timeoutSecs: 10 });
    expect(log.filter((l) => !l.startsWith('logDecision'))).toEqual([
      'setWarmRestartState {"state":"disabled"}',
      'countColdStart',
      'openAppDbGate {"reconcile":false}',
    ]);
  });

  it('waits in checking until both the state file and the SONiC config have answered', async () => {
    const { actor } = start({});
    await flush();
    expect(actor.getSnapshot().value).toBe('checking');
    actor.send({ type: 'stateFile.loaded' });
    expect(actor.getSnapshot().value).toBe('initialSyncInProgress');
  });

  it('warm start with EOIU: initialized, restore_count+1, restored, then reconciled after the gate opened', async () => {
    const { actor, log, count } = start({});
    actor.send({ type: 'stateFile.loaded' });
    await flush();
    expect(actor.getSnapshot().value).toBe('initialSyncInProgress');
    expect(count('openAppDbGate')).toBe(0);
    actor.send({ type: 'eoiu.detected' });
    expect(actor.getSnapshot().value).toBe('initialSyncComplete');
    expect(actor.getSnapshot().context.reason).toBe('eoiu');
    actor.send({ type: 'appDbGate.opened' });
    expect(actor.getSnapshot().output).toEqual({ mode: 'warm', reason: 'eoiu', timeoutSecs: 10 });
    expect(log.filter((l) => !l.startsWith('logDecision'))).toEqual([
      'setWarmRestartState {"state":"initialized"}',
      'incrementRestoreCount',
      'countWarmStart',
      'setWarmRestartState {"state":"restored"}',
      'recordInitialSyncStart',
      'countEoiuDetected',
      'recordInitialSyncEnd {"reason":"eoiu"}',
      'openAppDbGate {"reconcile":true}',
      'setWarmRestartState {"state":"reconciled"}',
    ]);
  });

  it('timeout without EOIU completes after exactly timeoutSecs, counted as a timeout', async () => {
    const { actor, clock, count } = start({ input: { timeoutSecs: 10 } });
    actor.send({ type: 'stateFile.loaded' });
    await flush();
    clock.increment(9_999);
    expect(actor.getSnapshot().value).toBe('initialSyncInProgress');
    clock.increment(1);
    expect(actor.getSnapshot().value).toBe('initialSyncComplete');
    expect(actor.getSnapshot().context.reason).toBe('timeout');
    expect(count('countEoiuTimeout')).toBe(1);
    expect(count('countEoiuDetected')).toBe(0);
    expect(count('openAppDbGate {"reconcile":true}')).toBe(1);
  });

  it('the default timeout is 10 s', async () => {
    const { actor, clock } = start({});
    actor.send({ type: 'stateFile.loaded' });
    await flush();
    clock.increment(9_999);
    expect(actor.getSnapshot().value).toBe('initialSyncInProgress');
    clock.increment(1);
    expect(actor.getSnapshot().value).toBe('initialSyncComplete');
  });

  it('CONFIG_DB portsyncd_timer wins over the configured timeout', async () => {
    const { actor, clock } = start({ input: { timeoutSecs: 60 }, sonic: { enabled: false, timerSecs: 3 } });
    actor.send({ type: 'stateFile.loaded' });
    await flush();
    expect(actor.getSnapshot().context.timeoutSecs).toBe(3);
    clock.increment(3_000);
    expect(actor.getSnapshot().context.reason).toBe('timeout');
  });

  it('a portsyncd_timer outside 1..9999 is ignored', () => {
    expect(effectiveTimeoutSecs(10, 0)).toBe(10);
    expect(effectiveTimeoutSecs(10, 10_000)).toBe(10);
    expect(effectiveTimeoutSecs(10, 1.5)).toBe(10);
    expect(effectiveTimeoutSecs(10, undefined)).toBe(10);
    expect(effectiveTimeoutSecs(10, 9999)).toBe(9999);
    expect(effectiveTimeoutSecs(0, 1)).toBe(1);
  });

  it('zero timeout completes the initial sync at once', async () => {
    const { actor, count } = start({ input: { timeoutSecs: 0 } });
    actor.send({ type: 'stateFile.loaded' });
    await flush();
    expect(actor.getSnapshot().value).toBe('initialSyncComplete');
    expect(actor.getSnapshot().context.reason).toBe('timeout');
    expect(count('countEoiuTimeout')).toBe(1);
    expect(count('openAppDbGate')).toBe(1);
  });

  it('multiple timeout checks and late EOIUs never complete twice', async () => {
    const { actor, clock, count } = start({});
    actor.send({ type: 'stateFile.loaded' });
    await flush();
    actor.send({ type: 'eoiu.detected' });
    for (let i = 0; i < 5; i += 1) clock.increment(10_000);
    actor.send({ type: 'eoiu.detected' });
    expect(count('countEoiuDetected') + count('countEoiuTimeout')).toBe(1);
    expect(count('openAppDbGate')).toBe(1);
    expect(count('recordInitialSyncEnd')).toBe(1);
    actor.send({ type: 'appDbGate.opened' });
    expect(actor.getSnapshot().status).toBe('done');
    expect(count('setWarmRestartState {"state":"reconciled"}')).toBe(1);
  });

  it('an EOIU after the timeout does not change the reason', async () => {
    const { actor, clock, count } = start({ input: { timeoutSecs: 2 } });
    actor.send({ type: 'stateFile.loaded' });
    await flush();
    clock.increment(2_000);
    actor.send({ type: 'eoiu.detected' });
    expect(actor.getSnapshot().context.reason).toBe('timeout');
    expect(count('countEoiuDetected')).toBe(0);
  });

  it('with checkEnableTable, a valid state file alone is not enough', async () => {
    const { actor, count } = start({ input: { checkEnableTable: true }, sonic: { enabled: false } });
    actor.send({ type: 'stateFile.loaded' });
    await flush();
    expect(actor.getSnapshot().output?.mode).toBe('cold');
    expect(count('countColdStart')).toBe(1);
    expect(count('incrementRestoreCount')).toBe(0);
  });

  it('with checkEnableTable and enable=true, a valid state file gives a warm start', async () => {
    const { actor } = start({ input: { checkEnableTable: true }, sonic: { enabled: true } });
    actor.send({ type: 'stateFile.loaded' });
    await flush();
    expect(actor.getSnapshot().value).toBe('initialSyncInProgress');
  });

  it('enable=true without a valid state file is a cold start', async () => {
    const { actor } = start({ input: { checkEnableTable: true }, sonic: { enabled: true } });
    actor.send({ type: 'stateFile.cold', reason: 'corrupt' });
    await flush();
    expect(actor.getSnapshot().output?.mode).toBe('cold');
  });

  it('an unreadable SONiC config refuses warm start when the enable table is required, not otherwise', async () => {
    const a = start({ input: { checkEnableTable: true }, sonic: new Error('redis down') });
    a.actor.send({ type: 'stateFile.loaded' });
    await flush();
    expect(a.actor.getSnapshot().output?.mode).toBe('cold');
    const b = start({ sonic: new Error('redis down') });
    b.actor.send({ type: 'stateFile.loaded' });
    await flush();
    expect(b.actor.getSnapshot().value).toBe('initialSyncInProgress');
    expect(b.actor.getSnapshot().context.timeoutSecs).toBe(10);
  });
});
