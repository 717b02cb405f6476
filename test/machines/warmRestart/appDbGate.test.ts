// appDbGate: holds while closed (writes nothing), reconciles exactly the diff, passes through when open, retries
// when Redis is down. Fakes stand for Redis: a map of APP_DB content and a list of write calls.
import { describe, expect, it } from 'vitest';
import { createActor, SimulatedClock, type AnyActorRef } from 'xstate';
import {
  appDbGateMachine,
  holdOps,
  type AppDbContent,
  type DesiredOp,
} from '../../../src/machines/warmRestart/appDbGate.js';
import { appDbDiff, fieldsDiffer } from '../../../src/machines/warmRestart/appDbDiff.js';

const flush = async () => {
  for (let i = 0; i < 5; i += 1) await new Promise((r) => setTimeout(r, 0));
};

function start(opts: { appDb?: AppDbContent; readFails?: number; writeFails?: number } = {}) {
  const appDb: AppDbContent = structuredClone(opts.appDb ?? {});
  const reconcileWrites: DesiredOp[][] = [];
  const forwarded: DesiredOp[][] = [];
  const held: number[] = [];
  const counted: { set: number; del: number }[] = [];
  const failures: string[] = [];
  let readFails = opts.readFails ?? 0;
  let writeFails = opts.writeFails ?? 0;
  let reads = 0;
  const clock = new SimulatedClock();
  // The Redis owner's answers come back as events, a tick later (as redisTables answers).
  const later = (self: AnyActorRef, e: Parameters<AnyActorRef['send']>[0]) => setTimeout(() => self.send(e), 0);
  const machine = appDbGateMachine.provide({
    actions: {
      requestAppDbRead: ({ self }) => {
        reads += 1;
        if (readFails > 0) {
          readFails -= 1;
          later(self, { type: 'redis.requestFailed', request: 'readAppDb', message: 'ECONNREFUSED' });
        } else later(self, { type: 'redis.appDbContent', content: structuredClone(appDb) });
      },
      requestReconcileWrite: ({ self }, p: { ops: DesiredOp[] }) => {
        if (writeFails > 0) {
          writeFails -= 1;
          later(self, { type: 'redis.requestFailed', request: 'reconcileAppDb', message: 'ECONNRESET' });
          return;
        }
        reconcileWrites.push(p.ops);
        later(self, { type: 'redis.appDbWritten' });
      },
      forwardToAppDb: (_, p: { ops: DesiredOp[] }) => void forwarded.push(p.ops),
      heldKeysChanged: (_, p: { count: number }) => void held.push(p.count),
      countReconcileWrites: (_, p: { set: number; del: number }) => void counted.push(p),
      logReconcileFailure: (_, p: { message: string }) => void failures.push(p.message),
    },
  });
  const opened: unknown[] = [];
  const actor = createActor(machine, { clock, input: { retryMs: 1000 } });
  actor.on('appDbGate.opened', (e) => opened.push(e));
  actor.start();
  return { actor, clock, reconcileWrites, forwarded, held, counted, failures, opened, reads: () => reads };
}

const set = (key: string, fields: Record<string, string>): DesiredOp => ({ op: 'set', key, fields });

