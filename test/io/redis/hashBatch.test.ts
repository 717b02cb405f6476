// HSET / DEL writes as one EVAL (src/io/redis/hashBatch.ts): against the real redis-server, any batch of writes must
// leave the same data and give the same per-command errors (by command index) as the same commands through an ioredis
// pipeline; an EVAL refused as a whole is a reply error of every command. The Buffer encoder gives exactly the bytes
// of the simple string encoder (encodeCommand) for the same argument list, for any byte text (bytes that are not
// UTF-8 included), over any sequence of batches on one reused encoder, and Redis stores exactly those bytes.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dumpDb, redisClients } from '../../support/redisClients.js';
import { bytesToText, textToBytes } from '../../../src/io/redis/byteText.js';
import {
  commandCount,
  HashBatchEncoder,
  hashBatchScript,
  plainCommands,
  sendHashBatch,
  type HashWrite,
} from '../../../src/io/redis/hashBatch.js';
import { encodeCommand } from '../../../src/io/redis/respBatch.js';

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
// Any bytes as byte text (lone U+DC80…U+DCFF for bytes that are not UTF-8), and long text (lengths of 2+ digits).
const byteText = fc.oneof(
  text,
  fc.constantFrom('é', '\u00ff\u0080', 'Kà', '€😀', '\udc80\udcff', 'a\udcc3'),
  fc.uint8Array({ maxLength: 24 }).map((a) => bytesToText(Buffer.from(a))),
  fc.string({ unit: 'grapheme', minLength: 3, maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 12 }),
);
/** The EVAL of a batch as the simple encoder writes it: the argument list, then encodeCommand. */
function simpleEval(writes: readonly HashWrite[]): Buffer {
  const argv = ['eval', hashBatchScript, '0'];
  for (const w of writes) argv.push(w.del ? 'd' : 's', w.key, String(w.fields.length >> 1), ...w.fields);
  return Buffer.from(encodeCommand(argv));
}
const byteWrite: fc.Arbitrary<HashWrite> = fc.record({
  key: fc.oneof(key, byteText),
  del: fc.boolean(),
  fields: fc.array(fc.tuple(byteText, byteText), { maxLength: 6 }).map((fv) => fv.flat()),
});
/** A database's hashes as bytes (hex): key → [field, value] pairs in HKEYS order. */
async function dumpBytes(c: Awaited<ReturnType<typeof client>>): Promise<Record<string, string[][]>> {
  const out: Record<string, string[][]> = {};
  for (const k of await c.keysBuffer('*')) {
    if ((await c.type(k)) !== 'hash') continue;
    const pairs: string[][] = [];
    for (const f of await c.hkeysBuffer(k))
      pairs.push([f.toString('hex'), (await c.hgetBuffer(k, f))!.toString('hex')]);
    out[k.toString('hex')] = pairs; // in HKEYS order: the same commands in the same order give the same order
  }
  return out;
}
const write: fc.Arbitrary<HashWrite> = fc.record({
  key,
  del: fc.boolean(),
  fields: fc.array(fc.tuple(text, text), { maxLength: 5 }).map((fv) => fv.flat()),
});

describe('HashBatchEncoder', () => {
  it('gives the bytes of encodeCommand for any batch of byte text, over batches on one reused encoder', () => {
    const enc = new HashBatchEncoder();
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.array(byteWrite, { maxLength: 12 }), fc.boolean()), { minLength: 1, maxLength: 6 }),
        (batches) => {
          for (const [writes, release] of batches) {
            enc.begin();
            for (const w of writes) enc.addFlat(w.key, w.del, w.fields);
            expect(enc.commands).toBe(commandCount(writes));
            const bytes = enc.finish();
            expect(bytes.toString('hex')).toBe(simpleEval(writes).toString('hex'));
            if (release) enc.release(bytes);
          }
        },
      ),
      { numRuns: 1_000 },
    );
  });

  it('encodes a record of fields under a key prefix as the flat write of prefix + name', () => {
    const enc = new HashBatchEncoder();
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            prefix: fc.constantFrom('PORT_TABLE|', '', 'é|', '\ud800'),
            name: byteText,
            del: fc.boolean(),
            fields: fc.array(fc.tuple(byteText, byteText), { maxLength: 5 }),
          }),
          { maxLength: 10 },
        ),
        (writes) => {
          enc.begin();
          const flat: HashWrite[] = [];
          for (const w of writes) {
            const record = Object.fromEntries(w.fields);
            const fields = Object.entries(record).flat();
            enc.addRecord(w.prefix, w.name, w.del, record, fields.length >> 1);
            flat.push({ key: w.prefix + w.name, del: w.del, fields });
          }
          expect(enc.finish().toString('hex')).toBe(simpleEval(flat).toString('hex'));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('grows past its first buffer and keeps the bytes of a batch that is still lent', () => {
    const enc = new HashBatchEncoder();
    const big: HashWrite[] = [{ key: 'k', del: false, fields: ['f', 'é'.repeat(100_000), 'g', 'x'.repeat(70_000)] }];
    enc.begin();
    enc.addFlat(big[0]!.key, false, big[0]!.fields);
    const first = enc.finish();
    const copy = Buffer.from(first);
    expect(first.equals(simpleEval(big))).toBe(true);
    enc.begin(); // not released: a new buffer
    enc.addFlat('other', true, ['a', 'b']);
    enc.finish();
    expect(first.equals(copy)).toBe(true);
  });
});

describe('sendHashBatch', () => {
  it('stores any bytes exactly as an ioredis pipeline of the same commands as Buffers does', async () => {
    const batchClient = await client(DB_BATCH);
    const pipeClient = await client(DB_PIPE);
    await fc.assert(
      fc.asyncProperty(fc.array(byteWrite, { maxLength: 30 }), async (writes) => {
        await batchClient.flushdb();
        await pipeClient.flushdb();
        const viaBatch = await sendHashBatch(batchClient, writes);
        const pipe = pipeClient.pipeline();
        for (const [name, ...args] of plainCommands(writes)) pipe.call(name!, ...args.map(textToBytes));
        const viaPipe = (await pipe.exec()) ?? [];
        expect(viaBatch.map(([err]) => err?.message ?? null)).toEqual(viaPipe.map(([err]) => err?.message ?? null));
        expect(await dumpBytes(batchClient)).toEqual(await dumpBytes(pipeClient));
      }),
      { numRuns: 60 },
    );
  });

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
