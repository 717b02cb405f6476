// The coalescing writer through the STATE_DB table (src/io/redis/coalescingWriter.ts, stateTable.ts), on the real
// redis-server: any sequence of sets and dels (byte text keys, fields and values; the same field order again and again
// as link events give, other orders, fewer fields), written in bursts with flushes between some of them, must leave
// exactly the bytes the simple path leaves: every op applied in order as its own commands (DEL; HSET of the fields)
// through ioredis with Buffers. (Field order inside a hash follows the JS record, integer-like names first, as it
// always did: hashes are compared as sets of fields.) The batch a burst of writes makes (keys in order, each key's op,
// its fields in order) is the fold of composeOps over copies of the ops, the writer's simple form, so the in-place
// update of a repeated link event changes nothing. composeOps itself against the model of Redis.
import fc from 'fast-check';
import { Registry } from 'prom-client';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { silentLogger } from '../../../src/io/log.js';
import { bytesToText, textToBytes } from '../../../src/io/redis/byteText.js';
import { CoalescingWriter, composeOps, type PendingOp } from '../../../src/io/redis/coalescingWriter.js';
import { RedisConnection } from '../../../src/io/redis/connection.js';
import { StateTable } from '../../../src/io/redis/stateTable.js';
import { redisClients } from '../../support/redisClients.js';

const DB_WRITER = 58;
const DB_SIMPLE = 59;
const client = redisClients();
const conns: RedisConnection[] = [];
afterAll(async () => {
  for (const c of conns) await c.close();
});

type Op = { op: 'set'; key: string; fields: [string, string][] } | { op: 'del'; key: string };

const text = fc.oneof(
  fc.constantFrom('state', 'ok', 'mtu', '9100', 'up', 'down', '', 'é', '\udcff', '1', '0'),
  fc.uint8Array({ maxLength: 6 }).map((a) => bytesToText(Buffer.from(a))),
  fc.string({ maxLength: 5 }),
);
const key = fc.constantFrom('Ethernet0', 'Ethernet4', 'Ethernet8', 'é\udc80');
const op: fc.Arbitrary<Op> = fc.oneof(
  // A link event: the same four fields in the same order, values changing.
  {
    weight: 4,
    arbitrary: fc.tuple(key, fc.constantFrom('up', 'down'), fc.constantFrom('1500', '9100')).map(([k, s, m]): Op => ({
      op: 'set',
      key: k,
      fields: [
        ['state', 'ok'],
        ['netdev_oper_status', s],
        ['admin_status', s],
        ['mtu', m],
      ],
    })),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('set' as const),
      key,
      fields: fc.array(fc.tuple(text, text), { maxLength: 4 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('del' as const), key }) },
);
/** Ops in bursts: a burst is written in one turn; after some, the writer is drained (several flushes). */
const bursts = fc.array(fc.tuple(fc.array(op, { minLength: 1, maxLength: 12 }), fc.boolean()), {
  minLength: 1,
  maxLength: 6,
});

function record(fields: readonly [string, string][]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [f, v] of fields)
    Object.defineProperty(out, f, { value: v, enumerable: true, writable: true, configurable: true });
  return out;
}

/** The database as bytes (hex): key → sorted [field, value] pairs. */
async function dumpBytes(c: Awaited<ReturnType<typeof client>>): Promise<Record<string, string[][]>> {
  const out: Record<string, string[][]> = {};
  for (const k of (await c.keysBuffer('*')).sort(Buffer.compare)) {
    const pairs: string[][] = [];
    for (const f of await c.hkeysBuffer(k))
      pairs.push([f.toString('hex'), (await c.hgetBuffer(k, f))!.toString('hex')]);
    out[k.toString('hex')] = pairs.sort();
  }
  return out;
}

