// SONiC's ProducerStateTable protocol (sonic-swss-common producerstatetable.cpp), which orchagent's
// ConsumerStateTable reads: for table T in a db with separator ':' and id N,
//   set(key, fv): SADD T_KEY_SET key; HSET _T:key f v …; PUBLISH T_CHANNEL@N "G" only if key was newly added
//   del(key):     SADD T_KEY_SET key; SADD T_DEL_SET key; DEL _T:key; PUBLISH … only if newly added
// The consumer SPOPs the key set, deletes T:key when the key is in the del set, then moves _T:key fields into T:key.
// Both scripts are loaded once (SCRIPT LOAD) and run with EVALSHA, one RESP buffer per batch (respBatch.ts);
// NOSCRIPT (a restarted or flushed server) reloads them and retries the batch.
import type { Registry } from 'prom-client';
import type { Logger } from '../log.js';
import { CoalescingWriter, RetryableWriteError, checkPipelineResults, type PendingOp } from './coalescingWriter.js';
import type { RedisConnection } from './connection.js';
import { bytesToText } from './byteText.js';
import { sendBatch } from './respBatch.js';
import { scanHashes } from './scanHashes.js';

// KEYS: channel, key set, temp hash. ARGV: message, key, field1, value1, …
export const producerSetScript = `
local added = redis.call('SADD', KEYS[2], ARGV[2])
for i = 3, #ARGV, 2 do
  redis.call('HSET', KEYS[3], ARGV[i], ARGV[i + 1])
end
if added > 0 then
  redis.call('PUBLISH', KEYS[1], ARGV[1])
end
return added`;

// KEYS: channel, key set, temp hash, del set. ARGV: message, key.
export const producerDelScript = `
local added = redis.call('SADD', KEYS[2], ARGV[2])
redis.call('SADD', KEYS[4], ARGV[2])
redis.call('DEL', KEYS[3])
if added > 0 then
  redis.call('PUBLISH', KEYS[1], ARGV[1])
end
return added`;

export interface ProducerStateTableOptions {
  conn: RedisConnection;
  /** Table name, e.g. PORT_TABLE. */
  table: string;
  /** Separator of APPL_DB (`:`). */
  separator: string;
  /** APPL_DB id, part of the channel name (`PORT_TABLE_CHANNEL@0`). */
  dbId: number;
  logger: Logger;
  registry?: Registry;
}

/** What a reconciliation sees: the consumed table plus what producers wrote and the consumer has not taken yet. */
export interface ProducerTableContent {
  /** `T:key` hashes (already consumed). */
  table: Map<string, Record<string, string>>;
  /** Members of `T_KEY_SET`. */
  keySet: string[];
  /** Members of `T_DEL_SET`. */
  delSet: string[];
  /** `_T:key` temp hashes. */
  pending: Map<string, Record<string, string>>;
}

/** out[key] = value, with "__proto__" an own key (assignment would change the prototype). */
function put(out: Record<string, Record<string, string>>, key: string, value: Record<string, string>): void {
  if (key === '__proto__')
    Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  else out[key] = value;
}

/**
 * What a consumer would see once it has taken everything pending: a key in the key set and the del set loses its
 * consumed fields; pending temp-hash fields are applied over what remains. Keys left with no fields are absent.
 * With `keys`, only those keys (the ones present): the same entries as the whole answer has for them, in O(keys)
 * after two Sets of the key and del sets. The consumed hashes are shared, not copied (a copy each was most of this
 * with 16,384 ports): the caller hands the content over and nothing changes a fields object; a key with pending
 * fields gets a new one.
 */
export function effectiveContent(
  content: ProducerTableContent,
  keys?: readonly string[],
): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  const deleted = new Set(content.delSet);
  if (keys === undefined) {
    for (const [key, fields] of content.table) put(out, key, fields);
    for (const key of content.keySet) {
      if (deleted.has(key)) delete out[key];
      const pending = content.pending.get(key);
      if (pending && Object.keys(pending).length > 0) put(out, key, { ...(out[key] ?? {}), ...pending });
    }
    return out;
  }
  const keySet = new Set(content.keySet);
  for (const key of keys) {
    const listed = keySet.has(key);
    let fields = listed && deleted.has(key) ? undefined : content.table.get(key);
    const pending = listed ? content.pending.get(key) : undefined;
    if (pending && Object.keys(pending).length > 0) fields = { ...(fields ?? {}), ...pending };
    if (fields !== undefined) put(out, key, fields);
  }
  return out;
}

