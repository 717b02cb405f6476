// linuxptp-daemon's HTTP side, as the sidecar uses it: GET /emit-logs (replay the daemon's state into the socket) and
// GET /port-aliases (interface → alias map, see aliases.ts). Every call has a timeout per attempt, a bounded number of
// retries, a bounded response body, and is quiet when no daemon answers: one warning when a call starts failing, one
// info line when it answers again, and a counter in between. While a call keeps failing it makes one attempt only, so
// a node without linuxptp-daemon does not pay the retry delays at every load.
import { Counter, type Registry } from 'prom-client';
import type { Logger } from 'pino';
import { get as httpGet } from 'node:http';
import { nodeHttps } from '../lazyBuiltins.js';

export type DaemonCall = 'emitLogs' | 'portAliases';

export interface DaemonRequestOptions {
  url: string;
  /** Per attempt. */
  timeoutMs: number;
  /** Attempts after the first one (0 = one attempt). */
  retries: number;
  retryDelayMs: number;
  /** A longer body is an error (the body is read up to this many bytes, then the request is aborted). */
  maxBodyBytes: number;
  signal?: AbortSignal;
}

export class DaemonHttpError extends Error {}

const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(t);
      reject(signal?.reason as Error);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });

/**
 * One GET with node:http (node:https for an https URL). Not fetch: its first call loads undici
 * and HTTP/2, tens of milliseconds of the sidecar's start (docs/performance.md, start-up). Redirects are not
 * followed (a 3xx is an error, as with fetch's redirect: 'error'); the body is read up to `max` bytes, more is an
 * error; `signal` aborts the request.
 */
async function getOnce(url: URL, max: number, signal: AbortSignal): Promise<{ status: number; body: string }> {
  let get: typeof httpGet;
  if (url.protocol === 'http:') get = httpGet;
  else if (url.protocol === 'https:') get = nodeHttps().get;
  else throw new DaemonHttpError(`unsupported URL scheme ${url.protocol}`);
  return new Promise((resolve, reject) => {
    const req = get(url, { signal }, (res) => {
      const status = res.statusCode ?? 0;
      if (status < 200 || status > 299) {
        res.resume();
        reject(new DaemonHttpError(`HTTP ${status}`));
        return;
      }
      const declared = Number(res.headers['content-length'] ?? NaN);
      if (declared > max) {
        res.destroy();
        reject(new DaemonHttpError(`response body of ${declared} bytes exceeds ${max}`));
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > max) {
          res.destroy();
          reject(new DaemonHttpError(`response body exceeds ${max} bytes`));
          return;
        }
        chunks.push(chunk);
      });
      res.on('end', () => resolve({ status, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
      res.on('aborted', () => reject(new DaemonHttpError('response aborted')));
    });
    req.on('error', reject);
  });
}

/** One GET with retries; resolves with the status and the (bounded) body of the first 2xx answer. */
export async function daemonGet(opts: DaemonRequestOptions): Promise<{ status: number; body: string }> {
  let last: unknown;
  const url = new URL(opts.url);
  for (let attempt = 0; attempt <= opts.retries; attempt++) {
    if (attempt > 0) await sleep(opts.retryDelayMs, opts.signal);
    const timeout = AbortSignal.timeout(opts.timeoutMs);
    const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
    try {
      return await getOnce(url, opts.maxBodyBytes, signal);
    } catch (err) {
      if (opts.signal?.aborted) throw err;
      last = timeout.aborted ? new DaemonHttpError(`no answer within ${opts.timeoutMs} ms`) : err;
    }
  }
  throw last instanceof Error ? last : new DaemonHttpError(String(last));
}

/** The message of a request failure, with its cause (ECONNREFUSED …) when the error carries one. */
export function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.code) return `${err.message}: ${cause.code}`;
  if (cause?.message) return `${err.message}: ${cause.message}`;
  return err.message;
}

/**
 * The counter of daemon calls (process-wide: it outlives sidecar generations) and the quiet failure log: the first
 * failure of a call after a success (or at start) is logged once, later failures only counted, recovery logged once.
 */
export class DaemonCallLog {
  private readonly counter: Counter<'call' | 'result'>;
  private readonly failing = new Set<DaemonCall>();

