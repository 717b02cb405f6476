// A plain SONiC table written with HSET / DEL (STATE_DB `PORT_TABLE|<port>`), through the coalescing queue.
import type { Registry } from 'prom-client';
import type { Logger } from '../log.js';
import { CoalescingWriter, RetryableWriteError, checkPipelineResults, type PendingOp } from './coalescingWriter.js';
import type { RedisConnection } from './connection.js';
import { sendBatch } from './respBatch.js';
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
    const commands: string[][] = [];
    const keys: string[] = []; // the key of each command, for the log of a rejected write
    for (const op of ops) {
      const key = this.redisKey(op.key);
      if (op.op === 'del' || op.replace) {
        commands.push(['del', key]);
        keys.push(key);
      }
      if (op.op === 'del') continue;
      const hset = ['hset', key];
      for (const field in op.fields) hset.push(field, op.fields[field]!);
      if (hset.length > 2) {
        commands.push(hset);
        keys.push(key);
      }
    }
    // One RESP buffer per flush (src/io/redis/respBatch.ts); replies checked as for a pipeline.
    checkPipelineResults(await sendBatch(this.conn.client, commands), logger, label, undefined, keys);
  }
}
