// Global setup: one private redis-server for the whole run, on a Unix socket in a temp directory.
// Every test that touches Redis uses it (inject('redisSocket')), each on its own database numbers or key prefixes.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';

let server: ChildProcess | undefined;
let dir: string | undefined;

declare module 'vitest' {
  export interface ProvidedContext {
    redisSocket: string;
  }
}

async function waitFor(check: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('redis-server did not create its socket in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

export async function setup(project: TestProject): Promise<void> {
  dir = mkdtempSync(join(tmpdir(), 'syncvisor-test-redis-'));
  const socket = join(dir, 'redis.sock');
  server = spawn(
    'redis-server',
    [
      '--port',
      '0',
      '--unixsocket',
      socket,
      '--unixsocketperm',
      '777',
      '--save',
      '',
      '--appendonly',
      'no',
      '--databases',
      '64',
    ],
    { stdio: 'ignore' },
  );
  server.on('error', (err) => {
    throw new Error(`cannot start redis-server (Debian package redis-server): ${err.message}`);
  });
  await waitFor(() => existsSync(socket), 10_000);
  project.provide('redisSocket', socket);
  process.env.SYNCVISOR_TEST_REDIS_SOCKET = socket;
}

export async function teardown(): Promise<void> {
  server?.kill('SIGTERM');
  if (dir) rmSync(dir, { recursive: true, force: true });
}
