// A plain SONiC table written with HSET / DEL (STATE_DB `PORT_TABLE|<port>`), through the coalescing queue.
import type { Registry } from 'prom-client';
import type { Logger } from '../log.js';
import { CoalescingWriter, RetryableWriteError, checkPipelineResults, type PendingOp } from './coalescingWriter.js';
import type { RedisConnection } from './connection.js';
import { sendHashBatch, type HashWrite } from './hashBatch.js';
import { scanKeys } from './scanHashes.js';

export interface StateTableOptions {
  conn: RedisConnection;
  /** Table name, e.g. PORT_TABLE. */
  table: string;
  /** Key separator of the database (STATE_DB: `|`). */
  separator: string;
  /** Database name for labels and logs (STATE_DB). */
  dbName?: string;
  logger: Logger;
  registry?: Registry;
}

export class StateTable {
  readonly writer: CoalescingWriter;
  private readonly conn: RedisConnection;
  private readonly prefix: string;

  constructor(opts: StateTableOptions) {
    this.conn = opts.conn;
    this.prefix = `${opts.table}${opts.separator}`;
    const label = `${opts.dbName ?? 'STATE_DB'}${opts.separator}${opts.table}`;
    this.writer = new CoalescingWriter({
      table: label,
      conn: opts.conn,
      logger: opts.logger,
      ...(opts.registry ? { registry: opts.registry } : {}),
      flush: (ops) => this.flush(ops, opts.logger, label),
    });
  }

  redisKey(key: string): string {
    return this.prefix + key;
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

  /** The keys (without the table prefix) that exist in Redis now. */
  keys(): Promise<string[]> {
    return scanKeys(this.conn.client, this.prefix);
  }

  private async flush(ops: PendingOp[], logger: Logger, label: string): Promise<void> {
    if (!this.conn.isUp) throw new RetryableWriteError('redis down');
    const writes: HashWrite[] = [];
    const keys: string[] = []; // the key of each command, for the log of a rejected write
    for (const op of ops) {
      const key = this.redisKey(op.key);
      const del = op.op === 'del' || op.replace;
      const fields: string[] = [];
      if (op.op === 'set') for (const field in op.fields) fields.push(field, op.fields[field]!);
      if (!del && fields.length === 0) continue;
      writes.push({ key, del, fields });
      if (del) keys.push(key);
      if (fields.length > 0) keys.push(key);
    }
    // One EVAL per flush (src/io/redis/hashBatch.ts); replies checked as for a pipeline.
    checkPipelineResults(await sendHashBatch(this.conn.client, writes), logger, label, undefined, keys);
  }
}
