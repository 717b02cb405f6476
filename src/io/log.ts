// The process logger: pino on stderr (stdout stays free for command output), JSON lines with string level names, or a
// readable one-line-per-record format for a terminal. The destination never blocks the daemon: it holds at most
// `maxBufferBytes` of unwritten log text, drops (and counts) whole lines beyond that, and stops writing for good when
// the reader is gone (EPIPE); exit never waits for a log write.
import { constants, fstatSync, openSync, writeSync } from 'node:fs';
import { Socket } from 'node:net';
import type { Writable } from 'node:stream';
import { isatty } from 'node:tty';
import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

export type LogFormat = 'json' | 'pretty';

export interface LogOptions {
  level?: LevelWithSilent;
  /** json (machines, journald) or pretty (people). Default: pretty when `fd` is a terminal, else json. */
  format?: LogFormat | 'auto';
  /** File descriptor to write to (default 2, stderr). */
  fd?: number;
  /** Unwritten log text held at most (default 1 MiB); lines beyond are dropped and counted. */
  maxBufferBytes?: number;
}

/** What the destination did with the lines it was given (the daemon exports these as metrics). */
export interface LogStats {
  written: number;
  dropped: number;
  /** True once the reader went away (EPIPE, EBADF): every later line is dropped. */
  broken: boolean;
}

const statsOf = new WeakMap<Logger, LogStats>();

/** The drop counters of a logger made by createLogger (zeros for any other logger). */
export function logStats(logger: Logger): LogStats {
  return statsOf.get(logger) ?? { written: 0, dropped: 0, broken: false };
}

export function resolveLogFormat(format: LogFormat | 'auto' | undefined, fd = 2): LogFormat {
  if (format === 'json' || format === 'pretty') return format;
  return isatty(fd) ? 'pretty' : 'json';
}

const loneSurrogate = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/**
 * A byte that is not UTF-8 travels as a lone surrogate (src/io/redis/byteText.ts); pino writes top-level strings
 * unescaped, and UTF-8 output would turn it into U+FFFD. Written as `\udcXX` instead (valid inside a JSON string).
 */
export function escapeLoneSurrogates(line: string): string {
  if ((line as string & { isWellFormed(): boolean }).isWellFormed()) return line;
  return line.replace(loneSurrogate, (c) => `\\u${c.charCodeAt(0).toString(16)}`);
}

/**
 * A pino destination that cannot block the event loop or exit, and holds a bounded amount of text.
 * Pipes and sockets (a shell pipe, journald's stream socket, a container runtime) are written through Node's
 * non-blocking stream (process.stderr for fd 2) whose buffered bytes are bounded here; files and terminals do not
 * stall on a reader and are written as they come. Errors are counted, never thrown; EPIPE ends writing for good.
 */
export class BoundedDestination {
  readonly stats: LogStats = { written: 0, dropped: 0, broken: false };
  private readonly stream: Writable | undefined;
  private droppedSinceReport = 0;
  private readonly transform: ((line: string) => string) | undefined;

  constructor(
    private readonly fd: number,
    private readonly maxBufferBytes: number,
    format: LogFormat,
  ) {
    const colours = isatty(fd);
    this.transform = format === 'pretty' ? (line) => prettyLine(line, colours) : undefined;
    let kind: 'fifo' | 'socket' | 'other' = 'other';
    try {
      const st = fstatSync(fd);
      kind = st.isFIFO() ? 'fifo' : st.isSocket() ? 'socket' : 'other';
    } catch {
      this.stats.broken = true;
    }
    this.stream = kind === 'fifo' ? openFifo(fd) : kind === 'socket' ? openSocket(fd) : undefined;
    if (kind === 'fifo' && !this.stream) this.stats.broken = true; // no reader left (ENXIO)
    if (this.stream) {
      this.stream.on('error', () => this.breakOff());
      this.stream.on('close', () => this.breakOff());
      this.stream.on('drain', () => this.reportDrops());
    }
  }

  write(chunk: string): boolean {
    if (this.stats.broken) {
      this.stats.dropped++;
      return true;
    }
    const text = escapeLoneSurrogates(this.transform ? this.transform(chunk) : chunk);
    if (this.stream) {
      if (this.stream.writableLength + text.length > this.maxBufferBytes) {
        this.stats.dropped++;
        this.droppedSinceReport++;
        return true;
      }
      this.stream.write(text);
      this.stats.written++;
      return true;
    }
    try {
      writeSync(this.fd, text);
      this.stats.written++;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      this.stats.dropped++;
      if (code === 'EPIPE' || code === 'EBADF' || code === 'EIO') this.breakOff();
    }
    return true;
  }

  /** Bytes accepted but not yet handed to the kernel. */
  get pendingBytes(): number {
    return this.stream?.writableLength ?? 0;
  }

  /** Best effort: waits at most `timeoutMs` for buffered lines to be written. Never throws. */
  flush(cb?: (err?: Error) => void, timeoutMs = 500): void {
    const stream = this.stream;
    if (!stream || this.stats.broken || stream.writableLength === 0) {
      cb?.();
      return;
    }
    const finish = (): void => {
      clearTimeout(t);
      stream.off('drain', finish);
      cb?.();
    };
    const t = setTimeout(finish, timeoutMs);
    t.unref();
    stream.once('drain', finish);
  }

  flushSync(): void {
    // Nothing is written synchronously here: that could block on a stalled reader. Pending text is lost at exit.
  }

  private reportDrops(): void {
    if (this.droppedSinceReport === 0 || !this.stream || this.stats.broken) return;
    const n = this.droppedSinceReport;
    this.droppedSinceReport = 0;
    const rec = { level: 'warn', time: new Date().toISOString(), dropped: n, msg: 'log: lines dropped (slow reader)' };
    const line = `${JSON.stringify(rec)}\n`;
    this.stream.write(this.transform ? this.transform(line) : line);
  }

