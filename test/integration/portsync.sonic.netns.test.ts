// What orchagent would see: the real daemon in a network namespace, its own redis-server (killed and brought back
// empty in one scenario), and a ConsumerStateTable-style consumer (SUBSCRIBE, then EVALSHA of a pop script with
// batch 128) on APPL_DB PORT_TABLE. CONFIG_DB has DEVICE_METADATA|localhost, so portsyncd's link rules are on: the
// netdevs that exist at a cold start are set admin down and ignored (the test then recreates them, as syncd creates
// the host interfaces), and STATE_DB is written for a port only once the consumer has popped it. Scenario by
// scenario, in order: cold start; a cold `restart swss` with the state file kept and a consumer that does not pop
// yet; warm with the state file; a configured link deleted and a CONFIG_DB change while down (warm); warm without a
// state file; Redis restarted empty; a DPU cold start (netdevs kept); 300 ports. Ethernet-BP0 (a chassis port name)
// is configured throughout.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scanHashes } from '../../src/io/redis/scanHashes.js';
import { ConsumerStateTable } from '../support/consumerStateTable.js';
import { canUseNetns, createNetns, type Netns } from '../support/netns.js';
import { PrivateRedis } from '../support/privateRedis.js';
import {
  kernelCarrierChanges,
  kernelTruth,
  killDaemon,
  sortedHashes,
  startDaemonIn,
  type RunningDaemon,
} from '../support/portsyncDaemon.js';
import { textToBytes } from '../../src/io/redis/byteText.js';

const pattern = /^(Ethernet|PortChannel)/;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const netnsOk = canUseNetns();
if (netnsOk !== true) console.warn(`skipping SONiC-consumer integration tests: ${netnsOk}`);

const deviceMetadata = { hwsku: 'Force10-S6000', platform: 'x86_64-kvm_x86_64-r0', mac: '52:54:00:12:34:56' };
const veths = [
  ['Ethernet0', 'p0'],
  ['Ethernet4', 'p4'],
  ['Ethernet-BP0', 'pbp0'],
] as const;

const portConfig: Record<string, Record<string, string>> = {
  Ethernet0: { lanes: '1,2,3,4', speed: '100000', alias: 'etp1' },
  Ethernet4: { lanes: '5,6,7,8', speed: '100000', alias: 'etp2' },
  'Ethernet-BP0': { lanes: '101', speed: '400000', alias: 'bp0' },
};

