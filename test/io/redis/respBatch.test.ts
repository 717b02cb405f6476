// One flush as one RESP buffer (src/io/redis/respBatch.ts): against the real redis-server, any batch of writes must
// leave the same data and give the same per-command errors as the same commands through an ioredis pipeline, and a
// connection lost mid-batch must settle every command with a retryable (non-reply) error instead of hanging; and
// arguments are bytes: any byte values (as byte text, byteText.ts) go on the wire exactly as ioredis sends the same
// Buffers, and Redis stores exactly those bytes.
import { Command } from 'ioredis';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dumpDb, redisClients } from '../../support/redisClients.js';
import { bytesToText } from '../../../src/io/redis/byteText.js';
import { encodeCommand, sendBatch } from '../../../src/io/redis/respBatch.js';

const DB_BATCH = 40;
const DB_PIPE = 41;
const client = redisClients();

const key = fc.constantFrom('PORT_TABLE|Ethernet0', 'PORT_TABLE|Ethernet4', 'PORT_TABLE|Ethernet8', 'L');
// Field names and values with spaces, CR/LF, non-ASCII and empty strings: the length prefixes are bytes.
const text = fc.oneof(
  fc.string({ maxLength: 8 }),
  fc.string({ unit: 'grapheme', maxLength: 6 }),
  fc.constant('a\r\nb'),
);
const command = fc.oneof(
  fc
    .tuple(key, fc.array(fc.tuple(text, text), { minLength: 1, maxLength: 4 }))
    .map(([k, fv]) => ['hset', k, ...fv.flat()]),
  key.map((k) => ['del', k]),
  // A list command on a hash key (and HSET on the list) gives a WRONGTYPE reply error for that command only.
  fc.tuple(key, text).map(([k, v]) => ['rpush', k, v]),
);

describe('sendBatch', () => {
  it('encodes RESP with byte lengths', () => {
    expect(encodeCommand(['hset', 'k', 'é', ''])).toBe('*4\r\n$4\r\nhset\r\n$1\r\nk\r\n$2\r\né\r\n$0\r\n\r\n');
  });

  it('leaves the same data and the same per-command errors as an ioredis pipeline, for any batch', async () => {
    const batchClient = await client(DB_BATCH);
    const pipeClient = await client(DB_PIPE);
    await fc.assert(
      fc.asyncProperty(fc.array(command, { minLength: 1, maxLength: 40 }), async (commands) => {
        await batchClient.flushdb();
        await pipeClient.flushdb();
        const viaBatch = await sendBatch(batchClient, commands);
        const pipe = pipeClient.pipeline();
        for (const [name, ...args] of commands) pipe.call(name!, ...args);
        const viaPipe = (await pipe.exec()) ?? [];
        expect(viaBatch.map(([err]) => err?.message ?? null)).toEqual(viaPipe.map(([err]) => err?.message ?? null));
        expect(viaBatch.map(([err]) => err?.name ?? null)).toEqual(viaPipe.map(([err]) => err?.name ?? null));
        expect(await dumpDb(batchClient)).toEqual(await dumpDb(pipeClient));
      }),
      { numRuns: 60 },
    );
  });

  it('sends any byte values exactly as ioredis sends them as Buffers', () => {
    const arg = fc.oneof(
      fc.uint8Array({ maxLength: 24 }).map((a) => Buffer.from(a)),
      fc.string({ unit: 'grapheme', maxLength: 6 }).map((t) => Buffer.from(t)),
    );
    fc.assert(
      fc.property(fc.array(arg, { minLength: 1, maxLength: 6 }), (args) => {
        // (evalsha: the ProducerStateTable's command, and one without an ioredis argument transformer)
        const ours = encodeCommand(['evalsha', ...args.map(bytesToText)]);
        const theirs = new Command('evalsha', args).toWritable({});
        expect(Buffer.from(ours).equals(Buffer.from(theirs))).toBe(true);
      }),
      { numRuns: 2_000 },
    );
  });

  it('stores byte values byte for byte, in a batch that mixes them with text', async () => {
    const c = await client(DB_BATCH);
    await c.flushdb();
    const raw = Buffer.concat([Buffer.of(0xff, 0xfe, 0x80), Buffer.from('é€😀'), Buffer.of(0x00)]);
    const field = Buffer.of(0x80, 0x66);
    const key = Buffer.from([0x4b, 0xc3]); // a cut "Kà"
    const results = await sendBatch(c, [
      ['hset', 'plain', 'f', 'é'],
      ['hset', bytesToText(key), bytesToText(field), bytesToText(raw), 'g', 'ok'],
      ['hset', 'plain', 'g', 'after'],
    ]);
    expect(results.map(([err]) => err)).toEqual([null, null, null]);
    expect((await c.hkeysBuffer(key)).map((f) => f.toString('hex')).sort()).toEqual(['67', '8066']);
    expect((await c.hgetBuffer(key, field))!.equals(raw)).toBe(true);
    expect(await c.hgetall('plain')).toEqual({ f: 'é', g: 'after' });
  });

  it('settles every command with a connection error when the connection dies mid-batch, and then refuses', async () => {
    const c = await client(DB_BATCH);
    const commands = Array.from({ length: 20_000 }, (_, i) => ['hset', `big${i % 100}`, 'f', String(i)]);
    const pending = sendBatch(c, commands);
    c.stream.destroy();
    const results = await pending;
    expect(results).toHaveLength(commands.length);
    const failed = results.filter(([err]) => err !== null);
    expect(failed.length).toBeGreaterThan(0);
    // Not reply errors: the writers treat these as "retry the batch".
    for (const [err] of failed) expect(err!.name).not.toBe('ReplyError');
    await expect(sendBatch(c, [['hset', 'k', 'f', 'v']])).rejects.toThrow(/redis connection is/);
  });
});
