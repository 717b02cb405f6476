// The embedded default: a private redis-server child on a Unix socket in our runtime directory, no persistence.
// Started when a service needs Redis and no --redis is given; stopped on exit, whatever the exit.
//
// Ownership: `<runtimeDir>/redis.sock.lock` is held (flock) for the daemon's lifetime, so a second instance never
// touches the first one's server or socket. Holding the lock, a server that still answers on the socket is an orphan
// of an earlier instance that died without stopping it (kill -9): it is shut down (SHUTDOWN NOSAVE) instead of
// refusing to start. The server runs detached in its own process group: a terminal's Ctrl-C (SIGINT to the
// foreground group) reaches only the daemon, which stops the server after its drain.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, existsSync, lstatSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { acquireLock, LockBusyError, type HeldLock } from '../fs/lockFile.js';
import { embeddedSocketPath } from './embeddedSocket.js';

export class EmbeddedRedisError extends Error {
  override name = 'EmbeddedRedisError';
}

export interface EmbeddedRedis {
  /** Unix socket path to connect to. */
  socket: string;
  /** Pid of the server running now (changes on respawn). */
  readonly pid: number;
  /** Resolves with a description when the server process running now exits (for supervision). */
  readonly exited: Promise<string>;
  /** Starts a new server process after the previous one died (same socket, same lock). */
  respawn(): Promise<void>;
  /** Stops the server (SIGTERM, SIGKILL after 3 s) and releases the lock. Idempotent. */
  stop(): Promise<void>;
  /** Synchronous last resort (process exit path): SIGKILL the server's process group now. */
  killNow(): void;
}

/** Sends one inline command; resolves with the first reply line, or undefined (no answer within 500 ms). */
function command(socket: string, cmd: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const c = connect(socket);
    let buf = '';
    let done = false;
    const finish = (v: string | undefined): void => {
      if (done) return;
      done = true;
      c.destroy();
      resolve(v);
    };
    c.setTimeout(500);
    c.on('connect', () => c.write(`${cmd}\r\n`));
    c.on('data', (d) => {
      buf += d.toString();
      const i = buf.indexOf('\r\n');
      if (i >= 0) finish(buf.slice(0, i));
    });
    c.on('error', () => finish(undefined));
    c.on('close', () => finish(buf === '' ? '' : buf));
    c.on('timeout', () => finish(undefined));
  });
}

const ping = async (socket: string): Promise<boolean> => (await command(socket, 'PING')) === '+PONG';

export interface EmbeddedRedisOptions {
  runtimeDir: string;
  binary?: string;
  timeoutMs?: number;
}

export { embeddedSocketPath };

