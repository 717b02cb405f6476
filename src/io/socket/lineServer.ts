// A Unix-socket line server: many clients, newline framing per connection, bounded line length and connection count.
// Lines are handed over in batches (one callback per read chunk), `CMD …` lines separately, in arrival order.
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { chmod, lstat, mkdir, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Counter, Gauge, type Registry } from 'prom-client';

export interface LineServerHandlers {
  /** Complete lines of one read chunk (CMD lines excluded), trailing `\r` stripped. */
  onLines(connId: number, lines: string[]): void;
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

interface SocketMetrics {
  lines: Counter;
  commands: Counter<'command'>;
  discarded: Counter;
  refused: Counter;
  connections: Gauge;
}

function socketMetrics(registry: Registry | undefined): SocketMetrics {
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
    connections: get(
      'syncvisor_socket_connections',
      () => new Gauge({ name: 'syncvisor_socket_connections', help: 'Open socket connections.', registers: reg }),
    ),
  };
}

const knownCommands = new Set(['RESTART', 'LIVE_START']);

/** Resolves true when something accepts a connection on `path`. */
function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createConnection(path);
    const done = (alive: boolean): void => {
      probe.removeAllListeners();
      probe.on('error', () => {});
      probe.destroy();
      resolve(alive);
    };
    probe.once('connect', () => done(true));
    probe.once('error', () => done(false));
    probe.setTimeout(1000, () => done(false));
  });
}

/** Removes a stale socket file; refuses when a live listener answers or the path is not a socket. */
async function clearStale(path: string): Promise<void> {
  let st;
  try {
    st = await lstat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  if (!st.isSocket()) throw new SocketInUseError(`${path} exists and is not a socket; not removing it`);
  if (await answers(path)) throw new SocketInUseError(`another process listens on ${path}`);
  await unlink(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
  });
}

/** Per-connection framing state: a bounded partial line, or discard mode until the next newline. */
class Framer {
  private partial: Buffer[] = [];
  private partialLen = 0;
  private discarding = false;

  constructor(
    private readonly maxLineBytes: number,
    private readonly connId: number,
    private readonly handlers: LineServerHandlers,
    private readonly metrics: SocketMetrics,
  ) {}

  push(chunk: Buffer): void {
    let batch: string[] = [];
    let start = 0;
    const flush = (): void => {
      if (batch.length === 0) return;
      this.metrics.lines.inc(batch.length);
      this.handlers.onLines(this.connId, batch);
      batch = [];
    };
    for (;;) {
      const nl = chunk.indexOf(10, start);
      if (nl < 0) break;
      let line: string | undefined;
      if (this.discarding) {
        this.discarding = false;
      } else if (this.partialLen + (nl - start) > this.maxLineBytes) {
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
      start = nl + 1;
      if (line === undefined) continue;
      if (line.endsWith('\r')) line = line.slice(0, -1);
      if (line.startsWith('CMD ')) {
        flush();
        const command = line.slice(4);
        this.metrics.commands.inc({ command: knownCommands.has(command) ? command : 'other' });
        this.handlers.onCommand(this.connId, command);
      } else if (line.length > 0) {
        batch.push(line);
      }
    }
    if (start < chunk.length && !this.discarding) {
      const rest = chunk.length - start;
      if (this.partialLen + rest > this.maxLineBytes) {
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
    flush();
  }
}

/** Listens on `opts.path` (creating its directory), mode 0660. Rejects with SocketInUseError when it must not. */
export async function startLineServer(opts: LineServerOptions, handlers: LineServerHandlers): Promise<LineServer> {
  const maxLineBytes = opts.maxLineBytes ?? 65_536;
  const maxConnections = opts.maxConnections ?? 256;
  const metrics = socketMetrics(opts.registry);
  const path = opts.path;
  await mkdir(dirname(path), { recursive: true });
  await clearStale(path);

  const open = new Map<number, Socket>();
  let nextId = 1;
  let paused = false;
  const server: Server = createServer((sock) => {
    if (open.size >= maxConnections) {
      metrics.refused.inc();
      sock.destroy();
      return;
    }
    const connId = nextId++;
    open.set(connId, sock);
    metrics.connections.set(open.size);
    const framer = new Framer(maxLineBytes, connId, handlers, metrics);
    sock.on('data', (chunk: Buffer) => framer.push(chunk));
    if (paused) sock.pause();
    sock.on('error', () => {
      /* a peer reset is an ordinary disconnect */
    });
    sock.on('close', () => {
      open.delete(connId);
      metrics.connections.set(open.size);
      handlers.onDisconnected?.(connId);
    });
    handlers.onConnected?.(connId);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', () => {
    /* errors after listen concern single connections */
  });
  await chmod(path, opts.mode ?? 0o660);

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
      for (const sock of open.values()) sock.pause();
    },
    resume() {
      paused = false;
      for (const sock of open.values()) sock.resume();
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const sock of open.values()) sock.destroy();
      }).then(() => unlink(path).catch(() => {}));
      return closing;
    },
  };
}
