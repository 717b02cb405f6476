// Warm restart end to end with warmRestart.authority = stateFile (hosts without SONiC's tables; SONiC's own rule is
// tested in portsync.sonic.netns.test.ts): the real daemon in a network namespace, the test Redis over its Unix
// socket. A cold run writes the state file; `kill -9`; the kernel and CONFIG_DB change while the daemon is down; the
// next start is warm: APP_DB is held until EOIU, then only PortInitDone is written (counted with MONITOR: portsyncd's
// contract, no CONFIG_DB copy and nothing deleted), STATE_DB equals the kernel truth and WARM_RESTART_TABLE|portsyncd
// is reconciled with restore_count + 1. Then an expected port that never appears: the initial sync ends by the
// timeout (warmRestart.timeoutSecs = 2 s), is counted, and the daemon is not ready (PortInitDone cannot be sent).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { scanHashes } from '../../src/io/redis/scanHashes.js';
import { loadStateFile, saveStateFile } from '../../src/io/warmRestart/stateFileStore.js';
import { canUseNetns, createNetns, type Netns } from '../support/netns.js';
import { writeDatabaseConfig } from '../support/databaseConfig.js';
import { kernelTruth, killDaemon, sortedHashes, startDaemonIn, type RunningDaemon } from '../support/portsyncDaemon.js';

// Databases of this file only (the shared test Redis has 64).
const APPL_DB = 53;
const CONFIG_DB = 54;
const STATE_DB = 55;
const pattern = /^(Ethernet|PortChannel)\d+$/;

const netnsOk = canUseNetns();
if (netnsOk !== true) console.warn(`skipping warm-restart integration tests: ${netnsOk}`);