export async function startEmbeddedRedis(opts: EmbeddedRedisOptions): Promise<EmbeddedRedis> {
  const binary = opts.binary ?? 'redis-server';
  const timeoutMs = opts.timeoutMs ?? 10_000;
  try {
    mkdirSync(opts.runtimeDir, { recursive: true, mode: 0o750 });
  } catch (err) {
    throw new EmbeddedRedisError(
      `cannot create the runtime directory ${opts.runtimeDir} for the embedded Redis: ${(err as Error).message}; set redis.runtimeDir or give --redis`,
    );
  }
  const socket = embeddedSocketPath(opts.runtimeDir);
  let lock: HeldLock;
  try {
    lock = acquireLock(socket);
  } catch (err) {
    if (err instanceof LockBusyError)
      throw new EmbeddedRedisError(
        `another syncvisor instance runs its embedded Redis in ${opts.runtimeDir} (${err.message}); give this one another redis.runtimeDir, or --redis ${socket} to share it`,
      );
    throw new EmbeddedRedisError(`cannot lock ${socket}: ${(err as Error).message}`);
  }
  try {
    if (existsSync(socket)) {
      if (await ping(socket)) {
        // Ours by the lock: a server left behind by an instance that could not stop it. Stop it, then start afresh.
        await command(socket, 'SHUTDOWN NOSAVE');
        const end = Date.now() + 3_000;
        while ((await ping(socket)) && Date.now() < end) await new Promise((r) => setTimeout(r, 25));
        if (await ping(socket))
          throw new EmbeddedRedisError(`a Redis server on ${socket} (left by an earlier instance) does not shut down`);
      }
      if (!lstatSync(socket, { throwIfNoEntry: false })?.isSocket() && existsSync(socket))
        throw new EmbeddedRedisError(`${socket} exists and is not a socket; not removing it`);
      rmSync(socket, { force: true });
    }
  } catch (err) {
    lock.release();
    throw err;
  }

  const args = [
    '--port',
    '0',
    '--unixsocket',
    socket,
    '--unixsocketperm',
    '660',
    '--save',
    '',
    '--appendonly',
    'no',
    '--dir',
    opts.runtimeDir,
    '--databases',
    '16',
    '--loglevel',
    'warning',
  ];

  let child: ChildProcess | undefined;
  let exited: Promise<string> = new Promise(() => {});
  let stopping: Promise<void> | undefined;

  const spawnOne = async (): Promise<void> => {
    let c: ChildProcess;
    try {
      // detached: its own process group, so a terminal's SIGINT does not stop it before the daemon's drain.
      c = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    } catch (err) {
      throw new EmbeddedRedisError(`cannot start ${binary}: ${(err as Error).message}`);
    }
    let stderr = '';
    c.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-2000);
    });
    const exit = new Promise<string>((resolve) =>
      c.once('exit', (code, signal) =>
        resolve(
          `${binary} pid ${c.pid} exited (${signal ?? `code ${code}`})${stderr.trim() ? `: ${stderr.trim()}` : ''}`,
        ),
      ),
    );
    const failed = new Promise<never>((_, reject) => {
      c.once('error', (err: NodeJS.ErrnoException) =>
        reject(
          new EmbeddedRedisError(
            err.code === 'ENOENT'
              ? `${binary} not found on PATH: install the Debian package redis-server (apt-get install redis-server), or give --redis URL|SOCKET`
              : `cannot start ${binary}: ${err.message}`,
          ),
        ),
      );
      void exit.then((why) => reject(new EmbeddedRedisError(`${why} at start`)));
    });
    failed.catch(() => {}); // later exits are reported through `exited`
    const deadline = Date.now() + timeoutMs;
    const ready = (async () => {
      while (Date.now() < deadline) {
        if (c.exitCode !== null || c.signalCode !== null)
          throw new EmbeddedRedisError(`${binary} exited at start: ${stderr.trim()}`);
        if (existsSync(socket) && (await ping(socket))) return;
        // Polled often: the server is up within milliseconds, and start-up waits for it.
        await new Promise((r) => setTimeout(r, 5));
      }
      throw new EmbeddedRedisError(`${binary} did not answer on ${socket} within ${timeoutMs} ms`);
    })();
    try {
      await Promise.race([ready, failed]);
    } catch (err) {
      killGroup(c, 'SIGKILL');
      throw err;
    }
    child = c;
    exited = exit;
  };

  const onProcessExit = (): void => handle.killNow();
  const handle: EmbeddedRedis = {
    socket,
    get pid() {
      return child?.pid ?? 0;
    },
    get exited() {
      return exited;
    },
    respawn: async () => {
      if (stopping) throw new EmbeddedRedisError('the embedded Redis is stopping');
      if (child && child.exitCode === null && child.signalCode === null) return;
      rmSync(socket, { force: true });
      await spawnOne();
    },
    stop: () =>
      (stopping ??= new Promise<void>((resolve) => {
        const c = child;
        const finish = (): void => {
          rmSync(socket, { force: true });
          lock.release();
          process.off('exit', onProcessExit);
          resolve();
        };
        if (!c || c.exitCode !== null || c.signalCode !== null) {
          finish();
          return;
        }
        const t = setTimeout(() => killGroup(c, 'SIGKILL'), 3_000);
        c.once('exit', () => {
          clearTimeout(t);
          finish();
        });
        killGroup(c, 'SIGTERM');
      })),
    killNow: () => {
      if (child && child.exitCode === null && child.signalCode === null) killGroup(child, 'SIGKILL');
    },
  };
  try {
    await spawnOne();
  } catch (err) {
    lock.release();
    throw err;
  }
  // Whatever ends this process (a second Ctrl-C, process.exit from anywhere), the server does not outlive it.
  process.on('exit', onProcessExit);
  return handle;
}

/** Signals the server's process group (it leads one: spawned detached); falls back to the pid. */
function killGroup(c: ChildProcess, signal: NodeJS.Signals): void {
  if (c.pid === undefined) return;
  try {
    process.kill(-c.pid, signal);
  } catch {
    try {
      c.kill(signal);
    } catch {
      // already gone
    }
  }
}
