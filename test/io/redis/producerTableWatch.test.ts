// The early APPL_DB read of a warm restart (src/io/redis/producerTableWatch.ts): what it answers after any writes
// made since it started equals a full read taken then, on the real server; a change it cannot see (a flush, a lost
// subscription) makes it answer undefined; notify-keyspace-events is enabled only as far as needed and put back; a
// server that refuses CONFIG gets no watch.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, inject, it } from 'vitest';
import { silentLogger } from '../../../src/io/log.js';
import { textToBytes } from '../../../src/io/redis/byteText.js';
import { ProducerTableWatch, missingKeyspaceFlags } from '../../../src/io/redis/producerTableWatch.js';

const DB = 41;
const socket = inject('redisSocket');
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function client(path = socket, db = DB): Promise<Redis> {
  const c = new Redis({ path, db });
  cleanups.push(() => void c.disconnect());
  await new Promise((resolve) => c.once('ready', resolve));
  return c;
}

function watchOf(c: Redis, path = socket, db = DB): ProducerTableWatch {
  const w = new ProducerTableWatch({
    url: path,
    client: c,
    db,
    table: 'PORT_TABLE',
    separator: ':',
    keySetKey: 'PORT_TABLE_KEY_SET',
    delSetKey: 'PORT_TABLE_DEL_SET',
    logger: silentLogger,
  });
  cleanups.push(() => w.close());
  return w;
}

/** A table with consumed and pending entries, both sets, and a key that is not UTF-8. */
async function seed(c: Redis, n = 40): Promise<void> {
  await c.flushdb();
  const p = c.pipeline();
  for (let i = 0; i < n; i++) p.hset(`PORT_TABLE:Ethernet${i * 4}`, { lanes: String(i), mtu: '9100' });
  p.hset('PORT_TABLE:PortConfigDone', { count: String(n) });
  p.hset('_PORT_TABLE:Ethernet0', { mtu: '1500' });
  p.sadd('PORT_TABLE_KEY_SET', 'Ethernet0');
  p.sadd('PORT_TABLE_DEL_SET', 'Ethernet8');
  p.hset(Buffer.concat([Buffer.from('PORT_TABLE:Eth'), Buffer.of(0xff)]), { a: Buffer.of(0xfe) });
  p.set('PORT_TABLE:notAHash', 'x');
  p.hset('OTHER_TABLE:Ethernet0', { x: '1' });
  await p.exec();
}

/** Writes of every kind that can touch what the watch mirrors (and some that cannot). */
const writeArb = fc.oneof(
  fc.record({
    k: fc.constant('hset' as const),
    i: fc.nat(50),
    f: fc.constantFrom('mtu', 'speed', 'lanes'),
    v: fc.nat(9),
  }),
  fc.record({ k: fc.constant('hdel' as const), i: fc.nat(50), f: fc.constantFrom('mtu', 'speed', 'lanes') }),
  fc.record({ k: fc.constant('del' as const), i: fc.nat(50) }),
  fc.record({ k: fc.constant('pending' as const), i: fc.nat(50), v: fc.nat(9) }),
  fc.record({ k: fc.constant('keySet' as const), i: fc.nat(50) }),
  fc.record({ k: fc.constant('delSet' as const), i: fc.nat(50) }),
  fc.record({ k: fc.constant('spop' as const) }),
  fc.record({ k: fc.constant('rename' as const), i: fc.nat(50), j: fc.nat(50) }),
  fc.record({ k: fc.constant('setString' as const), i: fc.nat(50) }),
  fc.record({ k: fc.constant('expire' as const), i: fc.nat(50) }),
  fc.record({ k: fc.constant('other' as const), i: fc.nat(50) }),
  fc.record({ k: fc.constant('bytes' as const), v: fc.nat(9) }),
);
type Write = typeof writeArb extends fc.Arbitrary<infer T> ? T : never;

async function apply(c: Redis, w: Write): Promise<void> {
  const key = (i: number) => `PORT_TABLE:Ethernet${i * 4}`;
  switch (w.k) {
    case 'hset':
      return void (await c.hset(key(w.i), w.f, String(w.v)));
    case 'hdel':
      return void (await c.hdel(key(w.i), w.f));
    case 'del':
      return void (await c.del(key(w.i)));
    case 'pending':
      return void (await c.hset(`_PORT_TABLE:Ethernet${w.i * 4}`, 'mtu', String(w.v)));
    case 'keySet':
      return void (await c.sadd('PORT_TABLE_KEY_SET', `Ethernet${w.i * 4}`));
    case 'delSet':
      return void (await c.sadd('PORT_TABLE_DEL_SET', `Ethernet${w.i * 4}`));
    case 'spop':
      return void (await c.spop('PORT_TABLE_KEY_SET'));
    case 'rename':
      if ((await c.exists(key(w.i))) === 1) await c.rename(key(w.i), key(w.j));
      return;
    case 'setString':
      return void (await c.set(key(w.i), 'string now'));
    case 'expire':
      return void (await c.pexpire(key(w.i), 1));
    case 'other':
      return void (await c.hset(`OTHER_TABLE:Ethernet${w.i}`, 'x', '2'));
    case 'bytes':
      return void (await c.hset(textToBytes('PORT_TABLE:Eth\udcff'), 'a', String(w.v)));
  }
}

