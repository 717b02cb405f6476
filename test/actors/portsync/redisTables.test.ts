// redisTables, the one owner of Redis, against the real test Redis: it answers the warm-restart machines' requests as
// events sent to the requester by systemId (the warm-restart configuration, APP_DB as a consumer will see it, the
// reconciliation writes), keeps WARM_RESTART_TABLE|portsyncd restore_count as SONiC does, reports the initial
// CONFIG_DB / STATE_DB read, and fails a request made while Redis cannot be reached after requestWaitMs.
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createActor, fromCallback, setup, type AnyEventObject } from 'xstate';
import { createRedisTables } from '../../../src/actors/portsync/redisTables.js';
import { createLogger } from '../../../src/io/log.js';
import type { RedisTablesCommand } from '../../../src/machines/portsync/events.js';
import { appDbDiff } from '../../../src/machines/warmRestart/appDbDiff.js';

const APPL_DB = 33;
const CONFIG_DB = 34;
const STATE_DB = 35;
const databases = {
  appDb: { id: APPL_DB, separator: ':' },
  configDb: { id: CONFIG_DB, separator: '|' },
  stateDb: { id: STATE_DB, separator: '|' },
};

/** A parent with the real redisTables and a stand-in "warmRestart" that records what it is sent. */
function harness(url: string, requestWaitMs = 5_000) {
  const replies: AnyEventObject[] = [];
  const reports: AnyEventObject[] = [];
  const machine = setup({
    actors: {
      redisTables: createRedisTables({
        url,
        databases,
        logger: createLogger('silent'),
        registry: new Registry(),
        requestWaitMs,
        backoff: { initialMs: 20, maxMs: 100 },
      }),
      requester: fromCallback(({ receive }) => receive((e: AnyEventObject) => void replies.push(e))),
    },
  }).createMachine({
    invoke: [
      { id: 'redisTables', systemId: 'redisTables', src: 'redisTables' },
      { id: 'warmRestart', systemId: 'warmRestart', src: 'requester' },
    ],
    on: { '*': { actions: ({ event }) => void reports.push(event) } },
  });
  const actor = createActor(machine).start();
  const send = (cmd: RedisTablesCommand) => actor.system.get('redisTables')!.send(cmd);
  return { actor, send, replies, reports };
}

