// warmRestart on a SimulatedClock: the reference scenarios (cold start, warm start with EOIU, timeout without EOIU,
// zero timeout, multiple timeout checks) plus the SONiC bookkeeping and the enable-table / CONFIG_DB timer rules.
import { describe, expect, it } from 'vitest';
import { createActor, createMachine, SimulatedClock, type AnyActorRef } from 'xstate';
import { warmRestartMachine, type SonicWarmRestartConfig } from '../../../src/machines/warmRestart/warmRestart.js';

const flush = () => new Promise((r) => setTimeout(r, 0));

function start(opts: {
  input?: { timeoutSecs?: number; checkEnableTable?: boolean; authority?: 'sonic' | 'stateFile' };
  sonic?: SonicWarmRestartConfig | Error;
}) {
  const log: string[] = [];
  const rec =
    (name: string) =>
    (_: unknown, params?: unknown): void => {
      log.push(params === undefined ? name : `${name} ${JSON.stringify(params)}`);
    };
  const clock = new SimulatedClock();
  // The children are inert here (they have their own tests): the test sends what they would tell their parent.
  const inert = createMachine({ initial: 'idle', states: { idle: {} } }) as never;
  const machine = warmRestartMachine.provide({
    actors: { stateFile: inert, eoiuDetector: inert, appDbGate: inert },
    actions: {
      // redisTables answers the request a tick later.
      requestSonicConfig: ({ self }: { self: AnyActorRef }) => {
        const s = opts.sonic ?? { enabled: false, hasRestoreCount: false };
        setTimeout(() =>
          self.send(
            s instanceof Error
              ? { type: 'redis.requestFailed', request: 'readWarmRestartConfig', message: s.message }
              : { type: 'redis.warmRestartConfig', ...s },
          ),
        );
      },
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
  const actor = createActor(machine, { clock, input: { authority: 'stateFile', ...(opts.input ?? {}) } });
  actor.start();
  const count = (prefix: string) => log.filter((l) => l.startsWith(prefix)).length;
  return {
    actor,
    clock,
    log: {
      filter: (f: (l: string) => boolean) =>
        log.filter((l) => !/^(notifySynced|notifyDecided|resetRestoreCount)/.test(l) && f(l)),
    },
    count,
  };
}

const loaded = { type: 'stateFile.loaded', ports: {}, slot: 'current', savedAt: 1 } as const;
/** The decision region's state. */
function decision(actor: { getSnapshot(): { value: unknown } }): string {
  return (
    (actor.getSnapshot().value as { running?: { decision?: string } }).running?.decision ??
    String(actor.getSnapshot().value)
  );
}

describe('warmRestart machine', () => {
  it('cold start without a state file: disabled, counted, gate opened at once without reconciliation', async () => {
    const { actor, log } = start({});
    actor.send({ type: 'stateFile.cold', reason: 'missing' });
    await flush();
    expect(decision(actor)).toBe('coldStart');
    actor.send({ type: 'appDbGate.opened', set: 0, del: 0 });
    const snap = actor.getSnapshot();
    expect(decision(actor)).toBe('complete');
    expect(snap.context).toMatchObject({ mode: 'cold', reason: 'cold', timeoutSecs: 10 });
    expect(log.filter((l) => !l.startsWith('logDecision'))).toEqual([
      'setWarmRestartState {"state":"disabled"}',
      'countColdStart',
      'openAppDbGate {"reconcile":false}',
    ]);
  });

  it('waits in checking until both the state file and the SONiC config have answered', async () => {
    const { actor } = start({});
    await flush();
    expect(decision(actor)).toBe('checking');
    actor.send(loaded);
    expect(decision(actor)).toBe('initialSyncInProgress');
  });

  it('warm start with EOIU: initialized, restore_count+1, restored, then reconciled after the gate opened', async () => {
    const { actor, log, count } = start({});
    actor.send(loaded);
    await flush();
    expect(decision(actor)).toBe('initialSyncInProgress');
    expect(count('openAppDbGate')).toBe(0);
    actor.send({ type: 'eoiu.detected', messagesSeen: 0, dumpedInterfaces: 0 });
    expect(decision(actor)).toBe('initialSyncComplete');
    expect(actor.getSnapshot().context.reason).toBe('eoiu');
    actor.send({ type: 'appDbGate.opened', set: 0, del: 0 });
    expect(actor.getSnapshot().context).toMatchObject({ mode: 'warm', reason: 'eoiu', timeoutSecs: 10 });
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
    actor.send(loaded);
    await flush();
    clock.increment(9_999);
    expect(decision(actor)).toBe('initialSyncInProgress');
    clock.increment(1);
    expect(decision(actor)).toBe('initialSyncComplete');
    expect(actor.getSnapshot().context.reason).toBe('timeout');
    expect(count('countEoiuTimeout')).toBe(1);
    expect(count('countEoiuDetected')).toBe(0);
    expect(count('openAppDbGate {"reconcile":true}')).toBe(1);
  });

  it('the default timeout is 10 s', async () => {
    const { actor, clock } = start({});
    actor.send(loaded);
    await flush();
    clock.increment(9_999);
    expect(decision(actor)).toBe('initialSyncInProgress');
    clock.increment(1);
    expect(decision(actor)).toBe('initialSyncComplete');
  });

  it('zero timeout completes the initial sync at once', async () => {
    const { actor, count } = start({ input: { timeoutSecs: 0 } });
    actor.send(loaded);
    await flush();
    expect(decision(actor)).toBe('initialSyncComplete');
    expect(actor.getSnapshot().context.reason).toBe('timeout');
    expect(count('countEoiuTimeout')).toBe(1);
    expect(count('openAppDbGate')).toBe(1);
  });

  it('multiple timeout checks and late EOIUs never complete twice', async () => {
    const { actor, clock, count } = start({});
    actor.send(loaded);
    await flush();
    actor.send({ type: 'eoiu.detected', messagesSeen: 0, dumpedInterfaces: 0 });
    for (let i = 0; i < 5; i += 1) clock.increment(10_000);
    actor.send({ type: 'eoiu.detected', messagesSeen: 0, dumpedInterfaces: 0 });
    expect(count('countEoiuDetected') + count('countEoiuTimeout')).toBe(1);
    expect(count('openAppDbGate')).toBe(1);
    expect(count('recordInitialSyncEnd')).toBe(1);
    actor.send({ type: 'appDbGate.opened', set: 0, del: 0 });
    expect(actor.getSnapshot().value).toMatchObject({ running: { decision: 'complete' } });
    expect(count('setWarmRestartState {"state":"reconciled"}')).toBe(1);
  });

  it('an EOIU after the timeout does not change the reason', async () => {
    const { actor, clock, count } = start({ input: { timeoutSecs: 2 } });
    actor.send(loaded);
    await flush();
    clock.increment(2_000);
    actor.send({ type: 'eoiu.detected', messagesSeen: 0, dumpedInterfaces: 0 });
    expect(actor.getSnapshot().context.reason).toBe('timeout');
    expect(count('countEoiuDetected')).toBe(0);
  });

  it('with checkEnableTable, a valid state file alone is not enough', async () => {
    const { actor, count } = start({
      input: { checkEnableTable: true },
      sonic: { enabled: false, hasRestoreCount: true },
    });
    actor.send(loaded);
    await flush();
    expect(actor.getSnapshot().context.mode).toBe('cold');
    expect(count('countColdStart')).toBe(1);
    expect(count('incrementRestoreCount')).toBe(0);
  });

  it('with checkEnableTable and enable=true, a valid state file gives a warm start', async () => {
    const { actor } = start({ input: { checkEnableTable: true }, sonic: { enabled: true, hasRestoreCount: true } });
    actor.send(loaded);
    await flush();
    expect(decision(actor)).toBe('initialSyncInProgress');
  });

  it('enable=true without a valid state file is a cold start', async () => {
    const { actor } = start({ input: { checkEnableTable: true }, sonic: { enabled: true, hasRestoreCount: true } });
    actor.send({ type: 'stateFile.cold', reason: 'corrupt' });
    await flush();
    expect(actor.getSnapshot().context.mode).toBe('cold');
  });

  it('an unreadable SONiC config refuses warm start when the enable table is required, not otherwise', async () => {
    const a = start({ input: { checkEnableTable: true }, sonic: new Error('redis down') });
    a.actor.send(loaded);
    await flush();
    expect(a.actor.getSnapshot().context.mode).toBe('cold');
    const b = start({ sonic: new Error('redis down') });
    b.actor.send(loaded);
    await flush();
    expect(decision(b.actor)).toBe('initialSyncInProgress');
    expect(b.actor.getSnapshot().context.timeoutSecs).toBe(10);
  });
});

describe("warmRestart machine, SONiC's authority (the default)", () => {
  const sonic = (enabled: boolean, hasRestoreCount: boolean) => ({ enabled, hasRestoreCount });

  it('enable=true and a restore_count: warm, restore_count + 1, portsync told at once', async () => {
    const { actor, count } = start({ input: { authority: 'sonic' }, sonic: sonic(true, true) });
    actor.send(loaded);
    await flush();
    expect(decision(actor)).toBe('initialSyncInProgress');
    expect(count('incrementRestoreCount')).toBe(1);
    expect(count('resetRestoreCount')).toBe(0);
    expect(count('notifyDecided')).toBe(1);
    expect(actor.getSnapshot().context.mode).toBe('warm');
  });

  it('enable=true and a restore_count without a usable state file: still warm (expected ports from CONFIG_DB)', async () => {
    const { actor } = start({ input: { authority: 'sonic' }, sonic: sonic(true, true) });
    actor.send({ type: 'stateFile.cold', reason: 'corrupt' });
    actor.send({ type: 'config.ports', names: ['Ethernet4', 'Ethernet0'] });
    await flush();
    expect(decision(actor)).toBe('initialSyncInProgress');
    expect(actor.getSnapshot().context.expectedPorts).toEqual(['Ethernet0', 'Ethernet4']);
  });

  it('enable unset with a valid state file (a cold restart of swss): cold, restore_count set to "0"', async () => {
    const { actor, count, clock } = start({ input: { authority: 'sonic' }, sonic: sonic(false, true) });
    actor.send(loaded);
    await flush();
    expect(decision(actor)).toBe('coldStart');
    expect(count('resetRestoreCount')).toBe(1);
    expect(count('incrementRestoreCount')).toBe(0);
    expect(count('openAppDbGate {"reconcile":false}')).toBe(1);
    // No EOIU wait, no fake warm restart recorded.
    clock.increment(60_000);
    expect(count('countEoiuTimeout')).toBe(0);
    expect(count('countWarmStart')).toBe(0);
  });

  it('enable=true without a restore_count (never started before): cold', async () => {
    const { actor, count } = start({ input: { authority: 'sonic' }, sonic: sonic(true, false) });
    actor.send(loaded);
    await flush();
    expect(actor.getSnapshot().context.mode).toBe('cold');
    expect(count('resetRestoreCount')).toBe(1);
  });

  it('Redis unreadable at the decision: cold', async () => {
    const { actor } = start({ input: { authority: 'sonic' }, sonic: new Error('redis down') });
    actor.send(loaded);
    await flush();
    expect(actor.getSnapshot().context.mode).toBe('cold');
  });
});
