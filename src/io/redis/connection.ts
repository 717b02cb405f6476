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
}

export type RedisStatusListener = (up: boolean) => void;

/** Reconnect delay for the n-th attempt (1-based), exponential and capped. */
export function reconnectDelay(attempt: number, initialMs: number, maxMs: number): number {
  return Math.min(maxMs, initialMs * 2 ** Math.min(Math.max(attempt - 1, 0), 30));
}

export function redisClientOptions(url: string, db: number, backoff = { initialMs: 50, maxMs: 2_000 }): RedisOptions {
  const common: RedisOptions = {
    db,
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

  constructor(opts: RedisConnectionOptions) {
    this.db = opts.db;
    this.logger = opts.logger.child({ redisDb: opts.db });
    this.gauge = opts.registry ? redisMetrics(opts.registry).up.labels(String(opts.db)) : undefined;
    this.gauge?.set(0);
    this.client = new Redis(redisClientOptions(opts.url, opts.db, opts.backoff));
    this.client.on('ready', () => this.setUp(true));
    this.client.on('close', () => this.setUp(false));
    this.client.on('end', () => this.setUp(false));
    this.client.on('error', (err: Error) => {
      // ioredis emits every failed connect attempt; log at debug while down, warn on the first.
      if (this.upNow) this.logger.warn({ err: err.message }, 'redis error');
      else this.logger.debug({ err: err.message }, 'redis error while down');
    });
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
    if (up) this.logger.info('redis up');
    else if (!this.closed) this.logger.warn('redis down; writes are held until it is back');
    for (const listener of [...this.listeners]) listener(up);
  }
}
