import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { afterAll, afterEach, describe, expect, inject, it } from 'vitest';
import { silentLogger } from '../../../src/io/log.js';
import { RedisConnection } from '../../../src/io/redis/connection.js';
import { bytesToText } from '../../../src/io/redis/byteText.js';
import { ProducerStateTable, effectiveContent } from '../../../src/io/redis/producerStateTable.js';
import { consumeStateTable } from '../../support/consumerStateTable.js';

const DB = 40;
const socket = inject('redisSocket');
const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(db = DB, path = socket) {
  const conn = new RedisConnection({ url: path, db, logger: silentLogger, registry: new Registry() });
  cleanups.push(() => conn.close());
  await conn.ready();
  await conn.client.flushdb();
  const pst = new ProducerStateTable({ conn, table: 'PORT_TABLE', separator: ':', dbId: 0, logger: silentLogger });
  cleanups.push(() => pst.writer.stop());
  const reader = new Redis({ path, db });
  cleanups.push(() => void reader.disconnect());
  return { conn, pst, reader };
}

describe('ProducerStateTable', () => {
  it('writes what a ConsumerStateTable consumes, and publishes G on the table channel', async () => {
    const { pst, reader } = await setup();
    const sub = new Redis({ path: socket });
    cleanups.push(() => void sub.disconnect());
    const messages: string[] = [];
    sub.on('message', (channel: string, msg: string) => messages.push(`${channel} ${msg}`));
    await sub.subscribe('PORT_TABLE_CHANNEL@0');

    await reader.hset('PORT_TABLE:Ethernet8', { lanes: '9' });
    pst.set('Ethernet0', { lanes: '1,2', speed: '100000' });
    pst.set('Ethernet4', { lanes: '5' });
    pst.set('PortConfigDone', { count: '2' });
    pst.del('Ethernet8');
    expect(await pst.drain(5_000)).toBe(true);

    const content = await pst.read();
    expect(content.keySet).toEqual(['Ethernet0', 'Ethernet4', 'Ethernet8', 'PortConfigDone']);
    expect(content.delSet).toEqual(['Ethernet8']);
    expect(content.pending.get('Ethernet0')).toEqual({ lanes: '1,2', speed: '100000' });
    expect(content.table.get('Ethernet8')).toEqual({ lanes: '9' });

    const ops = await consumeStateTable(reader, 'PORT_TABLE');
    expect(ops).toContainEqual({ op: 'DEL', key: 'Ethernet8', fields: {} });
    expect(ops).toContainEqual({ op: 'SET', key: 'PortConfigDone', fields: { count: '2' } });
    expect(await reader.hgetall('PORT_TABLE:Ethernet0')).toEqual({ lanes: '1,2', speed: '100000' });
    expect(await reader.hgetall('PORT_TABLE:PortConfigDone')).toEqual({ count: '2' });
    expect(await reader.exists('PORT_TABLE:Ethernet8')).toBe(0);
    await expect.poll(() => messages.length).toBeGreaterThan(0);
    expect(messages.every((m) => m === 'PORT_TABLE_CHANNEL@0 G')).toBe(true);
  });

  it('writes byte values byte for byte through the Lua script, and reads them back as they are', async () => {
    const { pst, reader } = await setup();
    const raw = Buffer.concat([Buffer.of(0xff, 0xfe, 0x80), Buffer.from('é€'), Buffer.of(0x00)]);
    const key = bytesToText(Buffer.from([...Buffer.from('Eth'), 0xc3])); // a cut "Ã"
    pst.set('Ethernet0', {
      description: bytesToText(raw),
      [bytesToText(Buffer.of(0x80))]: bytesToText(Buffer.of(0xfe)),
    });
    pst.set(key, { lanes: '1' });
    expect(await pst.drain(5_000)).toBe(true);
    expect((await reader.hgetBuffer('_PORT_TABLE:Ethernet0', 'description'))!.equals(raw)).toBe(true);
    expect((await reader.hgetBuffer('_PORT_TABLE:Ethernet0', Buffer.of(0x80)))!.equals(Buffer.of(0xfe))).toBe(true);
    expect((await reader.smembersBuffer('PORT_TABLE_KEY_SET')).map((k) => k.toString('hex')).sort()).toEqual(
      [Buffer.from([...Buffer.from('Eth'), 0xc3]).toString('hex'), Buffer.from('Ethernet0').toString('hex')].sort(),
    );
    // Read back for a reconciliation: the same byte text; another byte is another value.
    const content = await pst.read();
    expect(content.keySet).toEqual([key, 'Ethernet0'].sort());
    expect(content.pending.get('Ethernet0')!.description).toBe(bytesToText(raw));
    await reader.hset('_PORT_TABLE:Ethernet0', 'description', Buffer.of(0xfe));
    const description = effectiveContent(await pst.read()).Ethernet0!.description;
    expect(description).toBe('\udcfe');
    expect(description).not.toBe(bytesToText(Buffer.of(0xff)));
  });

  it('publishes only when the key is newly added to the key set', async () => {
    const { pst, reader } = await setup();
    const published: number[] = [];
    const sub = new Redis({ path: socket });
    cleanups.push(() => void sub.disconnect());
    sub.on('message', () => published.push(1));
    await sub.subscribe('PORT_TABLE_CHANNEL@0');
    pst.set('Ethernet0', { a: '1' });
    await pst.drain(5_000);
    pst.set('Ethernet0', { b: '2' });
    await pst.drain(5_000);
    await reader.ping();
    await expect.poll(() => published.length).toBe(1);
    expect(await reader.hgetall('_PORT_TABLE:Ethernet0')).toEqual({ a: '1', b: '2' });
  });

  it('a set after a del in one batch replaces the entry', async () => {
    const { pst, reader } = await setup();
    await reader.hset('PORT_TABLE:Ethernet0', { old: 'x' });
    pst.del('Ethernet0');
    pst.set('Ethernet0', { fresh: 'y' });
    await pst.drain(5_000);
    await consumeStateTable(reader, 'PORT_TABLE');
    expect(await reader.hgetall('PORT_TABLE:Ethernet0')).toEqual({ fresh: 'y' });
  });
});

