// Redis killed (SIGKILL) for 5 s while ~1,000 link flaps/s hit the real daemon (`syncvisor run --services
// portsync`) in a network namespace. The daemon must not exit, must be unready (/readyz 503) while Redis is away, and
// when a fresh redis-server returns on the same socket path, STATE_DB must equal the kernel truth (redis.reconnectMaxMs,
// default 500 ms, bounds when the daemon sees it). The flap rate reached and the time to equality are logged figures
// (docs/reliability.md, row b2), not assertions: a loaded machine lowers them without changing the behaviour.
// The flapping stops at the moment Redis returns. A fresh server has no data: the flapped ports come back from the
// writes the daemon held, and one steady port (Ethernet200, never flapped) from the daemon's re-sync on reconnect.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scanHashes } from '../../src/io/redis/scanHashes.js';
import { canUseNetns, createNetns, type Netns } from '../support/netns.js';
import { PrivateRedis } from '../support/privateRedis.js';
import { kernelTruth, killDaemon, sortedHashes, startDaemonIn, type RunningDaemon } from '../support/portsyncDaemon.js';

const run = promisify(execFile);
const pattern = /^(Ethernet|PortChannel)\d+$/;
const PAIRS = 32;
const TARGET_RATE = 1_000; // flaps per second
const BATCH = 50; // lines per `ip -batch` run
const BEFORE_KILL_MS = 3_000;
const OUTAGE_MS = 5_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const netnsOk = canUseNetns();
if (netnsOk !== true) console.warn(`skipping the Redis outage reliability test: ${netnsOk}`);

