// The write-behind queue shared by the STATE_DB and APP_DB writers: one pending operation per key (the latest wins,
// HSET fields accumulate as Redis would accumulate them), flushed as one batch (one RESP buffer: respBatch.ts,
// hashBatch.ts), held while Redis is down and flushed again on reconnect. A batch that fails for connection reasons
// is put back under any newer writes.
import type { Registry } from 'prom-client';
import type { Logger } from '../log.js';
import type { RedisConnection } from './connection.js';
import { redisMetrics } from './redisMetrics.js';

import type { TableOp } from '../../machines/portsync/events.js';

export type { TableOp };

/** A coalesced operation. `replace` marks a set that followed a del: the key must be deleted before the set. */
export type PendingOp =
  { op: 'set'; key: string; fields: Record<string, string>; replace: boolean } | { op: 'del'; key: string };

/** Thrown by a flush function when the batch should be retried (connection loss, NOSCRIPT, …). */
export class RetryableWriteError extends Error {
  override readonly name = 'RetryableWriteError';
}

/** Composes two operations on one key, `later` after `earlier`, into one with the same effect. */
export function composeOps(earlier: PendingOp, later: PendingOp): PendingOp {
  if (later.op === 'del') return later;
  if (earlier.op === 'del') return { ...later, replace: true };
  return {
    op: 'set',
    key: later.key,
    fields: later.replace ? later.fields : { ...earlier.fields, ...later.fields },
    replace: earlier.replace || later.replace,
  };
}

export interface CoalescingWriterOptions {
  /** Metric label and log field, e.g. `STATE_DB|PORT_TABLE`. */
  table: string;
  conn: RedisConnection;
  /** Writes one batch, pipelined. Throw RetryableWriteError to have the batch held and retried. */
  flush: (ops: PendingOp[]) => Promise<void>;
  logger: Logger;
  registry?: Registry;
  /** Keys per pipeline (default 2000). */
  maxBatch?: number;
  /** Delay before retrying a failed batch while the connection still looks up (default 100 ms). */
  retryMs?: number;
}

export class CoalescingWriter {
  private readonly pending = new Map<string, PendingOp>();
  private inFlight = false;
  private scheduled = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly idleWaiters = new Set<() => void>();
  private readonly offStatus: () => void;
  private readonly metrics;
  /** The pending-keys gauge of this table (looked up once: it is set on every write). */
  private readonly pendingGauge;
  /** Pipelines sent and operations written (for tests and the benchmark). */
  readonly stats = { flushes: 0, ops: 0, retries: 0 };

  constructor(private readonly opts: CoalescingWriterOptions) {
    this.metrics = opts.registry ? redisMetrics(opts.registry) : undefined;
    this.pendingGauge = this.metrics?.pendingKeys.labels(opts.table);
    this.offStatus = opts.conn.onStatus((up) => {
      if (up) this.schedule();
    });
  }

  /**
   * Queues one operation. The fields object is kept, not copied: it must not be changed after the call (the
   * machines' ops never are). A set of the same fields in the same order as the pending set of its key (a link
   * event after another) replaces the pending fields in place: what composeOps would give, without a new object.
   */
  write(op: TableOp): void {
    if (this.stopped) return;
    const prev = this.pending.get(op.key);
    if (op.op === 'del') this.pending.set(op.key, op);
    else if (prev === undefined)
      this.pending.set(op.key, { op: 'set', key: op.key, fields: op.fields, replace: false });
    else if (prev.op === 'set' && this.sameFieldOrder(prev.fields, op.fields)) prev.fields = op.fields;
    else this.pending.set(op.key, composeOps(prev, { op: 'set', key: op.key, fields: op.fields, replace: false }));
    this.updateGauge();
    this.schedule();
  }

  private readonly order: string[] = [];

  /** Whether a and b have the same own enumerable fields in the same order (the merge {...a, ...b} is then b). */
  private sameFieldOrder(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
    const order = this.order;
    let n = 0;
    for (const f in b) order[n++] = f;
    let i = 0;
    for (const f in a) if (i >= n || order[i++] !== f) return false;
    return i === n;
  }