  constructor(
    registry: Registry,
    private readonly logger: Logger,
  ) {
    this.counter =
      (registry.getSingleMetric('syncvisor_ptp_daemon_requests_total') as Counter<'call' | 'result'> | undefined) ??
      new Counter({
        name: 'syncvisor_ptp_daemon_requests_total',
        help: 'Calls to linuxptp-daemon (call: emitLogs, portAliases; result: ok, error, coalesced).',
        labelNames: ['call', 'result'],
        registers: [registry],
      });
    for (const call of ['emitLogs', 'portAliases'] as const) {
      for (const result of ['ok', 'error']) this.counter.inc({ call, result }, 0);
    }
  }

  /** True after a failure until the next success: callers then make one attempt only (no retries). */
  isFailing(call: DaemonCall): boolean {
    return this.failing.has(call);
  }

  ok(call: DaemonCall, url: string, detail: object = {}): void {
    this.counter.inc({ call, result: 'ok' });
    if (this.failing.delete(call)) this.logger.info({ call, url, ...detail }, 'linuxptp-daemon answers again');
    else this.logger.debug({ call, url, ...detail }, 'linuxptp-daemon call done');
  }

  error(call: DaemonCall, url: string, err: unknown): void {
    this.counter.inc({ call, result: 'error' });
    const problem = describeError(err);
    if (this.failing.has(call)) {
      this.logger.debug({ call, url, err: problem }, 'linuxptp-daemon call failed');
      return;
    }
    this.failing.add(call);
    this.logger.warn(
      { call, url, err: problem },
      'linuxptp-daemon does not answer; further failures are only counted (syncvisor_ptp_daemon_requests_total)',
    );
  }

  coalesced(call: DaemonCall): void {
    this.counter.inc({ call, result: 'coalesced' });
  }
}

export interface EmitLogsOptions {
  url: string;
  timeoutMs: number;
  retries: number;
  retryDelayMs: number;
  /** A request for a new connection within this long after a call finished is covered by that call. */
  coalesceMs: number;
  now?: () => number;
}

/**
 * GET /emit-logs: linuxptp-daemon holds its socket writers until it is called, then replays process status, port
 * roles, clock class and sync state into the socket. Called after each load and on every accepted connection.
 * Calls are coalesced: a connection accepted while a call is in flight, or within `coalesceMs` after one finished,
 * is covered by it (the daemon's replay may itself open a connection, which must not trigger another replay); loads
 * while a call is in flight make at most one follow-up call. Never rejects: failures are logged quietly and counted.
 */
export class EmitLogsClient {
  private inFlight: Promise<void> | undefined;
  private pending = false;
  private lastDoneAt = -Infinity;
  private readonly now: () => number;
  private closed = false;
  private readonly abort = new AbortController();

  constructor(
    private readonly opts: EmitLogsOptions,
    private readonly log: DaemonCallLog,
  ) {
    this.now = opts.now ?? Date.now;
  }

  /** `load`: a generation was loaded (its metrics are empty); `connection`: the socket accepted a connection. */
  request(reason: 'load' | 'connection'): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (this.inFlight) {
      // A connection accepted meanwhile is released by the daemon when this call opens its gate; a load meanwhile
      // may have dropped the replayed state with the old generation, so it gets one follow-up call.
      if (reason === 'connection' || this.pending) this.log.coalesced('emitLogs');
      if (reason === 'load') this.pending = true;
      return this.inFlight;
    }
    if (reason === 'connection' && this.now() - this.lastDoneAt < this.opts.coalesceMs) {
      this.log.coalesced('emitLogs');
      return Promise.resolve();
    }
    this.inFlight = this.run();
    return this.inFlight;
  }

  private async run(): Promise<void> {
    for (;;) {
      try {
        const { status } = await daemonGet({
          url: this.opts.url,
          timeoutMs: this.opts.timeoutMs,
          retries: this.log.isFailing('emitLogs') ? 0 : this.opts.retries,
          retryDelayMs: this.opts.retryDelayMs,
          maxBodyBytes: 4096,
          signal: this.abort.signal,
        });
        this.log.ok('emitLogs', this.opts.url, { status });
      } catch (err) {
        if (this.closed) break;
        this.log.error('emitLogs', this.opts.url, err);
      }
      this.lastDoneAt = this.now();
      if (!this.pending || this.closed) break;
      this.pending = false;
    }
    this.inFlight = undefined;
  }

  /** Aborts a call in flight; later requests do nothing. */
  close(): void {
    this.closed = true;
    this.abort.abort(new DaemonHttpError('closed'));
  }
}