describe.skipIf(netnsOk !== true)("portsync speaks SONiC's semantics to a ConsumerStateTable", () => {
  const dir = mkdtempSync(join(tmpdir(), 'syncvisor-sonic-it-'));
  const redis = new PrivateRedis(join(dir, 'redis.sock'));
  const statePath = join(dir, 'portsyncd.json');
  const logPath = join(dir, 'daemon.log');
  const configFile = join(dir, 'syncvisor.json');
  let ns: Netns | undefined;
  let daemon: RunningDaemon | undefined;
  let consumer: ConsumerStateTable | undefined;
  let app: Redis, config: Redis, state: Redis;
  const connect = () => {
    redis.disconnect();
    app = redis.client(0);
    config = redis.client(4);
    state = redis.client(6);
  };
  const curl = (path: string) => ns!.exec('curl', ['-s', `http://127.0.0.1:9113${path}`]);
  const readyz = () =>
    ns!.exec('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', 'http://127.0.0.1:9113/readyz']);
  const metric = (name: string) => new RegExp(`^${name} (\\S+)$`, 'm').exec(curl('/metrics'))?.[1];
  const warmTable = () => state.hgetall('WARM_RESTART_TABLE|portsyncd');
  const loadConfig = async (ports: Record<string, Record<string, string>>) => {
    const p = config.pipeline();
    p.hset('DEVICE_METADATA|localhost', deviceMetadata);
    for (const [name, fields] of Object.entries(ports)) p.hset(`PORT|${name}`, fields);
    await p.exec();
  };
  const newConsumer = async () => {
    await consumer?.close();
    consumer = new ConsumerStateTable(app, 'PORT_TABLE', 0, 128);
    await consumer.start();
    return consumer;
  };
  const expectStateDbIsKernelTruth = async () =>
    expect
      .poll(async () => JSON.stringify(sortedHashes(Object.fromEntries(await scanHashes(state, 'PORT_TABLE|')))), {
        timeout: 20_000,
        interval: 100,
      })
      .toBe(JSON.stringify(sortedHashes(kernelTruth(ns!, pattern))));
  /** The cold-start set: every configured port with its CONFIG_DB fields, PortConfigDone {count}, PortInitDone last. */
  const expectColdSet = async (c: ConsumerStateTable, ports: Record<string, Record<string, string>>) => {
    const want = [...Object.keys(ports), 'PortConfigDone', 'PortInitDone'].map((k) => `SET ${k}`).sort();
    await expect.poll(() => [...c.lines()].sort(), { timeout: 30_000, interval: 100 }).toEqual(want);
    for (const [name, fields] of Object.entries(ports)) expect(c.ops(name)[0]!.fields).toEqual(fields);
    expect(c.ops('PortConfigDone')[0]!.fields).toEqual({ count: String(Object.keys(ports).length) });
    expect(c.ops('PortInitDone')[0]!.fields).toEqual({ lanes: '0' });
    // SPOP takes random members: with more keys pending than one batch, the order across batches is random (as it is
    // for orchagent); within one batch the consumer sorts.
    if (want.length <= 128) {
      expect(c.lines().at(-1)).toBe('SET PortInitDone');
      expect(c.lines().indexOf('SET PortConfigDone')).toBeLessThan(c.lines().indexOf('SET PortInitDone'));
    }
    for (const b of c.batches) expect(b.ops.length).toBeLessThanOrEqual(128);
  };
  const start = () => (daemon = startDaemonIn(ns!, configFile, logPath));
  const kernelLink = (name: string) => ns!.links().find((l) => l.name === name);
  const upAll = () => {
    for (const [a, b] of veths) {
      ns!.set(a, 'up');
      ns!.set(b, 'up');
    }
  };
  /** The ports' netdevs are set down by the daemon's cold start (each admin down, still the same ifindex). */
  const expectRetired = async (ifindexes: Record<string, number>) => {
    for (const [name, ifindex] of Object.entries(ifindexes)) {
      await expect.poll(() => kernelLink(name)?.up, { timeout: 15_000, interval: 100 }).toBe(false);
      expect(kernelLink(name)?.ifindex).toBe(ifindex);
    }
  };
  /** syncd creates the host interfaces anew at a cold start: every port netdev is deleted and made again (new ifindex). */
  const recreateNetdevs = () => {
    for (const [a, b] of veths) {
      ns!.del(a);
      ns!.addVethPair(a, b);
    }
    upAll();
  };
  const ifindexes = () => Object.fromEntries(veths.map(([a]) => [a, kernelLink(a)!.ifindex]));
  const statePortKeys = async () => (await state.keys('PORT_TABLE|*')).sort();

  beforeAll(async () => {
    await redis.start();
    connect();
    ns = createNetns('svsn');
    for (const [a, b] of veths) ns.addVethPair(a, b);
    upAll();
    writeFileSync(
      configFile,
      JSON.stringify({
        services: ['portsync'],
        log: { level: 'info' },
        http: { listen: '127.0.0.1:9113' },
        redis: { url: redis.socket },
        stateFile: { path: statePath, debounceMs: 50 },
        warmRestart: { timeoutSecs: 2 },
      }),
    );
  });

  afterAll(async () => {
    await killDaemon(daemon);
    await consumer?.close();
    ns?.destroy();
    await redis.kill();
    if (process.env.SYNCVISOR_KEEP_LOGS) console.log(readFileSync(logPath, 'utf8'));
    rmSync(dir, { recursive: true, force: true });
  });

  it('cold start: old netdevs set down and ignored; the recreated ones get state=ok; then PortInitDone', async () => {
    await loadConfig(portConfig);
    const old = ifindexes();
    const c = await newConsumer();
    start();
    // The consumer pops the ports and PortConfigDone at once; PortInitDone waits for netdevs portsync may use.
    await expect
      .poll(() => [...c.lines()].sort(), { timeout: 30_000, interval: 100 })
      .toEqual([...Object.keys(portConfig), 'PortConfigDone'].map((k) => `SET ${k}`).sort());
    await expectRetired(old);
    expect(readFileSync(logPath, 'utf8')).toMatch(/bringing down old interface/);
    // A message of an old ifindex is ignored although APPL_DB PORT_TABLE:Ethernet0 exists now: set up again, it
    // still gets no STATE_DB entry.
    ns!.set('Ethernet0', 'up');
    await expect.poll(() => metric('syncvisor_netlink_old_netdev_messages_total'), { timeout: 5_000 }).not.toBe('0');
    await sleep(1_000);
    expect(await app.exists('PORT_TABLE:Ethernet0')).toBe(1);
    expect(await statePortKeys()).toEqual([]);
    expect(c.lines()).not.toContain('SET PortInitDone');
    expect(readyz()).toBe('503');
    recreateNetdevs();
    await expect.poll(() => c.lines().at(-1), { timeout: 15_000, interval: 100 }).toBe('SET PortInitDone');
    await expectColdSet(c, portConfig);
    await expect.poll(readyz, { timeout: 15_000 }).toBe('200');
    expect(await warmTable()).toEqual({ state: 'disabled', restore_count: '0' });
    await expectStateDbIsKernelTruth();
    expect(await state.hgetall('PORT_TABLE|Ethernet-BP0')).toHaveProperty('state', 'ok');
    for (const [name, ifindex] of Object.entries(old)) expect(kernelLink(name)!.ifindex).not.toBe(ifindex);
  }, 90_000);

  it('cold `restart swss` with the state file kept: cold at once (no EOIU wait), the same cold set', async () => {
    await killDaemon(daemon); // swss stop; the state file stays
    expect(existsSync(statePath)).toBe(true);
    // swss.sh on a cold start: APPL_DB flushed, STATE_DB PORT_TABLE removed.
    await app.flushdb();
    for (const k of await state.keys('PORT_TABLE|*')) await state.del(k);
    // orchagent is not consuming yet.
    await consumer?.close();
    const old = ifindexes();
    start();
    await expectRetired(old);
    recreateNetdevs();
    // The netdevs exist, but no consumer popped APPL_DB PORT_TABLE: no STATE_DB entry, no PortInitDone, not ready,
    // and the ports are named (5 s after the CONFIG_DB read).
    await expect
      .poll(() => metric('syncvisor_portsync_missing_ports\\{port="Ethernet0"\\}'), { timeout: 15_000, interval: 200 })
      .toBe('1');
    expect(metric('syncvisor_portsync_missing_ports\\{port="Ethernet-BP0"\\}')).toBe('1');
    const named = readFileSync(logPath, 'utf8')
      .split('\n')
      .filter((l) => l.includes('orchagent has not consumed'));
    expect(named.at(-1)).toContain('"missing":["Ethernet-BP0","Ethernet0","Ethernet4"]');
    expect(await statePortKeys()).toEqual([]);
    expect(await app.exists('PORT_TABLE:Ethernet0')).toBe(0);
    expect(await app.exists('_PORT_TABLE:Ethernet0')).toBe(1);
    expect(readyz()).toBe('503');
    // The consumer pops: STATE_DB gets state=ok for each port, then PortInitDone.
    const c = await newConsumer();
    await expect.poll(() => state.hget('PORT_TABLE|Ethernet0', 'state'), { timeout: 10_000, interval: 50 }).toBe('ok');
    await expectColdSet(c, portConfig);
    await expect.poll(readyz, { timeout: 15_000 }).toBe('200');
    await expectStateDbIsKernelTruth();
    expect(metric('syncvisor_warm_restart_cold_starts_total')).toBe('1');
    expect(metric('syncvisor_warm_restarts_total')).toBe('0');
    expect(metric('syncvisor_eoiu_timeouts_total')).toBe('0');
    expect(await warmTable()).toEqual({ state: 'disabled', restore_count: '0' });
  }, 60_000);

  it('warm with the state file: the consumer receives PortInitDone only; restore_count + 1', async () => {
    await state.hset('WARM_RESTART_ENABLE_TABLE|swss', 'enable', 'true');
    await killDaemon(daemon);
    const before = ifindexes();
    const c = await newConsumer();
    start();
    await expect.poll(() => c.lines(), { timeout: 30_000, interval: 100 }).toEqual(['SET PortInitDone']);
    // A warm start keeps the netdevs: none set down.
    expect(ifindexes()).toEqual(before);
    for (const [a] of veths) expect(kernelLink(a)!.up).toBe(true);
    await expect.poll(readyz, { timeout: 15_000 }).toBe('200');
    await sleep(500);
    expect(c.lines()).toEqual(['SET PortInitDone']);
    expect(await warmTable()).toEqual({ state: 'reconciled', restore_count: '1' });
    expect(metric('syncvisor_warm_restarts_total')).toBe('1');
    await expectStateDbIsKernelTruth();
  }, 60_000);

  it('warm, a configured link deleted and a CONFIG_DB change while down: nothing deleted or pushed; not ready, named', async () => {
    await killDaemon(daemon);
    ns!.del('Ethernet4');
    await config.hset('PORT|Ethernet0', 'speed', '40000');
    const c = await newConsumer();
    start();
    await expect.poll(warmTable, { timeout: 30_000, interval: 100 }).toEqual({
      state: 'reconciled',
      restore_count: '2',
    });
    // The missing port is reported 5 s after the CONFIG_DB read.
    await expect
      .poll(() => metric('syncvisor_portsync_missing_ports\\{port="Ethernet4"\\}'), { timeout: 15_000, interval: 200 })
      .toBe('1');
    expect(c.lines()).toEqual([]);
    expect(readyz()).toBe('503');
    expect(readFileSync(logPath, 'utf8')).toMatch(/PortInitDone not sent.*Ethernet4|Ethernet4.*PortInitDone not sent/);
    // APPL_DB keeps the port and the old speed: removing and reconfiguring ports is portmgrd's job.
    expect(await app.hget('PORT_TABLE:Ethernet4', 'lanes')).toBe('5,6,7,8');
    expect(await app.hget('PORT_TABLE:Ethernet0', 'speed')).toBe('100000');
    expect(await app.hgetall('PORT_TABLE:PortInitDone')).toEqual({ lanes: '0' });
    await expectStateDbIsKernelTruth();
    // The port comes back: PortInitDone is sent, ready.
    ns!.addVethPair('Ethernet4', 'p4');
    ns!.set('Ethernet4', 'up');
    ns!.set('p4', 'up');
    await expect.poll(() => c.lines(), { timeout: 15_000, interval: 100 }).toEqual(['SET PortInitDone']);
    await expect.poll(readyz, { timeout: 15_000 }).toBe('200');
    expect(metric('syncvisor_portsync_missing_ports\\{port="Ethernet4"\\}')).toBeUndefined();
  }, 60_000);

  it('warm without a state file: still warm, the consumer receives PortInitDone only', async () => {
    await killDaemon(daemon);
    rmSync(statePath, { force: true });
    rmSync(`${statePath}.backup`, { force: true });
    const c = await newConsumer();
    start();
    await expect.poll(() => c.lines(), { timeout: 30_000, interval: 100 }).toEqual(['SET PortInitDone']);
    await expect.poll(readyz, { timeout: 15_000 }).toBe('200');
    expect(await warmTable()).toEqual({ state: 'reconciled', restore_count: '3' });
    expect(readFileSync(logPath, 'utf8')).toMatch(/"mode":"warm".*state file missing/);
  }, 60_000);

  it('Redis restarted empty: APPL_DB rebuilt as a cold start, STATE_DB rewritten, not ready in between', async () => {
    await expect.poll(readyz, { timeout: 5_000 }).toBe('200');
    await consumer?.close();
    await redis.kill();
    await expect.poll(readyz, { timeout: 10_000 }).toBe('503');
    await redis.start();
    connect();
    // The configuration is loaded again (as SONiC's database service does).
    await loadConfig({ ...portConfig, Ethernet0: { ...portConfig.Ethernet0!, speed: '40000' } });
    const c = await newConsumer();
    await expectColdSet(c, { ...portConfig, Ethernet0: { ...portConfig.Ethernet0!, speed: '40000' } });
    await expect.poll(readyz, { timeout: 15_000 }).toBe('200');
    await expectStateDbIsKernelTruth();
  }, 60_000);

  it('DPU cold start (switch_type=dpu): the netdevs are kept, not set down, and handled', async () => {
    await killDaemon(daemon);
    await state.del('WARM_RESTART_ENABLE_TABLE|swss');
    await app.flushdb();
    for (const k of await state.keys('PORT_TABLE|*')) await state.del(k);
    await config.hset('DEVICE_METADATA|localhost', 'switch_type', 'dpu');
    const before = ifindexes();
    const c = await newConsumer();
    start();
    await expectColdSet(c, { ...portConfig, Ethernet0: { ...portConfig.Ethernet0!, speed: '40000' } });
    await expect.poll(readyz, { timeout: 15_000 }).toBe('200');
    expect(ifindexes()).toEqual(before);
    for (const [a] of veths) expect(kernelLink(a)!.up).toBe(true);
    await expectStateDbIsKernelTruth();
    expect(metric('syncvisor_netlink_old_netdev_messages_total')).toBe('0');
    expect(
      readFileSync(logPath, 'utf8')
        .split('\n')
        .filter((l) => /bringing down old interface/.test(l)),
    ).toHaveLength(3 + 3 + 0);
  }, 60_000);

  it('cold start with APPL_DB entries left: a port whose entry has admin_status is not waited for; carrier_changes', async () => {
    await killDaemon(daemon);
    await app.flushdb();
    for (const k of await state.keys('PORT_TABLE|*')) await state.del(k);
    // Two configured ports without netdevs. APPL_DB (not flushed, as when swss restarts without swss.sh's cleanup)
    // still holds both consumed entries: Ethernet8's has admin_status, Ethernet12's has not.
    const extra = {
      Ethernet8: { lanes: '9', speed: '100000', alias: 'etp3' },
      Ethernet12: { lanes: '13', speed: '100000', alias: 'etp4' },
    };
    const ports = { ...portConfig, Ethernet0: { ...portConfig.Ethernet0!, speed: '40000' }, ...extra };
    await loadConfig(extra);
    await app.hset('PORT_TABLE:Ethernet8', { lanes: '9', admin_status: 'up', mtu: '9100' });
    await app.hset('PORT_TABLE:Ethernet12', { lanes: '13', mtu: '9100' });
    const c = await newConsumer();
    start();
    // Only Ethernet12 holds PortInitDone back, and only it is named.
    await expect
      .poll(() => metric('syncvisor_portsync_missing_ports\\{port="Ethernet12"\\}'), { timeout: 20_000, interval: 200 })
      .toBe('1');
    expect(metric('syncvisor_portsync_missing_ports\\{port="Ethernet8"\\}')).toBeUndefined();
    expect(c.lines()).not.toContain('SET PortInitDone');
    expect(readyz()).toBe('503');
    // Ethernet12's netdev appears: PortInitDone, although Ethernet8 never has a netdev.
    ns!.addVethPair('Ethernet12', 'p12');
    ns!.set('Ethernet12', 'up');
    ns!.set('p12', 'up');
    await expectColdSet(c, ports);
    await expect.poll(readyz, { timeout: 15_000 }).toBe('200');
    expect(kernelLink('Ethernet8')).toBeUndefined();
    // STATE_DB: the kernel truth, carrier_changes included; a carrier flap of the peer is followed.
    await expectStateDbIsKernelTruth();
    const before = Number(kernelCarrierChanges(ns!).get('Ethernet12'));
    ns!.set('p12', 'down');
    ns!.set('p12', 'up');
    await expect
      .poll(() => Number(kernelCarrierChanges(ns!).get('Ethernet12')), { timeout: 5_000 })
      .toBeGreaterThan(before);
    await expectStateDbIsKernelTruth();
    expect(Number(await state.hget('PORT_TABLE|Ethernet12', 'carrier_changes'))).toBeGreaterThanOrEqual(before + 2);
    // Clean up for the next scenario.
    ns!.del('Ethernet12');
    await config.del('PORT|Ethernet8', 'PORT|Ethernet12');
  }, 90_000);

  it('a link name that is not UTF-8 matches its CONFIG_DB key byte for byte', async () => {
    await killDaemon(daemon);
    await app.flushdb();
    for (const k of await state.keys('PORT_TABLE|*')) await state.del(k);
    // "Ethernet" 0xff "8": the kernel and ip accept it (any bytes but NUL, '/', ':' and whitespace).
    const raw = Buffer.concat([Buffer.from('Ethernet'), Buffer.from([0xff]), Buffer.from('8')]);
    const name = 'Ethernet\udcff8';
    expect(textToBytes(name)).toEqual(raw);
    ns!.exec('sh', ['-c', `ip link add "$(printf 'Ethernet\\3778')" type veth peer name pff && ip link set pff up`]);
    ns!.exec('sh', ['-c', `ip link set "$(printf 'Ethernet\\3778')" up`]);
    await config.hset(Buffer.concat([Buffer.from('PORT|'), raw]), 'lanes', '17', 'alias', 'etp5');
    const ports = {
      ...portConfig,
      Ethernet0: { ...portConfig.Ethernet0!, speed: '40000' },
      [name]: { lanes: '17', alias: 'etp5' },
    };
    const c = await newConsumer();
    start();
    // PortInitDone comes only when the netdev's name equals the CONFIG_DB key, so this proves the match.
    await expectColdSet(c, ports);
    await expect.poll(readyz, { timeout: 15_000 }).toBe('200');
    expect(c.ops(name)[0]!.bytes!.key).toEqual(raw);
    const stateKey = Buffer.concat([Buffer.from('PORT_TABLE|'), raw]);
    await expect
      .poll(async () => (await state.hgetallBuffer(stateKey)).state?.toString(), { timeout: 10_000 })
      .toBe('ok');
    expect((await state.hgetallBuffer(stateKey)).admin_status?.toString()).toBe('up');
    // Nothing under the U+FFFD spelling (what a UTF-8 decode would have made of it).
    expect(await state.exists('PORT_TABLE|Ethernet\ufffd8')).toBe(0);
    expect(await app.exists(Buffer.concat([Buffer.from('PORT_TABLE:'), raw]))).toBe(1);
    ns!.exec('sh', ['-c', `ip link del "$(printf 'Ethernet\\3778')"`]);
    await expect.poll(() => state.exists(stateKey), { timeout: 10_000 }).toBe(0);
    await config.del(Buffer.concat([Buffer.from('PORT|'), raw]));
  }, 90_000);

  it('300 ports (DPU, netdevs kept): the cold set arrives in batches of at most 128', async () => {
    await killDaemon(daemon);
    const many: Record<string, Record<string, string>> = { ...portConfig };
    for (let i = 0; i < 300; i++) {
      const name = `Ethernet${1000 + i * 4}`;
      ns!.addVethPair(name, `q${i}`);
      ns!.set(name, 'up');
      many[name] = { lanes: String(1000 + i), speed: '100000', alias: `etp${1000 + i}` };
    }
    await state.del('WARM_RESTART_ENABLE_TABLE|swss');
    await app.flushdb();
    await loadConfig(many);
    const c = await newConsumer();
    start();
    await expectColdSet(c, many);
    await expect.poll(readyz, { timeout: 20_000 }).toBe('200');
    console.log(`300 ports: ${c.received.length} ops in ${c.batches.length} pops`);
  }, 120_000);
});
