// HSET / DEL writes as one EVAL (src/io/redis/hashBatch.ts): against the real redis-server, any batch of writes must
// leave the same data and give the same per-command errors (by command index) as the same commands through an ioredis
// pipeline; an EVAL refused as a whole is a reply error of every command.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dumpDb, redisClients } from '../../support/redisClients.js';
import { commandCount, plainCommands, sendHashBatch, type HashWrite } from '../../../src/io/redis/hashBatch.js';

const DB_BATCH = 42;
const DB_PIPE = 43;
const client = redisClients();

// 'L' is made a list first: HSET on it is a WRONGTYPE reply error for that command only.
const key = fc.constantFrom('PORT_TABLE|Ethernet0', 'PORT_TABLE|Ethernet4', 'PORT_TABLE|a b', 'L');
const text = fc.oneof(
  fc.string({ maxLength: 8 }),
  fc.string({ unit: 'grapheme', maxLength: 6 }),
  fc.constantFrom('a\r\nb', 'd', 's', '0', ''),
);
const write: fc.Arbitrary<HashWrite> = fc.record({
  key,
  del: fc.boolean(),
  fields: fc.array(fc.tuple(text, text), { maxLength: 5 }).map((fv) => fv.flat()),
});

describe('sendHashBatch', () => {
  it('leaves the same data and the same per-command errors as an ioredis pipeline, for any batch', async () => {
    const batchClient = await client(DB_BATCH);
    const pipeClient = await client(DB_PIPE);
    await fc.assert(
      fc.asyncProperty(fc.array(write, { maxLength: 40 }), fc.boolean(), async (writes, listFirst) => {
        await batchClient.flushdb();
        await pipeClient.flushdb();
        if (listFirst) await Promise.all([batchClient.rpush('L', 'x'), pipeClient.rpush('L', 'x')]);
        const viaBatch = await sendHashBatch(batchClient, writes);
        const pipe = pipeClient.pipeline();
        for (const [name, ...args] of plainCommands(writes)) pipe.call(name!, ...args);
        const viaPipe = (await pipe.exec()) ?? [];
        expect(viaBatch).toHaveLength(commandCount(writes));
        expect(viaBatch.map(([err]) => err?.message ?? null)).toEqual(viaPipe.map(([err]) => err?.message ?? null));
        expect(viaBatch.map(([err]) => err?.name ?? null)).toEqual(viaPipe.map(([err]) => err?.name ?? null));
        expect(await dumpDb(batchClient)).toEqual(await dumpDb(pipeClient));
      }),
      { numRuns: 80 },
    );
  });

  it('a batch of 2,000 four-field writes is one command on the server', async () => {
    const c = await client(DB_BATCH);
    await c.flushdb();
    const before = Number(/cmdstat_eval:calls=(\d+)/.exec(await c.info('commandstats'))?.[1] ?? 0);
    const writes: HashWrite[] = Array.from({ length: 2000 }, (_, i) => ({
      key: `PORT_TABLE|Ethernet${i * 4}`,
      del: false,
      fields: ['state', 'ok', 'netdev_oper_status', 'up', 'admin_status', 'up', 'mtu', '9100'],
    }));
    const results = await sendHashBatch(c, writes);
    expect(results.every(([err]) => err === null)).toBe(true);
    expect(results).toHaveLength(2000);
    const after = Number(/cmdstat_eval:calls=(\d+)/.exec(await c.info('commandstats'))?.[1] ?? 0);
    expect(after - before).toBe(1);
    expect(await c.hgetall('PORT_TABLE|Ethernet7996')).toEqual({
      state: 'ok',
      netdev_oper_status: 'up',
      admin_status: 'up',
      mtu: '9100',
    });
  });

  it('a write too big for one script call goes through plain commands, with the same result', async () => {
    const c = await client(DB_BATCH);
    await c.flushdb();
    const fields = Array.from({ length: 8000 }, (_, i) => [`f${i}`, String(i)]).flat();
    const results = await sendHashBatch(c, [{ key: 'big', del: true, fields }]);
    expect(results.map(([err]) => err)).toEqual([null, null]);
    expect(await c.hlen('big')).toBe(8000);
  });
});