describe.skipIf(netnsOk !== true)('warm restart of the portsync daemon in a network namespace', () => {
  const socket = inject('redisSocket');
  const dir = mkdtempSync(join(tmpdir(), 'syncvisor-warm-it-'));
  const statePath = join(dir, 'portsyncd.json');
  const logPath = join(dir, 'daemon.log');
  const configFile = join(dir, 'syncvisor.json');
  let ns: Netns | undefined;
  let daemon: RunningDaemon | undefined;
  let monitor: Redis | undefined;
  const state = new Redis({ path: socket, db: STATE_DB });
  const app = new Redis({ path: socket, db: APPL_DB });
  const config = new Redis({ path: socket, db: CONFIG_DB });

  async function stateDb(): Promise<Record<string, Record<string, string>>> {
    return Object.fromEntries(await scanHashes(state, 'PORT_TABLE|'));
  }
  async function expectStateDbIsKernelTruth(): Promise<void> {
    await expect
      .poll(async () => JSON.stringify(sortedHashes(await stateDb())), { timeout: 20_000, interval: 100 })
      .toBe(JSON.stringify(sortedHashes(kernelTruth(ns!, pattern))));
  }
  const curl = (path: string) => ns!.exec('curl', ['-s', `http://127.0.0.1:9102${path}`]);
  const readyz = () =>
    ns!.exec('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', 'http://127.0.0.1:9102/readyz']);
  const metric = (name: string) => new RegExp(`^${name} (\\S+)$`, 'm').exec(curl('/metrics'))?.[1];
  const warmTable = () => state.hgetall('WARM_RESTART_TABLE|portsyncd');

  /** Every command the test Redis runs on APPL_DB while `during` runs, as arrays of strings. */
  async function appDbCommands(during: () => Promise<void>): Promise<string[][]> {
    const seen: string[][] = [];
    monitor = await new Redis({ path: socket }).monitor();
    monitor.on('monitor', (_time: string, args: string[], _source: string, database: string) => {
      if (Number(database) === APPL_DB) seen.push(args);
    });
    try {
      await during();
    } finally {
      monitor.disconnect();
      monitor = undefined;
    }
    return seen;
  }
  /** The APP_DB PORT_TABLE keys written by the ProducerStateTable scripts (EVALSHA … 'G' key …). */
  const writtenKeys = (cmds: string[][]) =>
    cmds
      .filter((c) => c[0]?.toLowerCase() === 'evalsha')
      .map((c) => `${c[2] === '4' ? 'del' : 'set'} ${c[c.indexOf('G') + 1]}`);

  beforeAll(async () => {
    ns = createNetns('svwr');
    await Promise.all([state.flushdb(), app.flushdb(), config.flushdb()]);
    await config.hset('PORT|Ethernet0', { lanes: '1,2,3,4', speed: '100000', alias: 'etp1' });
    await config.hset('PORT|Ethernet4', { lanes: '5,6,7,8', speed: '100000', alias: 'etp2' });
    for (const [a, b] of [
      ['Ethernet0', 'p0'],
      ['Ethernet4', 'p4'],
      ['Ethernet8', 'p8'],
      ['Ethernet12', 'p12'],
    ] as const) {
      ns.addVethPair(a, b);
      ns.set(a, 'up');
      ns.set(b, 'up');
    }
    const dbConfig = writeDatabaseConfig(join(dir, 'database_config.json'), socket, { APPL_DB, CONFIG_DB, STATE_DB });
    writeFileSync(
      configFile,
      JSON.stringify({
        services: ['portsync'],
        log: { level: 'info' },
        http: { listen: '127.0.0.1:9102' },
        redis: { url: socket, databaseConfig: dbConfig },
        stateFile: { path: statePath, debounceMs: 50 },
        // Long enough that the first warm start can only end by EOIU.
        warmRestart: { timeoutSecs: 60, authority: 'stateFile' },
      }),
    );
  });

  afterAll(async () => {
    await killDaemon(daemon);
    monitor?.disconnect();
    ns?.destroy();
    for (const c of [state, app, config]) c.disconnect();
    if (process.env.SYNCVISOR_KEEP_LOGS) console.log(readFileSync(logPath, 'utf8'));
    rmSync(dir, { recursive: true, force: true });
  });

  it('cold run: STATE_DB, APP_DB and the state file settle; WARM_RESTART_TABLE is disabled', async () => {
    daemon = startDaemonIn(ns!, configFile, logPath);
    await expectStateDbIsKernelTruth();
    await expect.poll(readyz, { timeout: 15_000 }).toBe('200');
    expect(await warmTable()).toEqual({ state: 'disabled', restore_count: '0' });
    await expect
      .poll(async () => (await app.smembers('PORT_TABLE_KEY_SET')).sort(), { timeout: 10_000 })
      .toEqual(['Ethernet0', 'Ethernet4', 'PortConfigDone', 'PortInitDone']);
    await expect
      .poll(async () => Object.keys((await loadStateFile(statePath).catch(() => ({ ports: {} }))).ports).sort(), {
        timeout: 10_000,
      })
      .toEqual(['Ethernet0', 'Ethernet12', 'Ethernet4', 'Ethernet8']);
    expect(metric('syncvisor_warm_restart_cold_starts_total')).toBe('1');
  }, 60_000);

  it('after kill -9 and changes while down, the warm start writes only PortInitDone after EOIU', async () => {
    await killDaemon(daemon);
    // While down: one port set down, one MTU change, one deleted, one added, one CONFIG_DB port changed.
    ns!.set('Ethernet0', 'down');
    ns!.mtu('Ethernet4', 9000);
    ns!.del('Ethernet8');
    ns!.addVethPair('Ethernet16', 'p16');
    await config.hset('PORT|Ethernet4', 'speed', '40000');

    const cmds = await appDbCommands(async () => {
      daemon = startDaemonIn(ns!, configFile, logPath);
      await expect
        .poll(warmTable, { timeout: 30_000, interval: 100 })
        .toEqual({ state: 'reconciled', restore_count: '1' });
      await expectStateDbIsKernelTruth();
      await expect.poll(readyz, { timeout: 10_000 }).toBe('200');
    });
    // PortInitDone sent again, only after the reconciliation read the current content; the CONFIG_DB change of
    // Ethernet4 is not pushed (portmgrd's job) and nothing is deleted.
    expect(writtenKeys(cmds)).toEqual(['set PortInitDone']);
    const firstWrite = cmds.findIndex((c) => c[0]?.toLowerCase() === 'evalsha');
    const read = cmds.findIndex((c) => c[0]?.toLowerCase() === 'smembers' && c[1] === 'PORT_TABLE_KEY_SET');
    expect(read).toBeGreaterThanOrEqual(0);
    expect(read).toBeLessThan(firstWrite);
    // What is pending for Ethernet4 is the cold run's copy, never consumed here: the CONFIG_DB change is not in it.
    expect(await app.hget('_PORT_TABLE:Ethernet4', 'speed')).toBe('100000');
    expect(metric('syncvisor_warm_restarts_total')).toBe('1');
    expect(metric('syncvisor_eoiu_detected_total')).toBe('1');
    expect(metric('syncvisor_eoiu_timeouts_total')).toBe('0');
    expect(metric('syncvisor_app_db_reconcile_writes_total\\{op="set"\\}')).toBe('0');
    expect(metric('syncvisor_app_db_reconcile_writes_total\\{op="del"\\}')).toBe('0');
    expect(metric('syncvisor_app_db_held_keys')).toBe('0');
    expect(readFileSync(logPath, 'utf8')).toMatch(/"mode":"warm"/);
  }, 60_000);

  it('an expected port that never appears ends the initial sync by the timeout, counted', async () => {
    await killDaemon(daemon);
    // Ethernet99 is configured and in the state file, but the kernel never has it.
    await config.hset('PORT|Ethernet99', { lanes: '99', speed: '100000' });
    writeFileSync(
      configFile,
      JSON.stringify({
        ...JSON.parse(readFileSync(configFile, 'utf8')),
        warmRestart: { timeoutSecs: 2, authority: 'stateFile' },
      }),
    );
    const saved = await loadStateFile(statePath);
    await saveStateFile(
      statePath,
      {
        ...saved.ports,
        Ethernet99: { name: 'Ethernet99', adminState: 'up', operState: 'up', flags: 0x41, mtu: 9100, ifindex: 999 },
      },
      { now: Date.now(), rotate: true },
    );

    daemon = startDaemonIn(ns!, configFile, logPath);
    await expect
      .poll(warmTable, { timeout: 30_000, interval: 100 })
      .toEqual({ state: 'reconciled', restore_count: '2' });
    await expectStateDbIsKernelTruth();
    expect(metric('syncvisor_eoiu_timeouts_total')).toBe('1');
    expect(metric('syncvisor_eoiu_detected_total')).toBe('0');
    // A port configured while down is not pushed (portmgrd's job), and PortInitDone cannot be sent: not ready.
    expect(await app.exists('_PORT_TABLE:Ethernet99', 'PORT_TABLE:Ethernet99')).toBe(0);
    expect(readFileSync(logPath, 'utf8')).toMatch(/"reason":"timeout"/);
    expect(readyz()).toBe('503');
  }, 60_000);
});
