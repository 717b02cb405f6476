// The daemon (`syncvisor run --services portsync`, from the sources through tsx) runs inside a network namespace
// under `ip netns exec` and talks to the test Redis over its Unix socket. After every kernel change, STATE_DB must
// equal the kernel's truth (`ip -j link`), and a ConsumerStateTable sees the APP_DB entries.
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { scanHashes } from '../../src/io/redis/scanHashes.js';
import { consumeStateTable, type ConsumedOp } from '../support/consumerStateTable.js';
import { canUseNetns, createNetns, type Netns } from '../support/netns.js';
import { PrivateRedis } from '../support/privateRedis.js';
import { writeDatabaseConfig } from '../support/databaseConfig.js';
import { kernelTruth as kernelTruthOf, sortedHashes, startDaemonIn } from '../support/portsyncDaemon.js';

// Databases of this file only (the shared test Redis has 64).
const APPL_DB = 50;
const CONFIG_DB = 51;
const STATE_DB = 52;
const pattern = /^(Ethernet|PortChannel)\d+$/;

const netnsOk = canUseNetns();
if (netnsOk !== true) console.warn(`skipping portsync integration tests: ${netnsOk}`);

describe.skipIf(netnsOk !== true)('portsync daemon in a network namespace', () => {
  const socket = inject('redisSocket');
  const dir = mkdtempSync(join(tmpdir(), 'syncvisor-portsync-it-'));
  let ns: Netns | undefined;
  let daemon: ChildProcess | undefined;
  let exited: Promise<number | null> | undefined;
  const state = new Redis({ path: socket, db: STATE_DB });
  const app = new Redis({ path: socket, db: APPL_DB });
  const config = new Redis({ path: socket, db: CONFIG_DB });
  const sub = new Redis({ path: socket });
  const consumed: ConsumedOp[] = [];
  const messages: string[] = [];

  function kernelTruth(): Record<string, Record<string, string>> {
    return kernelTruthOf(ns!, pattern);
  }

  async function stateDb(): Promise<Record<string, Record<string, string>>> {
    return Object.fromEntries(await scanHashes(state, 'PORT_TABLE|'));
  }

  async function expectStateDbIsKernelTruth(timeout = 15_000): Promise<void> {
    // The kernel itself settles a moment after `ip link set` (linkwatch updates carrier/operstate asynchronously):
    // equal once, then still equal after a pause, so a transient match does not pass and a transient does not fail.
    for (const pause of [0, 300]) {
      await new Promise((r) => setTimeout(r, pause));
      await expect
        .poll(async () => [await stateDb(), kernelTruth()], { timeout, interval: 100 })
        .toSatisfy(([db, kernel]) => JSON.stringify(sortedHashes(db)) === JSON.stringify(sortedHashes(kernel)));
    }
  }

  function metrics(): string {
    return ns!.exec('curl', ['-s', 'http://127.0.0.1:9101/metrics']);
  }

  beforeAll(async () => {
    ns = createNetns('svps');
    await Promise.all([state.flushdb(), app.flushdb(), config.flushdb()]);
    await config.hset('PORT|Ethernet0', { lanes: '1,2,3,4', speed: '100000', alias: 'etp1' });
    await config.hset('PORT|Ethernet4', { lanes: '5,6,7,8', speed: '100000', alias: 'etp2' });
    // Left over from an earlier run: no such link in the kernel.
    await state.hset('PORT_TABLE|Ethernet96', {
      state: 'ok',
      netdev_oper_status: 'up',
      admin_status: 'up',
      mtu: '9100',
    });

    sub.on('message', (channel: string, msg: string) => messages.push(`${channel} ${msg}`));
    await sub.subscribe(`PORT_TABLE_CHANNEL@${APPL_DB}`);

    ns.addVethPair('Ethernet0', 'p0');
    ns.addVethPair('Ethernet4', 'p4');
    ns.set('Ethernet0', 'up');
    ns.set('p0', 'up');

    const dbConfig = writeDatabaseConfig(join(dir, 'database_config.json'), socket, { APPL_DB, CONFIG_DB, STATE_DB });
    const configFile = join(dir, 'syncvisor.json');
    writeFileSync(
      configFile,
      JSON.stringify({
        services: ['portsync'],
        log: { level: 'info' },
        http: { listen: '127.0.0.1:9101' },
        redis: { url: socket, databaseConfig: dbConfig },
        stateFile: { path: join(dir, 'portsyncd.json') },
        warmRestart: { timeoutSecs: 0 },
      }),
    );
    ({ process: daemon, exited } = startDaemonIn(ns, configFile, join(dir, 'daemon.log')));
  });

  afterAll(async () => {
    if (daemon && daemon.exitCode === null) {
      daemon.kill('SIGCONT');
      daemon.kill('SIGKILL');
      await exited;
    }
    ns?.destroy();
    for (const c of [state, app, config, sub]) c.disconnect();
    if (process.env.SYNCVISOR_KEEP_LOGS) console.log(readFileSync(join(dir, 'daemon.log'), 'utf8'));
    rmSync(dir, { recursive: true, force: true });
  });

  it('at start STATE_DB equals the kernel truth (stale ports removed) and the daemon is ready', async () => {
    await expectStateDbIsKernelTruth(30_000);
    expect(await stateDb()).toHaveProperty('Ethernet0.netdev_oper_status', 'up');
    expect(await stateDb()).toHaveProperty('Ethernet4.admin_status', 'down');
    await expect
      .poll(() => ns!.exec('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', 'http://127.0.0.1:9101/readyz']), {
        timeout: 10_000,
      })
      .toBe('200');
    expect(metrics()).toMatch(/^syncvisor_portsync_ports 2$/m);
  }, 40_000);

  it('a ConsumerStateTable sees the CONFIG_DB ports, PortConfigDone and PortInitDone', async () => {
    await expect
      .poll(
        async () => {
          consumed.push(...(await consumeStateTable(app, 'PORT_TABLE')));
          return consumed.map((c) => c.key);
        },
        { timeout: 10_000, interval: 100 },
      )
      .toContain('PortInitDone');
    expect(await app.hgetall('PORT_TABLE:Ethernet0')).toEqual({ lanes: '1,2,3,4', speed: '100000', alias: 'etp1' });
    expect(await app.hgetall('PORT_TABLE:Ethernet4')).toEqual({ lanes: '5,6,7,8', speed: '100000', alias: 'etp2' });
    expect(await app.hgetall('PORT_TABLE:PortConfigDone')).toEqual({ count: '2' });
    expect(await app.hgetall('PORT_TABLE:PortInitDone')).toEqual({ lanes: '0' });
    expect(messages.length).toBeGreaterThan(0);
    expect(new Set(messages)).toEqual(new Set([`PORT_TABLE_CHANNEL@${APPL_DB} G`]));
  });

  it('follows links created, set up and down (peer too), MTU changes and deletions', async () => {
    ns!.addVethPair('Ethernet8', 'p8');
    await expectStateDbIsKernelTruth();
    ns!.set('Ethernet8', 'up');
    await expectStateDbIsKernelTruth();
    ns!.set('p8', 'up');
    await expectStateDbIsKernelTruth();
    expect(await state.hget('PORT_TABLE|Ethernet8', 'netdev_oper_status')).toBe('up');
    ns!.set('p8', 'down');
    await expectStateDbIsKernelTruth();
    expect(await state.hget('PORT_TABLE|Ethernet8', 'netdev_oper_status')).toBe('down');
    ns!.mtu('Ethernet0', 9100);
    await expectStateDbIsKernelTruth();
    expect(await state.hget('PORT_TABLE|Ethernet0', 'mtu')).toBe('9100');
    ns!.set('Ethernet0', 'down');
    await expectStateDbIsKernelTruth();
    ns!.set('Ethernet8', 'down');
    ns!.ip(['link', 'set', 'dev', 'Ethernet8', 'name', 'Ethernet12']);
    await expectStateDbIsKernelTruth();
    expect(await state.exists('PORT_TABLE|Ethernet8')).toBe(0);
    ns!.del('Ethernet4');
    await expectStateDbIsKernelTruth();
    expect(await state.exists('PORT_TABLE|Ethernet4')).toBe(0);
  }, 60_000);

  it('after a stall while >= 300 links change, STATE_DB equals the kernel truth', async () => {
    const pairs = 160;
    const batch = (lines: string[]) => {
      const file = join(dir, 'batch.txt');
      writeFileSync(file, lines.join('\n') + '\n');
      ns!.ip(['-batch', file]);
    };
    // The whole daemon is stopped (its event loop and the receive thread): the kernel queue fills up meanwhile.
    daemon!.kill('SIGSTOP');
    try {
      for (let round = 0; round < 3; round++) {
        const names = Array.from({ length: pairs }, (_, i) => [`Ethernet${100 + i * 4}`, `q${i}`] as const);
        batch(names.map(([a, b]) => `link add ${a} type veth peer name ${b}`));
        batch(names.flatMap(([a, b]) => [`link set dev ${a} up`, `link set dev ${b} up`]));
        batch(names.map(([a], i) => `link set dev ${a} mtu ${1500 + i + round}`));
        batch(names.filter((_, i) => i % 2 === 0).map(([, b]) => `link set dev ${b} down`));
        // Keep the last round's links; delete the others (each veth deletion removes its peer as well).
        if (round < 2) batch(names.filter((_, i) => i % 3 !== 0).map(([a]) => `link del dev ${a}`));
        if (round < 2) batch(names.filter((_, i) => i % 3 === 0).map(([a]) => `link del dev ${a}`));
      }
    } finally {
      daemon!.kill('SIGCONT');
    }
    expect(kernelTruth()).toHaveProperty(`Ethernet${100 + 4 * (pairs - 1)}`);
    await expectStateDbIsKernelTruth(30_000);
    const text = metrics();
    const overflows = Number(/^syncvisor_netlink_overflows_total (\d+)/m.exec(text)?.[1] ?? 0);
    // The stall must really have lost kernel messages, or this test proves nothing about the recovery.
    expect(overflows).toBeGreaterThanOrEqual(1);
    expect(text).toMatch(new RegExp(`^syncvisor_portsync_ports ${Object.keys(kernelTruth()).length}$`, 'm'));
  }, 120_000);

  it('drains and exits 0 on SIGTERM', async () => {
    daemon!.kill('SIGTERM');
    expect(await exited).toBe(0);
    await expectStateDbIsKernelTruth(1_000);
  }, 30_000);
});

