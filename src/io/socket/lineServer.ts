// A Unix-socket line server: many clients, newline framing per connection, bounded line length and connection count.
// Lines are handed over in batches (one callback per read chunk) as one text of newline-ended lines, `CMD …` lines
// separately, in arrival order.
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { lstatSync, unlinkSync } from 'node:fs';
import { chmod, lstat, mkdir, rename, unlink } from 'node:fs/promises';
import { acquireLock, LockBusyError, type HeldLock } from '../fs/lockFile.js';
import { dirname } from 'node:path';
import { Counter, Gauge, type Registry } from 'prom-client';

export interface LineServerHandlers {
  /**
   * Complete lines of one read chunk (CMD lines and empty lines excluded, a trailing `\r` stripped), as one text:
   * each line followed by `\n` (a line never holds one). `count` is the number of lines. Mostly the chunk's own
   * decoded text: no string per line.
   */
  onLines(connId: number, text: string, count: number): void;
  /** A `CMD …` line; `command` is the text after `CMD `. Called between the line batches around it, in order. */
  onCommand(connId: number, command: string): void;
  onConnected?(connId: number): void;
  onDisconnected?(connId: number): void;
}

export interface LineServerOptions {
  path: string;
  /** Longer lines are discarded and counted; the connection is kept. Default 64 KiB. */
  maxLineBytes?: number;
  /** Connections beyond this are refused (closed at once) and counted. Default 256. */
  maxConnections?: number;
  /** Counters are registered here (reused when already registered, e.g. after a supervisor restart). */
  registry?: Registry;
  /** Socket file mode, default 0o660. */
  mode?: number;
  /** A connection silent this long is closed and counted; 0 = never. Default 600,000 ms. */
  idleTimeoutMs?: number;
  /**
   * At the connection limit, a new connection takes the place of the one idle longest (one that never sent a line
   * first) when that one has been idle at least this long; otherwise it is answered `ERR …` and closed. Default 1,000.
   */
  evictIdleMs?: number;
}

export interface LineServer {
  readonly path: string;
  /** Number of open connections. */
  readonly connections: number;
  /** Backpressure: stop reading every connection (new ones start paused) until resume(). */
  pause(): void;
  resume(): void;
  readonly paused: boolean;
  close(): Promise<void>;
}

export class SocketInUseError extends Error {
  override name = 'SocketInUseError';
}

export interface SocketMetrics {
  lines: Counter;
  commands: Counter<'command'>;
  discarded: Counter;
  refused: Counter;
  connections: Gauge;
  idleClosed: Counter<'reason'>;
}

export function socketMetrics(registry: Registry | undefined): SocketMetrics {
  const reg = registry ? [registry] : [];
  const get = <T>(name: string, make: () => T): T => (registry?.getSingleMetric(name) as T | undefined) ?? make();
  return {
    lines: get(
      'syncvisor_socket_lines_total',
      () =>
        new Counter({ name: 'syncvisor_socket_lines_total', help: 'Log lines read from the socket.', registers: reg }),
    ),
    commands: get(
      'syncvisor_socket_commands_total',
      () =>
        new Counter({
          name: 'syncvisor_socket_commands_total',
          help: 'CMD lines read from the socket, by command (RESTART, LIVE_START, other).',
          labelNames: ['command'],
          registers: reg,
        }),
    ),
    discarded: get(
      'syncvisor_socket_discarded_lines_total',
      () =>
        new Counter({
          name: 'syncvisor_socket_discarded_lines_total',
          help: 'Lines longer than the limit, discarded.',
          registers: reg,
        }),
    ),
    refused: get(
      'syncvisor_socket_refused_connections_total',
      () =>
        new Counter({
          name: 'syncvisor_socket_refused_connections_total',
          help: 'Connections refused because the connection limit was reached.',
          registers: reg,
        }),
    ),
    idleClosed: get(
      'syncvisor_socket_idle_closed_total',
      () =>
        new Counter({
          name: 'syncvisor_socket_idle_closed_total',
          help: 'Idle connections closed: after the idle timeout (timeout) or to make room at the limit (evicted).',
          labelNames: ['reason'],
          registers: reg,
        }),
    ),
    connections: get(
      'syncvisor_socket_connections',
      () => new Gauge({ name: 'syncvisor_socket_connections', help: 'Open socket connections.', registers: reg }),
    ),
  };
}

const knownCommands = new Set(['RESTART', 'LIVE_START']);