describe('appDbGate machine', () => {
  it('never writes while closed, and holds the latest value per key', async () => {
    const g = start();
    g.actor.send({ type: 'appDb.write', ops: [set('Ethernet0', { admin_status: 'up', mtu: '9100' })] });
    g.actor.send({ type: 'appDb.write', ops: [set('Ethernet0', { mtu: '1500' }), set('Ethernet4', { mtu: '9100' })] });
    g.actor.send({ type: 'appDb.write', ops: [{ op: 'del', key: 'Ethernet8' }] });
    await flush();
    expect(g.actor.getSnapshot().value).toBe('closed');
    expect(g.forwarded).toEqual([]);
    expect(g.reconcileWrites).toEqual([]);
    expect(g.actor.getSnapshot().context.held).toEqual({
      Ethernet0: set('Ethernet0', { admin_status: 'up', mtu: '1500' }),
      Ethernet4: set('Ethernet4', { mtu: '9100' }),
      Ethernet8: { op: 'del', key: 'Ethernet8' },
    });
    expect(g.held).toEqual([1, 2, 3]);
  });

  it('reconciles exactly the diff: changed fields, new keys, deleted and no-longer-desired keys', async () => {
    const g = start({
      appDb: {
        Ethernet0: { admin_status: 'up', mtu: '9100', lanes: '0' }, // unchanged (extra field ignored)
        Ethernet4: { admin_status: 'up', mtu: '9100' }, // mtu changes
        Ethernet8: { admin_status: 'up', mtu: '9100' }, // deleted by the service
        Ethernet12: { admin_status: 'up', mtu: '9100' }, // not mentioned: no longer desired
        PortConfigDone: { count: '4' },
      },
    });
    g.actor.send({
      type: 'appDb.write',
      ops: [
        set('Ethernet0', { admin_status: 'up', mtu: '9100' }),
        set('Ethernet4', { admin_status: 'up', mtu: '1500' }),
        { op: 'del', key: 'Ethernet8' },
        set('Ethernet16', { admin_status: 'down', mtu: '9100' }), // added
        set('PortConfigDone', { count: '4' }),
      ],
    });
    g.actor.send({ type: 'appDbGate.open', reconcile: true });
    await flush();
    expect(g.actor.getSnapshot().value).toBe('open');
    expect(g.reconcileWrites).toEqual([
      [
        set('Ethernet16', { admin_status: 'down', mtu: '9100' }),
        set('Ethernet4', { admin_status: 'up', mtu: '1500' }),
        { op: 'del', key: 'Ethernet8' },
        { op: 'del', key: 'Ethernet12' },
      ],
    ]);
    expect(g.counted).toEqual([{ set: 2, del: 2 }]);
    expect(g.opened).toEqual([{ type: 'appDbGate.opened', set: 2, del: 2 }]);
    expect(g.forwarded).toEqual([]);
    expect(g.actor.getSnapshot().context.heldCount).toBe(0);
    expect(g.held.at(-1)).toBe(0);
  });

  it('reconciles nothing when APP_DB already matches', async () => {
    const g = start({ appDb: { Ethernet0: { mtu: '9100' } } });
    g.actor.send({ type: 'appDb.write', ops: [set('Ethernet0', { mtu: '9100' })] });
    g.actor.send({ type: 'appDbGate.open', reconcile: true });
    await flush();
    expect(g.reconcileWrites).toEqual([[]]);
    expect(g.counted).toEqual([{ set: 0, del: 0 }]);
  });

  it('passes writes straight through once open', async () => {
    const g = start();
    g.actor.send({ type: 'appDbGate.open', reconcile: true });
    await flush();
    g.actor.send({ type: 'appDb.write', ops: [set('Ethernet0', { mtu: '1500' })] });
    g.actor.send({ type: 'appDb.write', ops: [{ op: 'del', key: 'Ethernet0' }] });
    expect(g.forwarded).toEqual([[set('Ethernet0', { mtu: '1500' })], [{ op: 'del', key: 'Ethernet0' }]]);
  });

  it('cold start: opens at once and flushes what it held, without reading APP_DB', async () => {
    const g = start({ appDb: { Ethernet12: { mtu: '9100' } } });
    g.actor.send({ type: 'appDb.write', ops: [set('Ethernet0', { mtu: '1500' })] });
    g.actor.send({ type: 'appDbGate.open', reconcile: false });
    await flush();
    expect(g.actor.getSnapshot().value).toBe('open');
    expect(g.reads()).toBe(0);
    expect(g.forwarded).toEqual([[set('Ethernet0', { mtu: '1500' })]]);
  });

  it('Redis down during reconcile: keeps holding, retries after the delay, then writes the diff once', async () => {
    const g = start({ appDb: { Ethernet0: { mtu: '9100' } }, readFails: 2, writeFails: 1 });
    g.actor.send({ type: 'appDb.write', ops: [set('Ethernet0', { mtu: '1500' })] });
    g.actor.send({ type: 'appDbGate.open', reconcile: true });
    await flush();
    expect(g.actor.getSnapshot().matches({ reconciling: 'waitingToRetry' })).toBe(true);
    g.actor.send({ type: 'appDb.write', ops: [set('Ethernet4', { mtu: '9100' })] });
    expect(g.forwarded).toEqual([]);
    g.clock.increment(1000);
    await flush();
    expect(g.reads()).toBe(2);
    g.clock.increment(1000);
    await flush(); // read ok, write fails
    expect(g.reconcileWrites).toEqual([]);
    g.clock.increment(1000);
    await flush();
    expect(g.actor.getSnapshot().value).toBe('open');
    expect(g.reconcileWrites).toEqual([[set('Ethernet0', { mtu: '1500' }), set('Ethernet4', { mtu: '9100' })]]);
    expect(g.failures).toHaveLength(3);
    expect(g.forwarded).toEqual([]);
  });

  it('writes that arrive after the diff was computed are written when the gate opens', async () => {
    const forwarded: DesiredOp[][] = [];
    const writes: DesiredOp[][] = [];
    // The write is answered only when the test releases it.
    let release: () => void = () => {};
    const actor = createActor(
      appDbGateMachine.provide({
        actions: {
          requestAppDbRead: ({ self }) => void setTimeout(() => self.send({ type: 'redis.appDbContent', content: {} })),
          requestReconcileWrite: ({ self }, p: { ops: DesiredOp[] }) => {
            writes.push(p.ops);
            release = () => self.send({ type: 'redis.appDbWritten' });
          },
          forwardToAppDb: (_, p: { ops: DesiredOp[] }) => void forwarded.push(p.ops),
        },
      }),
      { input: {} },
    ).start();
    actor.send({ type: 'appDb.write', ops: [set('Ethernet0', { mtu: '1' })] });
    actor.send({ type: 'appDbGate.open', reconcile: true });
    await flush();
    expect(actor.getSnapshot().matches({ reconciling: 'writing' })).toBe(true);
    actor.send({ type: 'appDb.write', ops: [set('Ethernet0', { mtu: '2' })] });
    actor.send({ type: 'appDb.write', ops: [set('Ethernet0', { speed: '100000' })] });
    expect(forwarded).toEqual([]);
    release();
    await flush();
    expect(writes).toEqual([[set('Ethernet0', { mtu: '1' })]]);
    expect(forwarded).toEqual([[set('Ethernet0', { mtu: '2', speed: '100000' })]]);
  });
});

