// CONFIG_DB values are bytes, and what orchagent gets must be those bytes: the real daemon in a network namespace,
// its own redis-server, CONFIG_DB `PORT|Ethernet0` with a description of bytes that are not UTF-8 (0xff 0xfe 0x80),
// valid multi-byte UTF-8 and a NUL, and a field whose name is not UTF-8 either. After a cold start a
// ConsumerStateTable-style consumer pops exactly those bytes from APPL_DB PORT_TABLE, HGET (Buffer reply) on
// PORT_TABLE:Ethernet0 returns them, and the trace shows valid text as text and the other bytes escaped (\udcXX)
// rather than as U+FFFD, so that a replay sees the same bytes. Then a cold restart with a configured port whose name
// is not UTF-8: APPL_DB gets exactly that key, the missing-ports metric shows it as `\xNN`, the log as `\udcNN`.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { textToBytes } from '../../src/io/redis/byteText.js';
import { ConsumerStateTable } from '../support/consumerStateTable.js';
import { canUseNetns, createNetns, type Netns } from '../support/netns.js';
import { PrivateRedis } from '../support/privateRedis.js';
import { killDaemon, startDaemonIn, type RunningDaemon } from '../support/portsyncDaemon.js';

const netnsOk = canUseNetns();
if (netnsOk !== true) console.warn(`skipping binary CONFIG_DB integration test: ${netnsOk}`);

const description = Buffer.concat([Buffer.of(0xff, 0xfe, 0x80), Buffer.from(' port é € 😀 '), Buffer.of(0x00, 0x41)]);
const oddField = Buffer.of(0x80, 0x66, 0x69, 0x65, 0x6c, 0x64); // "\x80field"
const oddValue = Buffer.of(0xc3, 0x28); // an invalid two-byte sequence
const hex = (pairs: [Buffer, Buffer][]) => pairs.map(([f, v]) => `${f.toString('hex')}=${v.toString('hex')}`).sort();

describe.skipIf(netnsOk !== true)('CONFIG_DB bytes reach APPL_DB unaltered', () => {
  const dir = mkdtempSync(join(tmpdir(), 'syncvisor-binary-it-'));
  const redis = new PrivateRedis(join(dir, 'redis.sock'));
  const logPath = join(dir, 'daemon.log');
  const tracePath = join(dir, 'trace.jsonl');
  const configFile = join(dir, 'syncvisor.json');
  let ns: Netns | undefined;
  let daemon: RunningDaemon | undefined;
  let consumer: ConsumerStateTable | undefined;
  const db = (n: number) => redis.client(n);

  beforeAll(async () => {
    await redis.start();
    ns = createNetns('svbin');
    ns.addVethPair('Ethernet0', 'p0');
    ns.set('Ethernet0', 'up');
    ns.set('p0', 'up');
    writeFileSync(
      configFile,
      JSON.stringify({
        services: ['portsync'],
        log: { level: 'info' },
        http: { listen: '127.0.0.1:9114' },
        redis: { url: redis.socket },
        stateFile: { path: join(dir, 'portsyncd.json'), debounceMs: 50 },
        warmRestart: { timeoutSecs: 2 },
        trace: { path: tracePath },
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

  it('cold start: the consumer pops exactly the CONFIG_DB bytes, HGET returns them, the trace escapes them', async () => {
    const app = db(0);
    const config = db(4);
    await config.hset('PORT|Ethernet0', 'lanes', '1,2,3,4', 'description', description, oddField, oddValue);
    consumer = new ConsumerStateTable(app, 'PORT_TABLE', 0, 128);
    await consumer.start();
    daemon = startDaemonIn(ns!, configFile, logPath);

    await expect
      .poll(() => consumer!.lines().includes('SET PortInitDone'), { timeout: 30_000, interval: 100 })
      .toBe(true);
    const [op] = consumer.ops('Ethernet0');
    expect(op?.op).toBe('SET');
    expect(hex(op!.bytes!.fields)).toEqual(
      hex([
        [Buffer.from('lanes'), Buffer.from('1,2,3,4')],
        [Buffer.from('description'), description],
        [oddField, oddValue],
      ]),
    );
    expect((await app.hgetBuffer('PORT_TABLE:Ethernet0', 'description'))!.equals(description)).toBe(true);
    expect((await app.hgetBuffer('PORT_TABLE:Ethernet0', oddField))!.equals(oddValue)).toBe(true);

    // The trace (flushed at exit): valid UTF-8 as text, the other bytes as \udcXX escapes, never U+FFFD.
    daemon.process.kill('SIGTERM');
    await daemon.exited;
    const raw = readFileSync(tracePath);
    expect(raw.includes(Buffer.from('\ufffd'))).toBe(false);
    const text = raw.toString('utf8');
    expect(text).toContain('\\udcff\\udcfe\\udc80 port é € 😀 \\u0000A');
    const initial = text
      .split('\n')
      .filter((l) => l.includes('"redis.initialState"'))
      .map((l) => JSON.parse(l) as { event: { configPorts: Record<string, Record<string, string>> } })[0];
    expect(textToBytes(initial!.event.configPorts.Ethernet0!.description!).equals(description)).toBe(true);
    const log = readFileSync(logPath);
    expect(log.includes(Buffer.from('\ufffd'))).toBe(false);
  }, 60_000);

  it('a port name that is not UTF-8: APPL_DB gets exactly that key; the metric and the log name it escaped', async () => {
    const app = db(0);
    const config = db(4);
    const oddName = Buffer.from([...Buffer.from('Eth'), 0xff, 0x39]);
    await config.hset(Buffer.concat([Buffer.from('PORT|'), oddName]), 'lanes', '9');
    // swss restarted cold: APPL_DB flushed; no netdev will ever have that name, so the daemon stays unready.
    await app.flushdb();
    await consumer?.close();
    consumer = new ConsumerStateTable(app, 'PORT_TABLE', 0, 128);
    await consumer.start();
    daemon = startDaemonIn(ns!, configFile, logPath);
    await expect
      .poll(() => consumer!.lines().includes('SET PortConfigDone'), { timeout: 30_000, interval: 100 })
      .toBe(true);
    const keys = consumer.received.map((o) => o.bytes!.key.toString('hex'));
    expect(keys).toContain(oddName.toString('hex'));
    expect(await app.hgetBuffer(Buffer.concat([Buffer.from('PORT_TABLE:'), oddName]), 'lanes')).toEqual(
      Buffer.from('9'),
    );
    // Reported after 5 s: the label escapes the byte (Prometheus labels are text), the JSON log as \udcff.
    const metrics = () => ns!.exec('curl', ['-s', 'http://127.0.0.1:9114/metrics']);
    await expect
      .poll(metrics, { timeout: 15_000, interval: 250 })
      .toContain('syncvisor_portsync_missing_ports{port="Eth\\\\xff9"} 1');
    expect(consumer.lines()).not.toContain('SET PortInitDone');
    const log = readFileSync(logPath);
    expect(log.includes(Buffer.from('\ufffd'))).toBe(false);
    expect(log.toString('utf8')).toContain('"Eth\\udcff9"');
  }, 60_000);
});