describe('ProducerStateTable on a private server', () => {
  let server: ChildProcess | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'syncvisor-pst-'));
  const path = join(dir, 'r.sock');
  afterAll(() => {
    server?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('reloads its scripts after NOSCRIPT (SCRIPT FLUSH) and loses no write', async () => {
    server = spawn('redis-server', ['--port', '0', '--unixsocket', path, '--save', '', '--appendonly', 'no'], {
      stdio: 'ignore',
    });
    await expect.poll(() => existsSync(path), { timeout: 10_000 }).toBe(true);
    const { pst, reader } = await setup(0, path);
    pst.set('Ethernet0', { a: '1' });
    await pst.drain(5_000);
    await reader.script('FLUSH');
    pst.set('Ethernet4', { a: '2' });
    expect(await pst.drain(5_000)).toBe(true);
    expect(await reader.hgetall('_PORT_TABLE:Ethernet4')).toEqual({ a: '2' });
    expect(pst.writer.stats.retries).toBeGreaterThanOrEqual(1);
  });
});

describe('effectiveContent of some keys', () => {
  it('equals the whole answer restricted to those keys, for any content', () => {
    const key: fc.Arbitrary<string> = fc.constantFrom(
      'Ethernet0',
      'Ethernet4',
      'Ethernet8',
      'PortInitDone',
      '__proto__',
      'toString',
    );
    const fields = fc.dictionary(fc.constantFrom('mtu', 'admin_status', 'speed'), fc.string({ maxLength: 3 }), {
      maxKeys: 3,
    });
    const hashes = fc
      .array(fc.tuple(key, fields), { maxLength: 6 })
      .map((l) => new Map(l.filter(([, f]) => Object.keys(f).length > 0)));
    fc.assert(
      fc.property(
        hashes,
        hashes,
        fc.uniqueArray(key),
        fc.uniqueArray(key),
        fc.array(key, { maxLength: 8 }),
        (table, pending, keySet, delSet, keys) => {
          const content = { table, pending, keySet, delSet };
          const whole = effectiveContent(content);
          const some = effectiveContent(content, keys);
          const expected = Object.entries(whole).filter(([k]) => keys.includes(k));
          const byKey = (a: [string, unknown], b: [string, unknown]) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);
          expect(Object.entries(some).sort(byKey)).toEqual(expected.sort(byKey));
        },
      ),
      { numRuns: 500 },
    );
  });
});