/**
 * What a connect to `path` finds: 'alive' (accepted), 'refused' (ECONNREFUSED / ENOENT: nobody listens, the file is
 * stale), or 'unknown' (EAGAIN from a full backlog, a timeout, anything else: maybe a live but stalled listener).
 */
function probe(path: string): Promise<'alive' | 'refused' | 'unknown'> {
  return new Promise((resolve) => {
    const c = createConnection(path);
    const done = (r: 'alive' | 'refused' | 'unknown'): void => {
      c.removeAllListeners();
      c.on('error', () => {});
      c.destroy();
      resolve(r);
    };
    c.once('connect', () => done('alive'));
    c.once('error', (err: NodeJS.ErrnoException) =>
      done(err.code === 'ECONNREFUSED' || err.code === 'ENOENT' ? 'refused' : 'unknown'),
    );
    c.setTimeout(1000, () => done('unknown'));
  });
}

/**
 * Takes `<path>.lock` (src/io/fs/lockFile.ts): only its holder may remove or replace the socket file. Holding it, a
 * leftover socket is removed only when a connect is refused outright; one that accepts, stalls or answers EAGAIN
 * belongs to a live process that is not a syncvisor (or an older one without the lock) and is left alone.
 */
async function takeOwnership(path: string): Promise<HeldLock> {
  let lock: HeldLock;
  try {
    lock = acquireLock(path);
  } catch (err) {
    if (err instanceof LockBusyError)
      throw new SocketInUseError(`another syncvisor instance owns ${path} (${err.message})`);
    throw err;
  }
  try {
    let st;
    try {
      st = await lstat(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return lock;
      throw err;
    }
    if (!st.isSocket()) throw new SocketInUseError(`${path} exists and is not a socket; not removing it`);
    const found = await probe(path);
    if (found === 'alive') throw new SocketInUseError(`another process listens on ${path}`);
    if (found === 'unknown')
      throw new SocketInUseError(
        `${path} neither accepts nor refuses a connection (a stalled listener?); not removing it`,
      );
    await unlink(path).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
    return lock;
  } catch (err) {
    lock.release();
    throw err;
  }
}

/** Per-connection framing state: a bounded partial line, or discard mode until the next newline (exported for its property test). */
export class Framer {
  private partial: Buffer[] = [];
  private partialLen = 0;
  private discarding = false;
  /** The lines of this chunk so far (each ending with \n), and how many. */
  private batch = '';
  private batchLines = 0;

  constructor(
    private readonly maxLineBytes: number,
    private readonly connId: number,
    private readonly handlers: LineServerHandlers,
    private readonly metrics: SocketMetrics,
  ) {}

  /** Bytes of the line ending at `nl` (exclusive), a trailing `\r` not counted. */
  private lineBytes(chunk: Buffer, start: number, nl: number): number {
    const len = this.partialLen + (nl - start);
    const last = nl > start ? chunk[nl - 1] : this.lastPartialByte();
    return last === 13 ? len - 1 : len;
  }

  private lastPartialByte(): number | undefined {
    const tail = this.partial.at(-1);
    return tail && tail.length > 0 ? tail[tail.length - 1] : undefined;
  }

  /** Hands over the lines gathered so far (before a CMD line, and at the end of each chunk). */
  private flush(): void {
    if (this.batchLines === 0) return;
    const text = this.batch;
    const n = this.batchLines;
    this.batch = '';
    this.batchLines = 0;
    this.metrics.lines.inc(n);
    this.handlers.onLines(this.connId, text, n);
  }

  /** `n` lines, each ending with \n, appended to the batch. */
  private append(text: string, n: number): void {
    this.batch = this.batch === '' ? text : this.batch + text;
    this.batchLines += n;
  }

  push(chunk: Buffer): void {
    let start = 0;
    // A line begun in an earlier chunk and the complete lines after it: decoded as one text (a copy of at most
    // maxLineBytes + 1 bytes more), so that the batch is one flat string, not a line joined to the chunk's text.
    if (this.partialLen > 0 && !this.discarding) {
      const last = chunk.lastIndexOf(10);
      if (last >= 0) {
        const bytes = Buffer.concat([...this.partial, chunk.subarray(0, last + 1)], this.partialLen + last + 1);
        const text = bytes.toString('utf8');
        if (text.length === bytes.length) {
          this.partial = [];
          this.partialLen = 0;
          this.frameText(text);
          start = last + 1;
        }
      }
    }
    // Otherwise a line begun in an earlier chunk (or one being discarded) ends at the first newline: the per-line way.
    if (start === 0 && (this.partialLen > 0 || this.discarding)) {
      const nl = chunk.indexOf(10);
      if (nl >= 0) {
        this.lineAt(chunk, 0, nl);
        start = nl + 1;
      }
    }
    // The complete lines of the rest: one UTF-8 decode for all of them. When the text has as many characters as
    // bytes (ASCII, or single invalid bytes decoded as U+FFFD), character offsets are byte offsets and each line's
    // byte length is its length: the text itself is the batch, cut only around lines that are not handed over as
    // they are (too long, a `\r` to strip, empty, CMD). Otherwise the per-line way below.
    if (this.partialLen === 0 && !this.discarding) {
      const last = chunk.lastIndexOf(10);
      if (last >= start) {
        const text = chunk.toString('utf8', start, last + 1);
        if (text.length === last + 1 - start) {
          this.frameText(text);
          start = last + 1;
        }
      }
    }
    for (;;) {
      const nl = chunk.indexOf(10, start);
      if (nl < 0) break;
      this.lineAt(chunk, start, nl);
      start = nl + 1;
    }
    if (start < chunk.length && !this.discarding) {
      const rest = chunk.length - start;
      // One byte more than the limit may wait: it can be the `\r` of a line of exactly maxLineBytes.
      if (this.partialLen + rest > this.maxLineBytes + 1) {
        // Memory stays bounded: a line without a newline is dropped as soon as it exceeds the limit.
        this.partial = [];
        this.partialLen = 0;
        this.discarding = true;
        this.metrics.discarded.inc();
      } else {
        // Copy: the chunk's backing store may be large and pooled.
        this.partial.push(Buffer.from(chunk.subarray(start)));
        this.partialLen += rest;
      }
    }
    this.flush();
  }

  /**
   * Complete lines whose character offsets are byte offsets (`text` ends with \n). Runs of lines that are handed
   * over as they are go to the batch as slices of `text` (all of it, usually); the others one by one.
   */
  private frameText(text: string): void {
    const max = this.maxLineBytes;
    let run = 0; // text[run, a) holds `n` lines that go over as they are
    let n = 0;
    let a = 0;
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', a)) {
      const cr = nl > a && text.charCodeAt(nl - 1) === 13;
      const bytes = cr ? nl - a - 1 : nl - a;
      if (!cr && bytes > 0 && bytes <= max && !(text.charCodeAt(a) === 67 && text.startsWith('CMD ', a))) {
        n++;
      } else {
        if (n > 0) this.append(text.slice(run, a), n);
        n = 0;
        if (bytes > max) this.metrics.discarded.inc();
        else if (nl > a) this.deliver(text.slice(a, nl));
        run = nl + 1;
      }
      a = nl + 1;
    }
    if (n > 0) this.append(run === 0 && a === text.length ? text : text.slice(run, a), n);
  }

  /** The line ending at chunk[nl] (with any partial line before it), delivered, discarded or skipped. */
  private lineAt(chunk: Buffer, start: number, nl: number): void {
    let line: string | undefined;
    if (this.discarding) {
      this.discarding = false;
    } else if (this.lineBytes(chunk, start, nl) > this.maxLineBytes) {
      this.partial = [];
      this.partialLen = 0;
      this.metrics.discarded.inc();
    } else if (this.partialLen > 0) {
      this.partial.push(chunk.subarray(start, nl));
      line = Buffer.concat(this.partial).toString('utf8');
      this.partial = [];
      this.partialLen = 0;
    } else {
      line = chunk.toString('utf8', start, nl);
    }
    if (line !== undefined) this.deliver(line);
  }

  /** The peer closed: a last line without a newline is still a line (as Go's bufio.Scanner returns it). */
  end(): void {
    if (this.discarding || this.partialLen === 0) return;
    const bytes = this.partialLen - (this.lastPartialByte() === 13 ? 1 : 0);
    const text = Buffer.concat(this.partial).toString('utf8');
    this.partial = [];
    this.partialLen = 0;
    if (bytes > this.maxLineBytes) {
      this.metrics.discarded.inc();
      return;
    }
    this.deliver(text);
    this.flush();
  }

  /** One line on its own (its \n not included): a CMD, skipped when empty, or a line of the batch. */
  private deliver(raw: string): void {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.startsWith('CMD ')) {
      this.flush();
      const command = line.slice(4);
      this.metrics.commands.inc({ command: knownCommands.has(command) ? command : 'other' });
      this.handlers.onCommand(this.connId, command);
    } else if (line.length > 0) {
      this.append(`${line}\n`, 1);
    }
  }
}