  private breakOff(): void {
    this.stats.broken = true;
  }
}

/**
 * A pipe gets a file description of its own (reopened through /proc, non-blocking), so the O_NONBLOCK flag stays ours:
 * children and the shell that share the original description keep theirs, and Node's process.stderr stays as it is.
 */
function openFifo(fd: number): Writable | undefined {
  try {
    const own = openSync(`/proc/self/fd/${fd}`, constants.O_WRONLY | constants.O_NONBLOCK);
    const socket = new Socket({ fd: own, readable: false, writable: true });
    socket.unref(); // a log handle never keeps the process alive
    return socket;
  } catch {
    return undefined;
  }
}

/**
 * A socket (journald's stream socket) cannot be reopened: use the process's stream for it, switched to non-blocking
 * writes (Node makes stdio pipes and sockets blocking on Linux).
 */
function openSocket(fd: number): Writable | undefined {
  const stream =
    fd === 2 ? process.stderr : fd === 1 ? process.stdout : new Socket({ fd, readable: false, writable: true });
  const handle = (stream as unknown as { _handle?: { setBlocking?: (b: boolean) => number } })._handle;
  handle?.setBlocking?.(false);
  return stream as unknown as Writable;
}

const levelWidth = 5;
const colour: Record<string, string> = {
  trace: '\x1b[90m',
  debug: '\x1b[36m',
  info: '\x1b[32m',
  warn: '\x1b[33m',
  error: '\x1b[31m',
  fatal: '\x1b[35m',
};

/** One JSON record as `HH:MM:SS.mmm LEVEL [svc] message key=value …`. */
export function prettyLine(json: string, colours = false): string {
  let rec: Record<string, unknown>;
  try {
    rec = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json.endsWith('\n') ? json : `${json}\n`;
  }
  const { level, time, msg, svc, pid: _pid, hostname: _host, ...rest } = rec;
  const t = typeof time === 'string' ? time.slice(11, 23) : new Date(Number(time)).toISOString().slice(11, 23);
  const lv = String(level);
  const c = colours ? (colour[lv] ?? '') : '';
  const reset = colours ? '\x1b[0m' : '';
  const fields = Object.entries(rest)
    .map(([k, v]) => `${k}=${typeof v === 'string' && !/\s/.test(v) ? v : JSON.stringify(v)}`)
    .join(' ');
  return `${t} ${c}${lv.toUpperCase().padEnd(levelWidth)}${reset} ${svc ? `[${String(svc)}] ` : ''}${String(msg ?? '')}${fields ? ` ${fields}` : ''}\n`;
}

export function createLogger(levelOrOptions: LevelWithSilent | LogOptions = 'info', fd?: number): Logger {
  const o: LogOptions = typeof levelOrOptions === 'string' ? { level: levelOrOptions, fd } : levelOrOptions;
  const dfd = o.fd ?? 2;
  const format = resolveLogFormat(o.format, dfd);
  const destination = new BoundedDestination(dfd, o.maxBufferBytes ?? 1024 * 1024, format);
  // Node's own writes to stderr (warnings) must not turn a vanished reader (EPIPE) into an uncaught error.
  if (dfd === 2 && process.stderr.listenerCount('error') === 0) process.stderr.on('error', () => undefined);
  const logger = pino(
    {
      level: o.level ?? 'info',
      // No `svc` here: service loggers are children that add `svc` once (portsync, ptp).
      base: undefined, // no pid or hostname: journald and the runtimes add them, and a field named pid stays one
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
  statsOf.set(logger, destination.stats);
  return logger;
}

/** A logger that writes nothing, for tests and benchmarks. */
export const silentLogger: Logger = pino({ level: 'silent' });

export interface RateLimitOptions {
  /** Lines let through per window and key (default 5). */
  burst?: number;
  /** Window length (default 10 s). */
  windowMs?: number;
  now?: () => number;
}

/**
 * Rate limits one repetitive warning: at most `burst` lines per `windowMs` per key; the rest are counted, and the
 * next line after the window carries `suppressed: N`. A window that ends with suppressed lines and no new one logs a
 * summary line (`<msg> (suppressed N)`) from an unref'd timer.
 */
export function rateLimitedLog(
  logger: Logger,
  level: 'warn' | 'info' | 'error',
  msg: string,
  opts: RateLimitOptions = {},
): (fields?: Record<string, unknown>) => void {
  const burst = opts.burst ?? 5;
  const windowMs = opts.windowMs ?? 10_000;
  const now = opts.now ?? Date.now;
  let windowStart = -Infinity;
  let inWindow = 0;
  let suppressed = 0;
  let timer: NodeJS.Timeout | undefined;
  const summary = (): void => {
    timer = undefined;
    if (suppressed === 0) return;
    logger[level]({ suppressed, windowMs }, `${msg} (suppressed ${suppressed})`);
    suppressed = 0;
    windowStart = now();
    inWindow = 0;
  };
  return (fields = {}) => {
    const t = now();
    if (t - windowStart >= windowMs) {
      windowStart = t;
      inWindow = 0;
    }
    if (inWindow < burst) {
      inWindow++;
      if (suppressed > 0) {
        logger[level]({ ...fields, suppressed }, msg);
        suppressed = 0;
      } else logger[level](fields, msg);
      return;
    }
    suppressed++;
    if (!timer) {
      timer = setTimeout(summary, Math.max(1, windowStart + windowMs - t));
      timer.unref();
    }
  };
}
