// The embedded default: a private redis-server child on a Unix socket in our runtime directory, no persistence.
// Started when a service needs Redis and no --redis is given; stopped on exit.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, existsSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';

export class EmbeddedRedisError extends Error {
  override name = 'EmbeddedRedisError';
}

export interface EmbeddedRedis {
  /** Unix socket path to connect to. */
  socket: string;
  pid: number;
  stop(): Promise<void>;
}

function ping(socket: string): Promise<boolean> {
  return new Promise((resolve) => {
    const c = connect(socket);
    let buf = '';
    c.setTimeout(500);
    c.on('connect', () => c.write('PING\r\n'));
    c.on('data', (d) => {
      buf += d.toString();
      if (buf.includes('\r\n')) {
        c.destroy();
        resolve(buf.startsWith('+PONG'));
      }
    });
    c.on('error', () => resolve(false));
    c.on('timeout', () => {
      c.destroy();
      resolve(false);
    });
  });
}

export async function startEmbeddedRedis(opts: {
  runtimeDir: string;
  binary?: string;
  timeoutMs?: number;
}): Promise<EmbeddedRedis> {
  const binary = opts.binary ?? 'redis-server';
  try {
    mkdirSync(opts.runtimeDir, { recursive: true, mode: 0o750 });
  } catch (err) {
    throw new EmbeddedRedisError(
      `cannot create the runtime directory ${opts.runtimeDir} for the embedded Redis: ${(err as Error).message}; set redis.runtimeDir or give --redis`,
    );
  }
  const socket = join(opts.runtimeDir, 'redis.sock');
  if (existsSync(socket)) {
    if (await ping(socket))
      throw new EmbeddedRedisError(`a Redis server already listens on ${socket}; give --redis ${socket} to use it`);
    rmSync(socket, { force: true });
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
  let child: ChildProcess;
  try {
    child = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    throw new EmbeddedRedisError(`cannot start ${binary}: ${(err as Error).message}`);
  }
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-2000);
  });
  const failed = new Promise<never>((_, reject) => {
    child.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        new EmbeddedRedisError(
          err.code === 'ENOENT'
            ? `${binary} not found on PATH: install the Debian package redis-server (apt-get install redis-server), or give --redis URL|SOCKET`
            : `cannot start ${binary}: ${err.message}`,
        ),
      ),
    );
    child.once('exit', (code) =>
      reject(new EmbeddedRedisError(`${binary} exited at start (code ${code}): ${stderr.trim()}`)),
    );
  });
  const deadline = Date.now() + (opts.timeoutMs ?? 10_000);
  const ready = (async () => {
    while (Date.now() < deadline) {
      if (existsSync(socket) && (await ping(socket))) return;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new EmbeddedRedisError(`${binary} did not answer on ${socket} within ${opts.timeoutMs ?? 10_000} ms`);
  })();
  try {
    await Promise.race([ready, failed]);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  failed.catch(() => {}); // later exits are handled by stop()
  return {
    socket,
    pid: child.pid!,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) {
          rmSync(socket, { force: true });
          resolve();
          return;
        }
        const t = setTimeout(() => child.kill('SIGKILL'), 3_000);
        child.once('exit', () => {
          clearTimeout(t);
          rmSync(socket, { force: true });
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}