describe('redisTables', () => {
  const socket = inject('redisSocket');
  const app = new Redis({ path: socket, db: APPL_DB });
  const config = new Redis({ path: socket, db: CONFIG_DB });
  const state = new Redis({ path: socket, db: STATE_DB });
  beforeAll(async () => {
    await Promise.all([app.flushdb(), config.flushdb(), state.flushdb()]);
    await config.hset('PORT|Ethernet4', { lanes: '5' });
    await config.hset('PORT|Ethernet0', { lanes: '1' });
    await state.hset('PORT_TABLE|Ethernet96', { state: 'ok' });
  });
  afterAll(() => [app, config, state].forEach((c) => c.disconnect()));

  it('reports redis.up and the initial CONFIG_DB / STATE_DB read', async () => {
    const h = harness(socket);
    await expect.poll(() => h.reports.map((e) => e.type)).toEqual(['redis.up', 'redis.initialState']);
    expect(h.reports[1]).toMatchObject({
      configPorts: { Ethernet0: { lanes: '1' }, Ethernet4: { lanes: '5' } },
      statePorts: ['Ethernet96'],
    });
    expect(Object.keys((h.reports[1] as unknown as { configPorts: object }).configPorts)).toEqual([
      'Ethernet0',
      'Ethernet4',
    ]);
    h.actor.stop();
  });

  it('answers the warm-restart configuration and keeps restore_count as SONiC does', async () => {
    const h = harness(socket);
    h.send({ type: 'redis.readWarmRestartConfig', replyTo: 'warmRestart' });
    await expect
      .poll(() => h.replies)
      .toEqual([{ type: 'redis.warmRestartConfig', enabled: false, hasRestoreCount: false }]);
    h.send({ type: 'redis.restoreCount', change: 'reset' });
    await expect.poll(() => state.hget('WARM_RESTART_TABLE|portsyncd', 'restore_count')).toBe('0');
    await state.hset('WARM_RESTART_ENABLE_TABLE|system', 'enable', 'true');
    h.send({ type: 'redis.readWarmRestartConfig', replyTo: 'warmRestart' });
    await expect
      .poll(() => h.replies.at(-1))
      .toEqual({
        type: 'redis.warmRestartConfig',
        enabled: true,
        hasRestoreCount: true,
      });
    h.send({ type: 'redis.restoreCount', change: 'increment' });
    h.send({ type: 'redis.warmRestartState', state: 'restored' });
    await expect
      .poll(() => state.hgetall('WARM_RESTART_TABLE|portsyncd'))
      .toEqual({ restore_count: '1', state: 'restored' });
    h.actor.stop();
  });

  it('answers APP_DB as a consumer will see it, and confirms reconciliation writes once Redis has them', async () => {
    const h = harness(socket);
    await app.hset('PORT_TABLE:Ethernet0', { lanes: '1', mtu: '9100' });
    await app.hset('PORT_TABLE:Ethernet8', { lanes: '9' });
    // Pending producer writes: Ethernet0's mtu changes, Ethernet8 is deleted.
    await app.sadd('PORT_TABLE_KEY_SET', 'Ethernet0', 'Ethernet8');
    await app.hset('_PORT_TABLE:Ethernet0', { mtu: '1500' });
    await app.sadd('PORT_TABLE_DEL_SET', 'Ethernet8');
    h.send({ type: 'redis.readAppDb', replyTo: 'warmRestart' });
    await expect
      .poll(() => h.replies)
      .toEqual([{ type: 'redis.appDbContent', content: { Ethernet0: { lanes: '1', mtu: '1500' } } }]);
    h.send({
      type: 'redis.reconcileAppDb',
      ops: [{ op: 'set', key: 'PortInitDone', fields: { lanes: '0' } }],
      replyTo: 'warmRestart',
    });
    await expect.poll(() => h.replies.at(-1)).toEqual({ type: 'redis.appDbWritten' });
    expect(await app.hgetall('_PORT_TABLE:PortInitDone')).toEqual({ lanes: '0' });
    expect(await app.sismember('PORT_TABLE_KEY_SET', 'PortInitDone')).toBe(1);
    h.actor.stop();
  });

  it('a warm start reads APP_DB early (redis.watchAppDb); what other producers write before the reconciliation is in its answer', async () => {
    await app.flushdb();
    await app.hset('PORT_TABLE:Ethernet0', { lanes: '1', mtu: '9100' });
    await app.hset('PORT_TABLE:Ethernet4', { lanes: '5', mtu: '9100' });
    await app.hset('PORT_TABLE:Ethernet8', { lanes: '9' });
    const h = harness(socket);
    await expect.poll(() => h.reports.some((e) => e.type === 'redis.up')).toBe(true);
    h.send({ type: 'redis.watchAppDb' });
    // The watch runs (keyspace events on for it), the early read is taken; then another producer (portmgrd,
    // orchagent's consumer) writes APPL_DB.
    await expect.poll(async () => ((await app.config('GET', 'notify-keyspace-events')) as string[])[1]).toMatch(/K/);
    await new Promise((r) => setTimeout(r, 300));
    await app.hset('PORT_TABLE:Ethernet0', 'mtu', '1500');
    await app.del('PORT_TABLE:Ethernet8');
    await app.hset('PORT_TABLE:Ethernet12', { lanes: '13' });
    await app.sadd('PORT_TABLE_KEY_SET', 'Ethernet4');
    await app.hset('_PORT_TABLE:Ethernet4', { admin_status: 'up' });
    h.send({ type: 'redis.readAppDb', replyTo: 'warmRestart' });
    await expect
      .poll(() => h.replies)
      .toEqual([
        {
          type: 'redis.appDbContent',
          content: {
            Ethernet0: { lanes: '1', mtu: '1500' },
            Ethernet4: { lanes: '5', mtu: '9100', admin_status: 'up' },
            Ethernet12: { lanes: '13' },
          },
        },
      ]);
    h.actor.stop();
  });

  it('carries CONFIG_DB bytes to APP_DB unaltered, and a warm reconciliation compares bytes', async () => {
    await app.flushdb();
    // An earlier run left byte 0xff in APP_DB; CONFIG_DB now says 0xfe (both were U+FFFD to a UTF-8 reader).
    await config.hset('PORT|Ethernet12', { lanes: '13', description: Buffer.from([0xfe, 0x78]) });
    await app.hset('PORT_TABLE:Ethernet12', { lanes: '13', description: Buffer.from([0xff, 0x78]) });
    const h = harness(socket);
    await expect.poll(() => h.reports.some((e) => e.type === 'redis.initialState')).toBe(true);
    const { configPorts } = h.reports.find((e) => e.type === 'redis.initialState') as unknown as {
      configPorts: Record<string, Record<string, string>>;
    };
    expect(configPorts.Ethernet12).toEqual({ lanes: '13', description: '\udcfex' });
    h.send({ type: 'redis.readAppDb', replyTo: 'warmRestart' });
    await expect.poll(() => h.replies.length).toBe(1);
    const current = (h.replies[0] as unknown as { content: Record<string, Record<string, string>> }).content;
    const held = { Ethernet12: { op: 'set' as const, key: 'Ethernet12', fields: configPorts.Ethernet12! } };
    const ops = appDbDiff(current, held);
    expect(ops).toEqual([held.Ethernet12]);
    h.send({ type: 'redis.reconcileAppDb', ops, replyTo: 'warmRestart' });
    await expect.poll(() => h.replies.at(-1)).toEqual({ type: 'redis.appDbWritten' });
    expect((await app.hgetBuffer('_PORT_TABLE:Ethernet12', 'description'))!.equals(Buffer.from([0xfe, 0x78]))).toBe(
      true,
    );
    // Read again: the same bytes are equal now, nothing left to write.
    h.send({ type: 'redis.readAppDb', replyTo: 'warmRestart' });
    await expect.poll(() => h.replies.length).toBe(3);
    expect(
      appDbDiff((h.replies[2] as unknown as { content: Record<string, Record<string, string>> }).content, held),
    ).toEqual([]);
    h.actor.stop();
  });

  it('reads DEVICE_METADATA|localhost with the initial state (present, switch_type)', async () => {
    const first = harness(socket);
    await expect.poll(() => first.reports.find((e) => e.type === 'redis.initialState')).toBeDefined();
    expect(first.reports.find((e) => e.type === 'redis.initialState')).toMatchObject({
      deviceMetadata: { present: false },
    });
    first.actor.stop();
    await config.hset('DEVICE_METADATA|localhost', { hwsku: 'x', switch_type: 'dpu' });
    const h = harness(socket);
    await expect.poll(() => h.reports.find((e) => e.type === 'redis.initialState')).toBeDefined();
    expect(h.reports.find((e) => e.type === 'redis.initialState')).toMatchObject({
      deviceMetadata: { present: true, switchType: 'dpu' },
    });
    h.actor.stop();
    await config.del('DEVICE_METADATA|localhost');
  });

  it('checkAppDbPorts: only the names whose consumed APPL_DB PORT_TABLE:<name> exists (not the temp hash)', async () => {
    await app.flushdb();
    await app.hset('PORT_TABLE:Ethernet0', { lanes: '1' });
    // Written by a producer but not popped yet: only _PORT_TABLE:<name> and the key set.
    await app.hset('_PORT_TABLE:Ethernet4', { lanes: '5' });
    await app.sadd('PORT_TABLE_KEY_SET', 'Ethernet4');
    const h = harness(socket);
    h.send({ type: 'redis.checkAppDbPorts', names: ['Ethernet0', 'Ethernet4', 'Ethernet8'] });
    await expect
      .poll(() => h.reports.find((e) => e.type === 'redis.appDbPorts'))
      .toEqual({
        type: 'redis.appDbPorts',
        present: ['Ethernet0'],
      });
    h.actor.stop();
    await app.del('PORT_TABLE:Ethernet0', '_PORT_TABLE:Ethernet4', 'PORT_TABLE_KEY_SET');
  });

  it('a request while Redis cannot be reached fails after requestWaitMs', async () => {
    const h = harness('/nonexistent/redis.sock', 200);
    h.send({ type: 'redis.readAppDb', replyTo: 'warmRestart' });
    await expect
      .poll(() => h.replies, { timeout: 3_000 })
      .toEqual([{ type: 'redis.requestFailed', request: 'readAppDb', message: 'Redis not available within 200 ms' }]);
    h.actor.stop();
  });
});