describe.skipIf(netnsOk !== true)('Redis killed for 5 s during 1,000 link flaps/s', () => {
  const dir = mkdtempSync(join(tmpdir(), 'syncvisor-redis-outage-'));
  const socket = join(dir, 'redis.sock');
  let ns: Netns | undefined;
  let daemon: RunningDaemon | undefined;
  const state = new Redis({ path: socket, db: 6, retryStrategy: () => 20, maxRetriesPerRequest: 1, lazyConnect: true });
  state.on('error', () => undefined);

  const redis = new PrivateRedis(socket);
  const curl = async (path: string, format?: string): Promise<string> =>
    (
      await run(
        'ip',
        [
          'netns',
          'exec',
          ns!.name,
          'curl',
          '-s',
          '-m',
          '2',
          ...(format ? ['-o', '/dev/null', '-w', format] : []),
          `http://127.0.0.1:9101${path}`,
        ],
        { timeout: 5_000 },
      )
    ).stdout;
  const readyz = () => curl('/readyz', '%{http_code}');
  const stateDb = async () => sortedHashes(Object.fromEntries(await scanHashes(state, 'PORT_TABLE|')));
  const truth = () => sortedHashes(kernelTruth(ns!, pattern));

  beforeAll(async () => {
    ns = createNetns('svro');
    const batch = join(dir, 'setup.batch');
    const lines: string[] = [];
    for (let i = 0; i < PAIRS; i++) lines.push(`link add Ethernet${i * 4} type veth peer name v${i}`);
    for (let i = 0; i < PAIRS; i++) lines.push(`link set dev Ethernet${i * 4} up`, `link set dev v${i} up`);
    lines.push(
      'link add Ethernet200 type veth peer name vsteady',
      'link set dev Ethernet200 up',
      'link set dev vsteady up',
    );
    writeFileSync(batch, lines.join('\n') + '\n');
    ns.ip(['-batch', batch]);
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
    daemon = startDaemonIn(ns, configFile, join(dir, 'daemon.log'));
    await state.connect();
  });

  afterAll(async () => {
    await killDaemon(daemon);
    await redis.kill();
    ns?.destroy();
    state.disconnect();
    if (process.env.SYNCVISOR_KEEP_LOGS && existsSync(join(dir, 'daemon.log')))
      console.log(readFileSync(join(dir, 'daemon.log'), 'utf8'));
    rmSync(dir, { recursive: true, force: true });
  });

  it('never exits, is unready while Redis is down, and STATE_DB equals the kernel truth once it returns', async () => {
    // Start: synced and ready.
    await expect
      .poll(async () => JSON.stringify(await stateDb()), { timeout: 20_000, interval: 100 })
      .toBe(JSON.stringify(truth()));
    await expect.poll(readyz, { timeout: 10_000, interval: 100 }).toBe('200');

    // The flapper: bounded rounds of `ip -batch` files, each line toggles one of the 64 links (Ethernet side: admin
    // and oper status; peer side: the Ethernet's carrier, so its oper status), paced to TARGET_RATE.
    const links = Array.from({ length: PAIRS }, (_, i) => [`Ethernet${i * 4}`, `v${i}`]).flat();
    const up = new Map(links.map((l) => [l, true]));
    let flaps = 0;
    let stop = false;
    let next = 0;
    const flapStart = performance.now();
    const flapper = (async () => {
      const file = join(dir, 'flap.batch');
      // Bounded: at most 20 s of rounds whatever happens to `stop`.
      while (!stop && performance.now() - flapStart < 20_000) {
        const lines: string[] = [];
        for (let k = 0; k < BATCH; k++) {
          const l = links[next++ % links.length]!;
          up.set(l, !up.get(l));
          lines.push(`link set dev ${l} ${up.get(l) ? 'up' : 'down'}`);
        }
        writeFileSync(file, lines.join('\n') + '\n');
        await run('ip', ['-n', ns!.name, '-batch', file], { timeout: 10_000 });
        flaps += BATCH;
        const ahead = (flaps / TARGET_RATE) * 1_000 - (performance.now() - flapStart);
        if (ahead > 0) await sleep(ahead);
      }
      return performance.now() - flapStart;
    })();

    await sleep(BEFORE_KILL_MS);
    const flapsBeforeKill = flaps;
    await redis.kill();
    const killedAt = performance.now();
    // Unready while Redis is away (sampled through the outage; every sample during the outage must say 503 once the
    // daemon has noticed).
    await expect.poll(readyz, { timeout: 3_000, interval: 50 }).toBe('503');
    const noticedMs = performance.now() - killedAt;
    const samples: string[] = [];
    while (performance.now() - killedAt < OUTAGE_MS - 300) {
      samples.push(await readyz());
      await sleep(200);
    }
    expect(new Set(samples)).toEqual(new Set(['503']));
    await sleep(Math.max(0, OUTAGE_MS - (performance.now() - killedAt)));
    const flapsDuringOutage = flaps - flapsBeforeKill;

    // Redis returns (a fresh, empty server); the flapping stops at that moment.
    stop = true;
    await redis.start();
    const returnedAt = performance.now();
    const flapMs = await flapper;
    const rate = Math.round(flaps / (flapMs / 1_000));
    // Reconnected: the daemon's three connections (STATE_DB, APPL_DB, CONFIG_DB) plus ours. Its reconnect backoff
    // (50 ms doubling, capped at redis.reconnectMaxMs = 500 ms) decides when.
    await state.ping();
    let reconnectMs = NaN;
    while (performance.now() - returnedAt < 10_000) {
      const clients = Number(/connected_clients:(\d+)/.exec(await state.info('clients'))?.[1] ?? 0);
      if (clients >= 4) {
        reconnectMs = performance.now() - returnedAt;
        break;
      }
      await sleep(5);
    }
    expect(reconnectMs, 'the daemon did not reconnect within 10 s').toBeLessThan(10_000);

    // STATE_DB vs the kernel truth (re-read each time: the kernel's linkwatch may still settle carrier/operstate),
    // polled from Redis's return. The time it takes is a figure (logged, and kept in docs/reliability.md), not an
    // assertion: a loaded machine stretches it; the bound only ends the wait.
    let equalMs = NaN;
    let db: unknown;
    let kernel: unknown;
    const budgetEnd = returnedAt + 10_000;
    do {
      [db, kernel] = [await stateDb(), truth()];
      if (JSON.stringify(db) === JSON.stringify(kernel)) {
        equalMs = performance.now() - returnedAt;
        break;
      }
      await sleep(10);
    } while (performance.now() < budgetEnd);
    const report = {
      flaps,
      flapMs: Math.round(flapMs),
      ratePerSec: rate,
      flapsDuringOutage,
      noticedMs: Math.round(noticedMs),
      reconnectMs: Math.round(reconnectMs),
      equalMs: Math.round(equalMs),
    };
    console.log(`redis outage: ${JSON.stringify(report)}`);

    expect(daemon!.process.exitCode).toBe(null);
    expect(daemon!.process.signalCode).toBe(null);
    expect(flapsDuringOutage).toBeGreaterThan(PAIRS * 2 * 10);
    expect(db, `STATE_DB not equal to the kernel truth within 10 s (${JSON.stringify(report)})`).toEqual(kernel);
    expect(db).toHaveProperty('Ethernet200.admin_status', 'up'); // the steady port, re-written on reconnect
    // And it stays equal once the kernel has settled (no transient match).
    await sleep(1_500);
    await expect
      .poll(async () => JSON.stringify(await stateDb()), { timeout: 5_000, interval: 100 })
      .toBe(JSON.stringify(truth()));
    await expect.poll(readyz, { timeout: 5_000, interval: 100 }).toBe('200');
    expect(daemon!.process.exitCode).toBe(null);
  }, 60_000);
});