describe('appDbDiff', () => {
  it('compares only the desired fields', () => {
    expect(fieldsDiffer({ a: '1', b: '2' }, { a: '1' })).toBe(false);
    expect(fieldsDiffer({ a: '1' }, { a: '1', b: '2' })).toBe(true);
    expect(fieldsDiffer(undefined, {})).toBe(true);
  });

  it('keeps keys not mentioned when deleteUnmentioned is off', () => {
    expect(appDbDiff({ x: { a: '1' } }, {}, { deleteUnmentioned: false })).toEqual([]);
    expect(appDbDiff({ x: { a: '1' } }, {})).toEqual([{ op: 'del', key: 'x' }]);
  });

  it('a held del of an absent key writes nothing', () => {
    expect(appDbDiff({}, holdOps({}, [{ op: 'del', key: 'x' }]))).toEqual([]);
  });
});

describe('appDbGate machine: a read of the held keys only (deleteUnmentioned false)', () => {
  it('asks for the held keys, reads again when a key was held meanwhile, and writes the diff of the whole table', async () => {
    const appDb: AppDbContent = {
      Ethernet0: { mtu: '9100', admin_status: 'up' },
      Ethernet4: { mtu: '9100' },
      Ethernet8: { mtu: '9100' },
      PortInitDone: { lanes: '0' },
    };
    const reads: (string[] | undefined)[] = [];
    const writes: DesiredOp[][] = [];
    let onRead: (() => void) | undefined;
    const machine = appDbGateMachine.provide({
      actions: {
        requestAppDbRead: ({ self }, p: { keys: string[] | undefined }) => {
          reads.push(p.keys);
          const content: AppDbContent = {};
          for (const k of p.keys ?? Object.keys(appDb)) if (appDb[k]) content[k] = structuredClone(appDb[k]);
          onRead?.();
          onRead = undefined;
          setTimeout(() => self.send({ type: 'redis.appDbContent', content }), 0);
        },
        requestReconcileWrite: ({ self }, p: { ops: DesiredOp[] }) => {
          writes.push(p.ops);
          setTimeout(() => self.send({ type: 'redis.appDbWritten' }), 0);
        },
      },
    });
    const actor = createActor(machine, { input: { deleteUnmentioned: false } });
    actor.start();
    actor.send({ type: 'appDb.write', ops: [set('Ethernet0', { mtu: '9100' }), set('Ethernet4', { mtu: '1500' })] });
    // While the first read is on its way, a key not asked for is held.
    onRead = () => setTimeout(() => actor.send({ type: 'appDb.write', ops: [set('Ethernet8', { mtu: '1500' })] }), 0);
    actor.send({ type: 'appDbGate.open', reconcile: true });
    await flush();
    expect(reads.map((k) => k?.slice().sort())).toEqual([
      ['Ethernet0', 'Ethernet4'],
      ['Ethernet0', 'Ethernet4', 'Ethernet8'],
    ]);
    const held = actor.getSnapshot().context;
    expect(held.reconciled).toEqual({ set: 2, del: 0 });
    // The same writes as the diff against the whole table: nothing for Ethernet0 (equal), Ethernet4 and Ethernet8.
    const all = holdOps({}, [
      set('Ethernet0', { mtu: '9100' }),
      set('Ethernet4', { mtu: '1500' }),
      set('Ethernet8', { mtu: '1500' }),
    ]);
    expect(writes).toEqual([appDbDiff(appDb, all, { deleteUnmentioned: false })]);
    expect(actor.getSnapshot().value).toBe('open');
  });

  it('reads every key after three reads that each missed a key held meanwhile', async () => {
    const reads: (string[] | undefined)[] = [];
    let n = 0;
    const machine = appDbGateMachine.provide({
      actions: {
        requestAppDbRead: ({ self }, p: { keys: string[] | undefined }) => {
          reads.push(p.keys);
          // Every keyed read sees another new key held before it answers.
          if (p.keys !== undefined)
            setTimeout(() => self.send({ type: 'appDb.write', ops: [set(`Ethernet${(n += 4)}`, { mtu: '1' })] }), 0);
          setTimeout(() => setTimeout(() => self.send({ type: 'redis.appDbContent', content: {} }), 0), 0);
        },
        requestReconcileWrite: ({ self }) => void setTimeout(() => self.send({ type: 'redis.appDbWritten' }), 0),
      },
    });
    const actor = createActor(machine, { input: { deleteUnmentioned: false } });
    actor.start();
    actor.send({ type: 'appDbGate.open', reconcile: true });
    await flush();
    await flush();
    expect(reads.map((k) => (k === undefined ? 'all' : k.length))).toEqual([0, 1, 2, 'all']);
    expect(actor.getSnapshot().value).toBe('open');
    expect(actor.getSnapshot().context.reconciled).toEqual({ set: 3, del: 0 });
  });
});