  /** Keys waiting to be written (the batch in flight not included). */
  get pendingCount(): number {
    return this.pending.size;
  }

  get idle(): boolean {
    return this.pending.size === 0 && !this.inFlight;
  }

  /** Resolves true once everything written so far is in Redis, false when timeoutMs passes first. */
  drain(timeoutMs: number): Promise<boolean> {
    if (this.idle) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (ok: boolean): void => {
        clearTimeout(timer);
        this.idleWaiters.delete(waiter);
        resolve(ok);
      };
      const waiter = (): void => done(true);
      const timer = setTimeout(() => done(false), timeoutMs);
      this.idleWaiters.add(waiter);
    });
  }

  /** Stops flushing; pending writes are dropped (call drain first). */
  stop(): void {
    this.stopped = true;
    this.offStatus();
    clearTimeout(this.retryTimer);
    for (const waiter of [...this.idleWaiters]) waiter();
  }

  private updateGauge(): void {
    this.pendingGauge?.set(this.pending.size);
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight || this.stopped) return;
    this.scheduled = true;
    // setImmediate: every write of the current burst of events goes into the same pipeline.
    setImmediate(() => {
      this.scheduled = false;
      void this.pump();
    });
  }

  private async pump(): Promise<void> {
    if (this.inFlight || this.stopped || this.pending.size === 0 || !this.opts.conn.isUp) {
      if (this.idle) this.notifyIdle();
      return;
    }
    const max = this.opts.maxBatch ?? 2000;
    const batch: PendingOp[] = [];
    for (const [key, op] of this.pending) {
      batch.push(op);
      this.pending.delete(key);
      if (batch.length >= max) break;
    }
    this.inFlight = true;
    const end = this.metrics?.writeSeconds.labels(this.opts.table).startTimer();
    let retry = false;
    try {
      await this.opts.flush(batch);
      this.stats.flushes += 1;
      this.stats.ops += batch.length;
    } catch (err) {
      retry = true;
      this.stats.retries += 1;
      // Put the batch back under whatever was written meanwhile: the newer write still wins.
      for (const op of batch) {
        const newer = this.pending.get(op.key);
        this.pending.set(op.key, newer ? composeOps(op, newer) : op);
      }
      this.opts.logger.debug({ table: this.opts.table, keys: batch.length, err: (err as Error).message }, 'write held');
    } finally {
      end?.();
      this.inFlight = false;
      this.updateGauge();
    }
    if (this.stopped) return;
    if (retry) {
      if (this.opts.conn.isUp) {
        clearTimeout(this.retryTimer);
        this.retryTimer = setTimeout(() => this.schedule(), this.opts.retryMs ?? 100);
      }
      // When down, the 'up' listener schedules the flush.
      return;
    }
    if (this.pending.size > 0) this.schedule();
    else this.notifyIdle();
  }

  private notifyIdle(): void {
    for (const waiter of [...this.idleWaiters]) waiter();
  }
}

/**
 * Splits pipeline results: reply errors (a wrong type, a bad argument) are the data's fault and are logged and
 * dropped; anything else (connection closed, not writeable) means the batch must be retried.
 */
export function checkPipelineResults(
  results: [Error | null, unknown][] | null,
  logger: Logger,
  table: string,
  isRetryable: (err: Error) => boolean = () => false,
  /** The key each pipelined command wrote (same index as results), so that a rejected write names its key. */
  keys?: readonly string[],
): void {
  if (results === null) throw new RetryableWriteError('pipeline discarded');
  for (let i = 0; i < results.length; i++) {
    const err = results[i]![0];
    if (!err) continue;
    if (err.name !== 'ReplyError' || isRetryable(err)) throw new RetryableWriteError(err.message);
    const key = keys?.[i];
    logger.warn(
      { table, ...(key !== undefined ? { key } : {}), err: err.message },
      `redis rejected a write${key !== undefined ? ` of ${key}` : ''}; discarded`,
    );
  }
}
