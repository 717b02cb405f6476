// One ioredis client per database, from a redis:// URL or a Unix socket path. It reconnects forever with exponential
// backoff, never throws out of an 'error' event, and tells its owner when it goes up or down (the writers hold their
// pending keys while it is down and flush them on 'up').
import { Redis, type RedisOptions } from 'ioredis';
import type { Registry } from 'prom-client';
import type { Logger } from '../log.js';
import { redisMetrics } from './redisMetrics.js';

export interface RedisConnectionOptions {
  /** `redis://…` / `rediss://…` URL, or the path of a Unix socket. */
  url: string;
  db: number;
  logger: Logger;
  registry?: Registry;
  /** Backoff of reconnects: initialMs · 2^attempt, capped at maxMs. */
  backoff?: { initialMs: number; maxMs: number };
  /**
   * Health check while connected: a PING every intervalMs; no answer within timeoutMs counts as down (a stalled
   * server is not ready) until a PING is answered again. Default 1,000 / 2,000 ms; intervalMs 0 turns it off.
   */
  health?: { intervalMs: number; timeoutMs: number };
  /**
   * The server has no dataset to load (the embedded one: no persistence): ioredis' ready check (INFO until loading:0)
   * and its CLIENT SETINFO round trip are skipped, the client is ready once connected (start-up, docs/performance.md).
   */
  noDataset?: boolean;
}