describe.skipIf(netnsOk !== true)('portsync daemon while Redis goes away', () => {
  const dir = mkdtempSync(join(tmpdir(), 'syncvisor-portsync-down-'));
  const socket = join(dir, 'redis.sock');
  let ns: Netns | undefined;
  let daemon: ChildProcess | undefined;
  let exited: Promise<number | null> | undefined;
  const state = new Redis({ path: socket, db: 6, retryStrategy: () => 50, maxRetriesPerRequest: 1 });
  state.on('error', () => undefined);

  const redis = new PrivateRedis(socket);
  const readyz = () =>
    ns!.exec('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', 'http://127.0.0.1:9101/readyz']);
  async function expectTruth(): Promise<void> {
    await expect
      .poll(async () => JSON.stringify(sortedHashes(Object.fromEntries(await scanHashes(state, 'PORT_TABLE|')))), {
        timeout: 15_000,
        interval: 100,
      })
      .toBe(JSON.stringify(sortedHashes(kernelTruthOf(ns!, pattern))));
  }

  beforeAll(async () => {
    ns = createNetns('svpd');
    ns.addVethPair('Ethernet0', 'p0');
    ns.set('Ethernet0', 'up');
    ns.set('p0', 'up');
    await redis.start();
    const configFile = join(dir, 'syncvisor.json');
    writeFileSync(
      configFile,
      JSON.stringify({
        services: ['portsync'],
        http: { listen: '127.0.0.1:9101' },
        redis: { url: socket },
        stateFile: { path: join(dir, 'portsyncd.json') },
        warmRestart: { timeoutSecs: 0 },
      }),
    );
    ({ process: daemon, exited } = startDaemonIn(ns, configFile, join(dir, 'daemon.log')));
  });

  afterAll(async () => {
    if (daemon && daemon.exitCode === null) {
      daemon.kill('SIGKILL');
      await exited;
    }
    await redis.kill();
    ns?.destroy();
    state.disconnect();
    if (process.env.SYNCVISOR_KEEP_LOGS && existsSync(join(dir, 'daemon.log')))
      console.log(readFileSync(join(dir, 'daemon.log'), 'utf8'));
    rmSync(dir, { recursive: true, force: true });
  });

  it('is unready while Redis is down, holds the changes, and flushes them when Redis is back', async () => {
    await expectTruth();
    await expect.poll(readyz, { timeout: 10_000 }).toBe('200');

    await redis.kill();
    await expect.poll(readyz, { timeout: 10_000 }).toBe('503');
    expect(ns!.exec('curl', ['-s', 'http://127.0.0.1:9101/metrics'])).toMatch(/^syncvisor_redis_up\{db="6"\} 0$/m);
    ns!.set('p0', 'down');
    ns!.mtu('Ethernet0', 9000);
    ns!.addVethPair('Ethernet4', 'p4');
    await expect
      .poll(
        () =>
          /^syncvisor_redis_pending_keys\{table="STATE_DB\|PORT_TABLE"\} (\d+)$/m.exec(
            ns!.exec('curl', ['-s', 'http://127.0.0.1:9101/metrics']),
          )?.[1],
        { timeout: 10_000 },
      )
      .toBe('2');

    // A fresh server (no persistence): only what the daemon held and flushes can make STATE_DB right.
    await redis.start();
    await expectTruth();
    expect(await state.hget('PORT_TABLE|Ethernet0', 'netdev_oper_status')).toBe('down');
    await expect.poll(readyz, { timeout: 10_000 }).toBe('200');
    expect(daemon!.exitCode).toBe(null);
  }, 60_000);
});
