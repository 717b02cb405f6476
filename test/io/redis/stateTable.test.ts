import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/io/log.js';
import { RedisConnection } from '../../../src/io/redis/connection.js';
import { StateTable } from '../../../src/io/redis/stateTable.js';

// A private redis-server per test: these tests pause, kill and restart it, and read its command statistics.
const dir = mkdtempSync(join(tmpdir(), 'syncvisor-state-table-'));
const path = join(dir, 'r.sock');
let server: ChildProcess | undefined;
const cleanups: (() => Promise<void> | void)[] = [];

async function startServer(): Promise<void> {
  server = spawn('redis-server', ['--port', '0', '--unixsocket', path, '--save', '', '--appendonly', 'no'], {
    stdio: 'ignore',
  });
  await expect.poll(() => existsSync(path), { timeout: 10_000 }).toBe(true);
}

async function stopServer(): Promise<void> {
  const s = server;
  server = undefined;
  if (!s || s.exitCode !== null) return;
  await new Promise<void>((resolve) => {
    s.once('exit', () => resolve());
    s.kill('SIGKILL');
  });
  rmSync(path, { force: true });
}

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  await stopServer();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function hsetCalls(client: Redis): Promise<number> {
  const info = await client.info('commandstats');
  return Number(/cmdstat_hset:calls=(\d+)/.exec(info)?.[1] ?? 0);
}

function setupTable(registry = new Registry()) {
  const conn = new RedisConnection({
    url: path,
    db: 6,
    logger: silentLogger,
    registry,
    backoff: { initialMs: 20, maxMs: 200 },
  });
  const table = new StateTable({ conn, table: 'PORT_TABLE', separator: '|', logger: silentLogger, registry });
  const reader = new Redis({ path, db: 6, retryStrategy: () => 50 });
  reader.on('error', () => undefined);
  cleanups.push(
    () => conn.close(),
    () => table.writer.stop(),
    () => void reader.disconnect(),
  );
  return { conn, table, reader, registry };
}

describe('StateTable', () => {
  it('coalesces writes to one key while Redis is slower: final value right, far fewer commands', async () => {
    await startServer();
    const { conn, table, reader } = setupTable();
    await conn.ready();
    table.set('Ethernet0', { state: 'ok', mtu: '0' });
    await table.drain(5_000);
    const before = await hsetCalls(reader);

    // Redis stalls for a while (CLIENT PAUSE holds every client's writes); 1000 updates arrive meanwhile.
    await reader.client('PAUSE', 300, 'WRITE');
    const N = 1000;
    for (let i = 1; i <= N; i++) {
      table.set('Ethernet0', { state: 'ok', mtu: String(i) });
      if (i % 50 === 0) await new Promise((r) => setImmediate(r));
    }
    expect(await table.drain(10_000)).toBe(true);
    expect(await reader.hgetall('PORT_TABLE|Ethernet0')).toEqual({ state: 'ok', mtu: String(N) });
    const calls = (await hsetCalls(reader)) - before;
    expect(calls).toBeGreaterThanOrEqual(1);
    expect(calls).toBeLessThan(N / 10);
  });

  it('accumulates fields like HSET and a del then set replaces the hash', async () => {
    await startServer();
    const { conn, table, reader } = setupTable();
    await conn.ready();
    await reader.hset('PORT_TABLE|Ethernet4', { stale: '1' });
    table.set('Ethernet0', { a: '1' });
    table.set('Ethernet0', { b: '2' });
    table.del('Ethernet4');
    table.set('Ethernet4', { fresh: '1' });
    table.set('Ethernet8', { x: '1' });
    table.del('Ethernet8');
    await table.drain(5_000);
    expect(await reader.hgetall('PORT_TABLE|Ethernet0')).toEqual({ a: '1', b: '2' });
    expect(await reader.hgetall('PORT_TABLE|Ethernet4')).toEqual({ fresh: '1' });
    expect(await reader.exists('PORT_TABLE|Ethernet8')).toBe(0);
    expect((await table.keys()).sort()).toEqual(['Ethernet0', 'Ethernet4']);
  });

  it('holds writes while Redis is down and flushes them on reconnect, without crashing', async () => {
    await startServer();
    const { conn, table, reader, registry } = setupTable();
    await conn.ready();
    table.set('Ethernet0', { state: 'ok', admin_status: 'up' });
    await table.drain(5_000);

    await stopServer();
    await expect.poll(() => conn.isUp, { timeout: 5_000 }).toBe(false);
    expect(await registry.getSingleMetricAsString('syncvisor_redis_up')).toContain('syncvisor_redis_up{db="6"} 0');
    for (let i = 0; i < 100; i++) table.set(`Ethernet${i * 4}`, { state: 'ok', mtu: String(9000 + i) });
    table.del('Ethernet0');
    expect(await table.drain(300)).toBe(false);
    expect(table.writer.pendingCount).toBe(100);
    expect(await registry.getSingleMetricAsString('syncvisor_redis_pending_keys')).toContain(
      'syncvisor_redis_pending_keys{table="STATE_DB|PORT_TABLE"} 100',
    );

    await startServer();
    expect(await table.drain(10_000)).toBe(true);
    await expect.poll(() => reader.status, { timeout: 5_000 }).toBe('ready');
    expect(await reader.exists('PORT_TABLE|Ethernet0')).toBe(0);
    expect(await reader.hgetall('PORT_TABLE|Ethernet396')).toEqual({ state: 'ok', mtu: '9099' });
    expect((await table.keys()).length).toBe(99);
    expect(await registry.getSingleMetricAsString('syncvisor_redis_up')).toContain('syncvisor_redis_up{db="6"} 1');
  });
});