/** The lines of an onLines text (each followed by \n), one string each: for consumers that want them so. */
export function linesOf(text: string): string[] {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

/** Listens on `opts.path` (creating its directory), mode 0660. Rejects with SocketInUseError when it must not. */
export async function startLineServer(opts: LineServerOptions, handlers: LineServerHandlers): Promise<LineServer> {
  const maxLineBytes = opts.maxLineBytes ?? 65_536;
  const maxConnections = opts.maxConnections ?? 256;
  const metrics = socketMetrics(opts.registry);
  const path = opts.path;
  const idleTimeoutMs = opts.idleTimeoutMs ?? 600_000;
  const evictIdleMs = opts.evictIdleMs ?? 1_000;
  await mkdir(dirname(path), { recursive: true });
  const lock = await takeOwnership(path);

  interface Conn {
    sock: Socket;
    /** Date.now() of the last byte received (of the accept before any). */
    lastActive: number;
    sentAny: boolean;
  }
  const open = new Map<number, Conn>();
  let nextId = 1;
  let paused = false;
  /** The connection to give up at the limit: one that never sent a byte first, then the one idle longest. */
  const evictable = (now: number): Conn | undefined => {
    let best: Conn | undefined;
    for (const c of open.values()) {
      if (now - c.lastActive < evictIdleMs) continue;
      if (!best || (!c.sentAny && best.sentAny) || (c.sentAny === best.sentAny && c.lastActive < best.lastActive))
        best = c;
    }
    return best;
  };
  const server: Server = createServer((sock) => {
    sock.on('error', () => {
      /* a peer reset is an ordinary disconnect */
    });
    if (open.size >= maxConnections) {
      const victim = evictable(Date.now());
      if (victim) {
        metrics.idleClosed.inc({ reason: 'evicted' });
        victim.sock.destroy();
      } else {
        metrics.refused.inc();
        sock.end(`ERR too many connections (limit ${maxConnections})\n`);
        sock.setTimeout(1_000, () => sock.destroy());
        return;
      }
    }
    const connId = nextId++;
    const conn: Conn = { sock, lastActive: Date.now(), sentAny: false };
    open.set(connId, conn);
    metrics.connections.set(open.size);
    const framer = new Framer(maxLineBytes, connId, handlers, metrics);
    sock.on('data', (chunk: Buffer) => {
      conn.lastActive = Date.now();
      conn.sentAny = true;
      framer.push(chunk);
    });
    sock.on('end', () => framer.end());
    if (paused) sock.pause();
    if (idleTimeoutMs > 0)
      sock.setTimeout(idleTimeoutMs, () => {
        metrics.idleClosed.inc({ reason: 'timeout' });
        sock.destroy();
      });
    sock.on('close', () => {
      open.delete(connId);
      metrics.connections.set(open.size);
      handlers.onDisconnected?.(connId);
    });
    handlers.onConnected?.(connId);
  });

  // Bound under a temporary name and renamed into place: libuv unlinks the name it bound when the server closes,
  // whatever is there by then; this way that name is the temporary one (gone), and the path is removed by us only
  // while it still is our inode.
  const bindPath = `${path}.new`;
  let own: { dev: number; ino: number } | undefined;
  try {
    await unlink(bindPath).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(bindPath, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', () => {
      /* errors after listen concern single connections */
    });
    await chmod(bindPath, opts.mode ?? 0o660);
    const st = await lstat(bindPath);
    own = { dev: st.dev, ino: st.ino };
    await rename(bindPath, path);
  } catch (err) {
    server.close();
    await unlink(bindPath).catch(() => {});
    lock.release();
    throw err;
  }

  /**
   * Removes the socket file only when it is still the one we bound (same dev and inode), then drops the lock.
   * Synchronous, at the start of close(): the process may exit before the server's close callback runs.
   */
  const removeOwn = (): void => {
    try {
      const st = lstatSync(path);
      if (own && st.dev === own.dev && st.ino === own.ino) unlinkSync(path);
    } catch {
      // gone already
    } finally {
      lock.release();
    }
  };

  let closing: Promise<void> | undefined;
  return {
    path,
    get connections() {
      return open.size;
    },
    get paused() {
      return paused;
    },
    pause() {
      paused = true;
      for (const c of open.values()) c.sock.pause();
    },
    resume() {
      paused = false;
      for (const c of open.values()) c.sock.resume();
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        removeOwn();
        server.close(() => resolve());
        for (const c of open.values()) c.sock.destroy();
      });
      return closing;
    },
  };
}
