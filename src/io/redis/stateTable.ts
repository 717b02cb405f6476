// A plain SONiC table written with HSET / DEL (STATE_DB `PORT_TABLE|<port>`), through the coalescing queue.
import type { Registry } from 'prom-client';
import type { Logger } from '../log.js';
import { CoalescingWriter, RetryableWriteError, checkPipelineResults, type PendingOp } from './coalescingWriter.js';
import type { RedisConnection } from './connection.js';
import {
  HashBatchEncoder,
  MAX_PAIRS,
  pipelineResults,
  sendEncodedBatch,
  sendHashBatch,
  type HashWrite,
} from './hashBatch.js';
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
  /** One EVAL per flush, encoded straight from the pending ops into a reused Buffer. */
  private readonly encoder = new HashBatchEncoder();

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
    const enc = this.encoder;
    enc.begin();
    for (const op of ops) {
      const del = op.op === 'del' || op.replace;
      let pairs = 0;
      if (op.op === 'set') for (const _ in op.fields) pairs++;
      if (pairs > MAX_PAIRS) return this.flushWrites(ops, logger, label);
      if (!del && pairs === 0) continue;
      enc.addRecord(this.prefix, op.key, del, op.op === 'set' ? op.fields : undefined, pairs);
    }
    const total = enc.commands;
    if (total === 0) return;
    // One EVAL per flush (src/io/redis/hashBatch.ts); replies checked as for a pipeline.
    const reply = await sendEncodedBatch(this.conn.client, enc);
    if (reply.error === null && reply.failed.length === 0) return;
    const { keys } = this.writes(ops);
    checkPipelineResults(pipelineResults(reply, total), logger, label, undefined, keys);
  }

  /** The writes of a flush and the key of each command they make (for the log of a rejected write). */
  private writes(ops: readonly PendingOp[]): { writes: HashWrite[]; keys: string[] } {
    const writes: HashWrite[] = [];
    const keys: string[] = [];
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
    return { writes, keys };
  }

  /** A flush with a write too big for one script call: as HashWrites (sendHashBatch sends them as plain commands). */
  private async flushWrites(ops: readonly PendingOp[], logger: Logger, label: string): Promise<void> {
    const { writes, keys } = this.writes(ops);
    checkPipelineResults(await sendHashBatch(this.conn.client, writes), logger, label, undefined, keys);
  }
}
