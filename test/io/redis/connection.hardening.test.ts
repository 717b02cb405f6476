// Redis failures an operator must see, on real redis-servers of this test's own: a wrong password and an unreachable
// server are logged clearly (once, not per retry); a stalled server (DEBUG SLEEP) is reported down by the PING health
// check and up again when it answers; a write Redis rejects names its key.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { RedisConnection } from '../../../src/io/redis/connection.js';
import { StateTable } from '../../../src/io/redis/stateTable.js';

const dir = mkdtempSync(join(tmpdir(), 'syncvisor-redis-h-'));
const servers: ChildProcess[] = [];
afterAll(() => {
  for (const s of servers) s.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _e, cb) {
      for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines };
}

async function server(args: string[], socket: string): Promise<void> {
  const s = spawn('redis-server', ['--save', '', '--appendonly', 'no', '--unixsocket', socket, ...args], {
    stdio: 'ignore',
  });
  servers.push(s);
  for (let i = 0; i < 500 && !existsSync(socket); i++) await new Promise((r) => setTimeout(r, 10));
}

async function until(what: string, f: () => boolean, ms = 8_000): Promise<void> {
  const end = Date.now() + ms;
  while (!f()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('redis connection: failures are told', () => {
  it('a wrong password is logged once at error level as refused credentials', async () => {
    const port = 20_000 + (process.pid % 20_000);
    await server(['--port', String(port), '--bind', '127.0.0.1', '--requirepass', 'right'], join(dir, 'pw.sock'));
    const { logger, lines } = capture();
    const conn = new RedisConnection({
      url: `redis://:wrong@127.0.0.1:${port}`,
      db: 0,
      logger,
      backoff: { initialMs: 20, maxMs: 50 },
    });
    await until('the error line', () => lines.some((l) => l['level'] === 50));
    await new Promise((r) => setTimeout(r, 500)); // more retries happen meanwhile
    await conn.close();
    const errors = lines.filter((l) => l['level'] === 50);
    expect(errors).toHaveLength(1);
    expect(String(errors[0]!['msg'])).toMatch(/refused the credentials \(wrong password or user\)/);
    expect(JSON.stringify(lines)).not.toContain('wrong@'); // the password is never logged
  });

  it('an unreachable server is logged once at error level as unreachable', async () => {
    const { logger, lines } = capture();
    const conn = new RedisConnection({
      url: join(dir, 'nothing.sock'),
      db: 0,
      logger,
      backoff: { initialMs: 20, maxMs: 50 },
    });
    await until('the error line', () => lines.some((l) => l['level'] === 50));
    await new Promise((r) => setTimeout(r, 300));
    await conn.close();
    const errors = lines.filter((l) => l['level'] === 50);
    expect(errors).toHaveLength(1);
    expect(String(errors[0]!['msg'])).toMatch(/nothing\.sock is unreachable: .*ENOENT/);
  });

  it('a stalled server (DEBUG SLEEP 4) is reported down by the PING check, and up once it answers', async () => {
    const socket = join(dir, 'stall.sock');
    await server(['--port', '0', '--enable-debug-command', 'local'], socket);
    const { logger, lines } = capture();
    const conn = new RedisConnection({ url: socket, db: 0, logger, health: { intervalMs: 200, timeoutMs: 500 } });
    const states: Array<[boolean, number]> = [];
    conn.onStatus((up) => states.push([up, Date.now()]));
    await conn.ready();
    const other = new Redis({ path: socket });
    const t0 = Date.now();
    void other.call('DEBUG', 'SLEEP', '4').catch(() => undefined);
    await until('down', () => states.some(([up]) => !up));
    const downAfter = states.find(([up]) => !up)![1] - t0;
    await until('up again', () => states.at(-1)?.[0] === true, 10_000);
    expect(downAfter).toBeLessThan(2_000);
    expect(lines.some((l) => /does not answer PING within 500 ms/.test(String(l['msg'])))).toBe(true);
    other.disconnect();
    await conn.close();
  });

  it('a write Redis rejects is logged with its key', async () => {
    const socket = join(dir, 'reject.sock');
    await server(['--port', '0'], socket);
    const { logger, lines } = capture();
    const conn = new RedisConnection({ url: socket, db: 6, logger });
    await conn.ready();
    await conn.client.set('PORT_TABLE|Ethernet8', 'a string, not a hash');
    const table = new StateTable({ conn, table: 'PORT_TABLE', separator: '|', logger });
    table.set('Ethernet8', { state: 'ok' });
    await table.drain(5_000);
    const warn = lines.find((l) => /redis rejected a write/.test(String(l['msg'])));
    expect(warn?.['key']).toBe('PORT_TABLE|Ethernet8');
    expect(String(warn?.['msg'])).toContain('PORT_TABLE|Ethernet8');
    table.writer.stop();
    await conn.close();
  });
});