export class ProducerStateTable {
  readonly writer: CoalescingWriter;
  readonly channel: string;
  readonly keySetKey: string;
  readonly delSetKey: string;
  private readonly conn: RedisConnection;
  private readonly table: string;
  private readonly separator: string;
  private shas: { set: string; del: string } | undefined;

  constructor(opts: ProducerStateTableOptions) {
    this.conn = opts.conn;
    this.table = opts.table;
    this.separator = opts.separator;
    this.channel = `${opts.table}_CHANNEL@${opts.dbId}`;
    this.keySetKey = `${opts.table}_KEY_SET`;
    this.delSetKey = `${opts.table}_DEL_SET`;
    const label = `APPL_DB${opts.separator}${opts.table}`;
    // A server that restarted has lost its script cache: load again on every reconnect.
    opts.conn.onStatus((up) => {
      if (!up) this.shas = undefined;
    });
    this.writer = new CoalescingWriter({
      table: label,
      conn: opts.conn,
      logger: opts.logger,
      ...(opts.registry ? { registry: opts.registry } : {}),
      flush: (ops) => this.flush(ops, opts.logger, label),
    });
  }

  tempKey(key: string): string {
    return `_${this.table}${this.separator}${key}`;
  }

  tableKey(key: string): string {
    return `${this.table}${this.separator}${key}`;
  }

  set(key: string, fields: Record<string, string>): void {
    this.writer.write({ op: 'set', key, fields });
  }

  del(key: string): void {
    this.writer.write({ op: 'del', key });
  }

  drain(timeoutMs: number): Promise<boolean> {
    return this.writer.drain(timeoutMs);
  }

  /** Reads the consumed table, the key and del sets, and the temp hashes (for the warm-restart reconciliation). */
  async read(): Promise<ProducerTableContent> {
    const client = this.conn.client;
    const [table, pending, keySet, delSet] = await Promise.all([
      scanHashes(client, `${this.table}${this.separator}`),
      scanHashes(client, `_${this.table}${this.separator}`),
      client.smembersBuffer(this.keySetKey),
      client.smembersBuffer(this.delSetKey),
    ]);
    // Keys as byte text (byteText.ts), like the hashes' keys, fields and values: compared byte for byte.
    return { table, pending, keySet: keySet.map(bytesToText).sort(), delSet: delSet.map(bytesToText).sort() };
  }

  private async loadScripts(): Promise<{ set: string; del: string }> {
    const client = this.conn.client;
    const [set, del] = await Promise.all([
      client.script('LOAD', producerSetScript) as Promise<string>,
      client.script('LOAD', producerDelScript) as Promise<string>,
    ]);
    this.shas = { set, del };
    return this.shas;
  }

  private async flush(ops: PendingOp[], logger: Logger, label: string): Promise<void> {
    if (!this.conn.isUp) throw new RetryableWriteError('redis down');
    const shas = this.shas ?? (await this.loadScripts());
    const commands: string[][] = [];
    const keys: string[] = []; // the key of each command, for the log of a rejected write
    for (const op of ops) {
      const temp = this.tempKey(op.key);
      if (op.op === 'del' || op.replace) {
        commands.push(['evalsha', shas.del, '4', this.channel, this.keySetKey, temp, this.delSetKey, 'G', op.key]);
        keys.push(op.key);
      }
      if (op.op === 'set') {
        const set = ['evalsha', shas.set, '3', this.channel, this.keySetKey, temp, 'G', op.key];
        for (const field in op.fields) set.push(field, op.fields[field]!);
        commands.push(set);
        keys.push(op.key);
      }
    }
    // One RESP buffer per flush (src/io/redis/respBatch.ts); replies checked as for a pipeline.
    const results = await sendBatch(this.conn.client, commands);
    checkPipelineResults(
      results,
      logger,
      label,
      (err) => {
        if (!err.message.startsWith('NOSCRIPT')) return false;
        this.shas = undefined;
        return true;
      },
      keys,
    );
  }
}