describe('CoalescingWriter (STATE_DB table)', () => {
  it('leaves the bytes of every op applied in order as its own commands, for any sequence', async () => {
    const conn = new RedisConnection({
      url: inject('redisSocket'),
      db: DB_WRITER,
      logger: silentLogger,
      registry: new Registry(),
    });
    conns.push(conn);
    await conn.ready();
    const table = new StateTable({ conn, table: 'PORT_TABLE', separator: '|', logger: silentLogger });
    const writerDb = await client(DB_WRITER);
    const simple = await client(DB_SIMPLE);
    await fc.assert(
      fc.asyncProperty(bursts, async (seq) => {
        await writerDb.flushdb();
        await simple.flushdb();
        for (const [ops, drain] of seq) {
          for (const o of ops) {
            if (o.op === 'del') table.del(o.key);
            else table.set(o.key, record(o.fields));
          }
          if (drain) expect(await table.drain(5_000)).toBe(true);
          else await new Promise((r) => setImmediate(r));
        }
        expect(await table.drain(5_000)).toBe(true);
        for (const [ops] of seq)
          for (const o of ops) {
            const k = textToBytes(`PORT_TABLE|${o.key}`);
            if (o.op === 'del') await simple.del(k);
            else if (o.fields.length > 0) await simple.hset(k, ...o.fields.flat().map(textToBytes));
          }
        expect(await dumpBytes(writerDb)).toEqual(await dumpBytes(simple));
      }),
      { numRuns: 150 },
    );
    table.writer.stop();
  });

  it('a burst of writes makes the batch of the composeOps fold over copies of the ops, keys and fields in order', async () => {
    const conn = new RedisConnection({ url: inject('redisSocket'), db: DB_WRITER, logger: silentLogger });
    conns.push(conn);
    await conn.ready();
    let batch: PendingOp[] = [];
    const writer = new CoalescingWriter({
      table: 'T',
      conn,
      logger: silentLogger,
      maxBatch: 1_000,
      flush: (ops) => {
        batch = ops;
        return Promise.resolve();
      },
    });
    const shape = (ops: PendingOp[]) =>
      ops.map((o) => (o.op === 'del' ? ['del', o.key] : ['set', o.key, o.replace, Object.entries(o.fields)]));
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 30 }), async (ops) => {
        const model = new Map<string, PendingOp>();
        for (const o of ops) {
          const next: PendingOp =
            o.op === 'del' ? o : { op: 'set', key: o.key, fields: { ...record(o.fields) }, replace: false };
          const prev = model.get(o.key);
          model.set(o.key, prev ? composeOps(prev, next) : next);
          writer.write(o.op === 'del' ? o : { op: 'set', key: o.key, fields: record(o.fields) });
        }
        batch = [];
        expect(await writer.drain(5_000)).toBe(true);
        expect(shape(batch)).toEqual(shape([...model.values()]));
      }),
      { numRuns: 500 },
    );
    writer.stop();
  });

  it('composeOps has the effect of the two ops applied in order', () => {
    /** The model: a key's content after ops (undefined: no key), as ordered [field, value] pairs. */
    const apply = (content: Map<string, string> | undefined, o: PendingOp): Map<string, string> | undefined => {
      if (o.op === 'del') return undefined;
      const next = o.replace ? new Map<string, string>() : new Map(content ?? []);
      for (const f in o.fields) next.set(f, o.fields[f]!);
      return next.size > 0 ? next : undefined;
    };
    const pending: fc.Arbitrary<PendingOp> = fc.oneof(
      fc.record({ op: fc.constant('del' as const), key: fc.constant('k') }),
      fc.record({
        op: fc.constant('set' as const),
        key: fc.constant('k'),
        fields: fc.array(fc.tuple(text, text), { maxLength: 4 }).map(record),
        replace: fc.boolean(),
      }),
    );
    fc.assert(
      fc.property(fc.option(fc.array(fc.tuple(text, text), { maxLength: 3 })), pending, pending, (start, a, b) => {
        const initial = start === null ? undefined : new Map(start);
        const model = apply(apply(initial, a), b);
        const composed = apply(initial, composeOps(a, b));
        expect(composed && [...composed].sort()).toEqual(model && [...model].sort());
      }),
      { numRuns: 2_000 },
    );
  });
});