describe('ProducerTableWatch', () => {
  it('missingKeyspaceFlags: only what is not there', () => {
    expect(missingKeyspaceFlags('')).toBe('KA');
    expect(missingKeyspaceFlags('AKE')).toBe('');
    expect(missingKeyspaceFlags('KEA')).toBe('');
    expect(missingKeyspaceFlags('Ex')).toBe('Kg$lshzted');
    expect(missingKeyspaceFlags('Kg$lshzxetd')).toBe('');
    expect(missingKeyspaceFlags('Kh')).toBe('g$lsztxed');
  });

  it('after any writes since it started, answers what a full read answers now', async () => {
    const c = await client();
    await fc.assert(
      fc.asyncProperty(fc.array(writeArb, { maxLength: 25 }), async (writes) => {
        await seed(c);
        const w = watchOf(c);
        expect(await w.start()).toBe(true);
        // A write refused by the server (WRONGTYPE after a SET) changes nothing: fine.
        for (const x of writes) await apply(c, x).catch((err: Error) => expect(err.name).toBe('ReplyError'));
        if (writes.some((x) => x.k === 'expire')) await new Promise((r) => setTimeout(r, 5));
        const got = await w.read();
        const truth = await watchOf(c).fullRead();
        expect(got).toEqual(truth);
      }),
      { numRuns: 40 },
    );
  });

  it('a change it cannot be told about (FLUSHDB) makes it answer undefined, so the caller reads in full', async () => {
    const c = await client();
    await seed(c);
    const w = watchOf(c);
    expect(await w.start()).toBe(true);
    await c.flushdb();
    expect(await w.read()).toBeUndefined();
    expect(w.reason).toMatch(/without a notification/);
  });

  it('a lost subscription makes it answer undefined', async () => {
    const c = await client();
    await seed(c);
    const w = watchOf(c);
    expect(await w.start()).toBe(true);
    await c.client('KILL', 'TYPE', 'pubsub');
    await expect.poll(() => w.live).toBe(false);
    expect(await w.read()).toBeUndefined();
  });
});

describe('ProducerTableWatch and notify-keyspace-events (a server of its own)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'syncvisor-watch-'));
  const servers: ChildProcess[] = [];
  afterAll(() => {
    for (const s of servers) s.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  async function server(name: string, extra: string[]): Promise<string> {
    const path = join(dir, `${name}.sock`);
    const s = spawn('redis-server', ['--port', '0', '--unixsocket', path, '--save', '', ...extra], { stdio: 'ignore' });
    servers.push(s);
    await expect.poll(() => existsSync(path), { timeout: 10_000 }).toBe(true);
    return path;
  }

  it('adds only the missing flags for its lifetime and puts the setting back when closed', async () => {
    const path = await server('plain', ['--notify-keyspace-events', 'Ex']);
    const c = await client(path, 0);
    await seed(c);
    const w = watchOf(c, path, 0);
    expect(await w.start()).toBe(true);
    const during = ((await c.config('GET', 'notify-keyspace-events')) as string[])[1]!;
    expect(new Set(during)).toEqual(new Set('AKE'));
    await c.hset('PORT_TABLE:Ethernet0', 'mtu', '1');
    expect((await w.read())?.table.get('Ethernet0')).toEqual({ lanes: '0', mtu: '1' });
    await w.close();
    await expect.poll(async () => ((await c.config('GET', 'notify-keyspace-events')) as string[])[1]).toBe('xE');
  });

  it('leaves a setting that already covers it alone (SONiC runs with AKE)', async () => {
    const path = await server('sonic', ['--notify-keyspace-events', 'AKE']);
    const c = await client(path, 0);
    const monitor = await new Redis({ path }).monitor();
    cleanups.push(() => void monitor.disconnect());
    const configSets: string[] = [];
    monitor.on('monitor', (_t: string, args: string[]) => {
      if (args[0]?.toLowerCase() === 'config' && args[1]?.toLowerCase() === 'set') configSets.push(args.join(' '));
    });
    await seed(c);
    const w = watchOf(c, path, 0);
    expect(await w.start()).toBe(true);
    expect(await w.read()).toBeDefined();
    await w.close();
    await c.ping();
    expect(configSets).toEqual([]);
  });

  it('a server that refuses CONFIG gets no watch (start answers false, read undefined)', async () => {
    const path = await server('noconfig', ['--rename-command', 'CONFIG', '""']);
    const c = await client(path, 0);
    await seed(c);
    const w = watchOf(c, path, 0);
    expect(await w.start()).toBe(false);
    expect(w.reason).toMatch(/keyspace notifications not available/);
    expect(await w.read()).toBeUndefined();
  });
});
