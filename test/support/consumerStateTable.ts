// A ConsumerStateTable as orchagent runs it (sonic-swss-common consumer_state_table_pops.lua), for tests: SPOP the
// key set; a key in the del set deletes T:key first; the temp hash _T:key is moved into T:key. An empty temp hash
// means DEL, else SET (what the consumer hands to orchagent).
import type { Redis } from 'ioredis';
import { bytesToText, fieldsFromReply } from '../../src/io/redis/byteText.js';

export interface ConsumedOp {
  op: 'SET' | 'DEL';
  key: string;
  fields: Record<string, string>;
  /** What the pop returned, undecoded (ConsumerStateTable only): the key and each field name and value as bytes. */
  bytes?: { key: Buffer; fields: [Buffer, Buffer][] };
}

/**
 * The simple consumer (one key per round trip, no Lua): byte-exact like ConsumerStateTable. Keys, field names and
 * values are read and written as bytes (SPOP, HGETALL undecoded); `key` and `fields` are those bytes as byte text
 * (no `bytes`: textToBytes gives them back).
 */
export async function consumeStateTable(client: Redis, table: string, separator = ':'): Promise<ConsumedOp[]> {
  const out: ConsumedOp[] = [];
  for (;;) {
    const rawKey = await client.spopBuffer(`${table}_KEY_SET`);
    if (rawKey === null) return out;
    const tableKey = Buffer.concat([Buffer.from(`${table}${separator}`), rawKey]);
    const tempKey = Buffer.concat([Buffer.from('_'), tableKey]);
    if ((await client.srem(`${table}_DEL_SET`, rawKey)) === 1) await client.del(tableKey);
    // HGETALL's flat reply, undecoded (ioredis turns a hgetall reply into an object with UTF-8 field names).
    const fv = (await client.callBuffer('eval', "return redis.call('HGETALL', KEYS[1])", 1, tempKey)) as Buffer[];
    if (fv.length > 0) await client.hset(tableKey, ...fv);
    await client.del(tempKey);
    // Byte text is one-to-one with the bytes (textToBytes gives them back), so key and fields are exact.
    out.push({ op: fv.length > 0 ? 'SET' : 'DEL', key: bytesToText(rawKey), fields: fieldsFromReply(fv) });
  }
}

// The pop as one Lua call, written from the documented behaviour of swss-common's consumer_state_table_pops.lua:
// KEYS: the key set, the table prefix ("PORT_TABLE:"), the del set; ARGV: the batch size, the temp-hash prefix
// ("_"). SPOP up to batch keys; for each, a key the del set held loses its table hash first; the temp hash's fields
// move into the table hash and the temp hash goes; the reply is {key, {field, value, …}} per key (no fields: a DEL).
const popScript = `
local out = {}
local keys = redis.call('SPOP', KEYS[1], tonumber(ARGV[1]))
if not keys then return out end
for _, key in ipairs(keys) do
  if redis.call('SREM', KEYS[3], key) == 1 then
    redis.call('DEL', KEYS[2] .. key)
  end
  local temp = ARGV[2] .. KEYS[2] .. key
  local fv = redis.call('HGETALL', temp)
  for i = 1, #fv, 2 do
    redis.call('HSET', KEYS[2] .. key, fv[i], fv[i + 1])
  end
  redis.call('DEL', temp)
  table.insert(out, {key, fv})
end
return out`;

/** One pop of the consumer, as orchagent receives it: the keys of a batch sorted. */
export interface ConsumedBatch {
  ops: ConsumedOp[];
}

/**
 * A ConsumerStateTable as orchagent runs it, for integration tests: SCARD of the key set at construction (pending
 * notifications), SUBSCRIBE to `<table>_CHANNEL@<db>` on its own connection (each message is one more pending pop),
 * then EVALSHA of the pop script with batch 128 while notifications are pending. `received` is every op in the order
 * orchagent would act on it (each batch sorted by key).
 */
export class ConsumerStateTable {
  readonly received: ConsumedOp[] = [];
  readonly batches: ConsumedBatch[] = [];
  private sub: Redis | undefined;
  private sha: string | undefined;
  private pending = 0;
  private popping = false;
  private closed = false;

  constructor(
    private readonly client: Redis,
    private readonly table = 'PORT_TABLE',
    private readonly dbId = 0,
    private readonly batch = 128,
  ) {}

  async start(): Promise<void> {
    this.sha = (await this.client.script('LOAD', popScript)) as string;
    this.sub = this.client.duplicate();
    await this.sub.subscribe(`${this.table}_CHANNEL@${this.dbId}`);
    this.sub.on('message', () => {
      this.pending += 1;
      void this.pop();
    });
    const [[, scard]] = ((await this.client.multi().scard(`${this.table}_KEY_SET`).exec()) ?? [[null, 0]]) as [
      [Error | null, number],
    ];
    this.pending += Number(scard);
    void this.pop();
  }

  /** Ops received for `key`. */
  ops(key: string): ConsumedOp[] {
    return this.received.filter((o) => o.key === key);
  }

  /** "SET key" / "DEL key" lines, in order. */
  lines(): string[] {
    return this.received.map((o) => `${o.op} ${o.key}`);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.sub?.disconnect();
  }

  private async pop(): Promise<void> {
    if (this.popping || this.closed) return;
    this.popping = true;
    try {
      while (this.pending > 0 && !this.closed) {
        this.pending -= 1;
        const reply = (await this.client.callBuffer(
          'evalsha',
          this.sha!,
          3,
          `${this.table}_KEY_SET`,
          `${this.table}:`,
          `${this.table}_DEL_SET`,
          String(this.batch),
          '_',
        )) as [Buffer, Buffer[]][];
        if (reply.length === 0) continue;
        // Read as bytes (orchagent gets bytes too); `key` and `fields` are the bytes as portsync's byte text.
        const ops: ConsumedOp[] = reply
          .map(([rawKey, fv]) => {
            const fields = fieldsFromReply(fv);
            const pairs: [Buffer, Buffer][] = [];
            for (let i = 0; i + 1 < fv.length; i += 2) pairs.push([fv[i]!, fv[i + 1]!]);
            const op = fv.length > 0 ? ('SET' as const) : ('DEL' as const);
            return { op, key: bytesToText(rawKey), fields, bytes: { key: rawKey, fields: pairs } };
          })
          .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
        // One pop may take more than one notification's keys: what is left is popped on the next message.
        this.batches.push({ ops });
        this.received.push(...ops);
        if (reply.length === this.batch) this.pending += 1;
      }
    } catch {
      // The server went away (a test restarts Redis): a new consumer is made for the new server.
    } finally {
      this.popping = false;
    }
  }
}