/** Where a URL points, without its password: for log lines. */
export function redisTarget(url: string): string {
  if (!/^rediss?:\/\//.test(url)) return url;
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.username ? `${decodeURIComponent(u.username)}@` : ''}${u.host}`;
  } catch {
    return 'redis URL (unparsable)';
  }
}

/** A clear sentence for the errors an operator must act on. */
export function explainRedisError(message: string, target: string): string {
  if (/WRONGPASS|invalid password|invalid username-password/i.test(message))
    return `redis at ${target} refused the credentials (wrong password or user): ${message}`;
  if (/NOAUTH/i.test(message)) return `redis at ${target} requires a password and none was given: ${message}`;
  if (/NOPERM/i.test(message)) return `redis at ${target}: the user lacks a permission: ${message}`;
  if (/ECONNREFUSED|ENOENT|EHOSTUNREACH|ENETUNREACH|ETIMEDOUT|ENOTFOUND|EACCES/.test(message))
    return `redis at ${target} is unreachable: ${message}`;
  return `redis at ${target}: ${message}`;
}

export type RedisStatusListener = (up: boolean) => void;

/** Reconnect delay for the n-th attempt (1-based), exponential and capped. */
export function reconnectDelay(attempt: number, initialMs: number, maxMs: number): number {
  return Math.min(maxMs, initialMs * 2 ** Math.min(Math.max(attempt - 1, 0), 30));
}

export function redisClientOptions(
  url: string,
  db: number,
  backoff = { initialMs: 50, maxMs: 2_000 },
  noDataset = false,
): RedisOptions {
  const common: RedisOptions = {
    db,
    ...(noDataset ? { enableReadyCheck: false, disableClientInfo: true } : {}),
    // Writers keep their own coalesced queue; commands must fail fast while disconnected instead of piling up here.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: (times) => reconnectDelay(times, backoff.initialMs, backoff.maxMs),
    lazyConnect: false,
  };
  if (/^rediss?:\/\//.test(url)) {
    const parsed = new URL(url);
    return {
      ...common,
      host: parsed.hostname,
      port: parsed.port === '' ? 6379 : Number(parsed.port),
      ...(parsed.username !== '' ? { username: decodeURIComponent(parsed.username) } : {}),
      ...(parsed.password !== '' ? { password: decodeURIComponent(parsed.password) } : {}),
      ...(url.startsWith('rediss://') ? { tls: {} } : {}),
    };
  }
  return { ...common, path: url };
}

export class RedisConnection {
  readonly client: Redis;
  readonly db: number;
  private upNow = false;
  private closed = false;
  private readonly listeners = new Set<RedisStatusListener>();
  private readonly logger: Logger;
  private readonly gauge;
  private readonly target: string;
  /** The last error logged while down, and how many identical ones followed (logged once, counted). */
  private lastError: string | undefined;
  private repeated = 0;
  private connected = false;
  private stalled = false;
  private healthTimer: NodeJS.Timeout | undefined;
  private pingSince: number | undefined;

  constructor(opts: RedisConnectionOptions) {
    this.db = opts.db;
    this.logger = opts.logger.child({ redisDb: opts.db });
    this.gauge = opts.registry ? redisMetrics(opts.registry).up.labels(String(opts.db)) : undefined;
    this.gauge?.set(0);
    this.target = redisTarget(opts.url);
    this.client = new Redis(redisClientOptions(opts.url, opts.db, opts.backoff, opts.noDataset));
    this.client.on('ready', () => {
      this.connected = true;
      this.stalled = false;
      this.setUp(true);
    });
    this.client.on('close', () => {
      this.connected = false;
      this.setUp(false);
    });
    this.client.on('end', () => {
      this.connected = false;
      this.setUp(false);
    });
    this.client.on('error', (err: Error) => this.onError(err));
    const health = opts.health ?? { intervalMs: 1_000, timeoutMs: 2_000 };
    if (health.intervalMs > 0) {
      this.healthTimer = setInterval(() => this.check(health.timeoutMs), health.intervalMs);
      this.healthTimer.unref();
    }
  }

  /**
   * ioredis emits every failed attempt: the first error of a kind is logged clearly (unreachable, wrong password…) at
   * error level, identical repeats only at debug, and their count is logged when the error changes or Redis is back.
   */
  private onError(err: Error): void {
    const text = explainRedisError(err.message, this.target);
    if (text === this.lastError) {
      this.repeated++;
      this.logger.debug({ err: err.message }, 'redis error (repeated)');
      return;
    }
    this.flushRepeats();
    this.lastError = text;
    this.logger.error({ target: this.target, err: err.message }, text);
  }

  private flushRepeats(): void {
    if (this.repeated > 0)
      this.logger.warn({ target: this.target, repeated: this.repeated, err: this.lastError }, 'redis error repeated');
    this.repeated = 0;
  }

  /** One PING at a time; an answer later than timeoutMs (or none) marks the server stalled: down until it answers. */
  private check(timeoutMs: number): void {
    if (this.closed || !this.connected) return;
    const now = Date.now();
    if (this.pingSince !== undefined) {
      if (!this.stalled && now - this.pingSince > timeoutMs) {
        this.stalled = true;
        this.logger.error(
          { target: this.target, timeoutMs },
          `redis at ${this.target} does not answer PING within ${timeoutMs} ms (stalled); not ready until it does`,
        );
        this.setUp(false);
      }
      return;
    }
    this.pingSince = now;
    this.client.ping().then(
      () => {
        this.pingSince = undefined;
        if (this.stalled && this.connected && !this.closed) {
          this.stalled = false;
          this.logger.info({ target: this.target, stalledMs: Date.now() - now }, 'redis answers again');
          this.setUp(true);
        }
      },
      () => {
        this.pingSince = undefined; // a connection error: 'close' reports it
      },
    );
  }

  get isUp(): boolean {
    return this.upNow;
  }

  /** Called with true on every (re)connect and false on every loss; returns an unsubscribe function. */
  onStatus(listener: RedisStatusListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Resolves once the connection is ready (or at once when it is). */
  ready(): Promise<void> {
    if (this.upNow) return Promise.resolve();
    return new Promise((resolve) => {
      const off = this.onStatus((up) => {
        if (up) {
          off();
          resolve();
        }
      });
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.healthTimer);
    try {
      if (this.upNow) await this.client.quit();
      else this.client.disconnect();
    } catch {
      this.client.disconnect();
    }
    this.setUp(false);
    this.listeners.clear();
  }

  private setUp(up: boolean): void {
    if (up === this.upNow) return;
    this.upNow = up;
    this.gauge?.set(up ? 1 : 0);
    if (up) {
      this.flushRepeats();
      this.lastError = undefined;
      this.logger.info({ target: this.target }, 'redis up');
    } else if (!this.closed) this.logger.warn('redis down; writes are held until it is back');
    for (const listener of [...this.listeners]) listener(up);
  }
}
