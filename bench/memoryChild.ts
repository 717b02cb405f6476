// P6 child: bench/memory.ts bundles this file with the daemon's modules left as imports of the compiled dist/ (no
// TypeScript loader in the measured process) and runs it with `node --expose-gc` inside a fresh network namespace.
// Starts the daemon (portsync + ptp, embedded Redis), loads 4,096 ports and 64 PTP interfaces, warms up, measures
// RSS after gc, then sends 1M events in five blocks (link flaps through the supervisor, PTP lines through the real
// socket) and measures RSS after gc at the end of each block.
// Prints one JSON line: {baselineMb, afterMb: [5 blocks], heap…, events, ports, ptpInterfaces}.
import { join } from 'node:path';
import { setImmediate as yieldLoop } from 'node:timers/promises';
import { Redis } from 'ioredis';
import type { PtpGeneration } from '../src/io/ptp/generation.js';
import type { NetlinkLinkEvent } from '../src/machines/supervisor/sourceEvents.js';
import { startBenchDaemon, stopBenchDaemon } from './daemon.js';
import { waitFor, waitForAsync } from './measure.js';
import { connect } from './ptpIngest.js';
import { scaleLines, writeScaleConfig } from './ptpSetup.js';

const dir = process.argv[2];
const ports = Number(process.argv[3] ?? 4096);
const totalEvents = Number(process.argv[4] ?? 1_000_000);
const flapsPerBlock = Number(process.argv[5] ?? 2_000);
/** `idle`: the no-data reference (the same daemon started, no port, no line, no event). */
const idle = process.argv[6] === 'idle';
if (!dir) throw new Error('usage: memoryChild.ts <dir> [ports] [events] [flaps per block] [idle]');
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');

const cfg = await writeScaleConfig(dir, 8, 8);
const socketPath = join(dir, 'events.sock');
const runtimeDir = join(dir, 'redis');
const daemon = await startBenchDaemon({
  services: 'portsync,ptp',
  'redis.runtimeDir': runtimeDir,
  'ptp.socketPath': socketPath,
  'ptp.profilePath': cfg.profilePath,
  'ptp.configDir': cfg.configDir,
  'ptp.nodeName': cfg.nodeName,
});
const redis = new Redis({ path: join(runtimeDir, 'redis.sock'), db: 6 });
const generation = (): PtpGeneration =>
  (daemon.root.system.get('ptp')!.getSnapshot() as { context: { generation: PtpGeneration } }).context.generation;
const seen = (): number => generation().parser.stats.parsed + generation().parser.stats.ignored;

const link = (p: number, up: boolean): NetlinkLinkEvent => ({
  type: 'netlink.link',
  kind: 'new',
  name: `Ethernet${p * 4}`,
  ifindex: 1000 + p,
  flags: up ? 0x11043 : 0x1003,
  change: 0,
  mtu: 9100,
  operstate: up ? 6 : 2,
  master: 0,
  linkKind: 'veth',
  inDump: false,
  seq: 0,
});

let flapRound = 0;
/** The last state sent per port (true = running). */
const lastUp: boolean[] = [];
/** `count` link events in rounds over every port (each round flips them all), 1,000 per event-loop turn. */
async function flaps(count: number): Promise<void> {
  let up = true;
  for (let i = 0; i < count; i++) {
    const p = i % ports;
    if (p === 0) up = ++flapRound % 2 === 0;
    lastUp[p] = up;
    daemon.root.send(link(p, up));
    if (i % 1000 === 999) await yieldLoop();
  }
}

daemon.root.on('child.down', (e) => progress(`child down ${e.id}: ${e.reason}`));
const client = await connect(socketPath);
client.on('close', () => progress('client closed'));
/** `count` PTP offset lines over the 8 profiles, through the socket, in 1 MiB writes. */
async function lines(count: number): Promise<void> {
  const target = seen() + count;
  const chunk = 10_000;
  for (let i = 0; i < count; i += chunk) {
    const ok = client.write(scaleLines(8, Math.min(chunk, count - i)));
    if (!ok) await new Promise((r) => client.once('drain', r));
    await yieldLoop();
  }
  await waitFor('the sidecar to parse the lines', () => seen() >= target, 60_000, 5).catch((err: Error) => {
    throw new Error(`${err.message} (seen ${seen()} of ${target})`);
  });
}

async function settle(): Promise<void> {
  const state = (p: number): string => (lastUp[p] ? 'up' : 'down');
  const probe = [0, ports >> 1, ports - 1];
  await waitForAsync(
    'STATE_DB to hold the last state of every port',
    async () => {
      if ((await redis.dbsize()) < ports) return false;
      for (const p of probe)
        if ((await redis.hget(`PORT_TABLE|Ethernet${p * 4}`, 'netdev_oper_status')) !== state(p)) return false;
      return true;
    },
    120_000,
    20,
  );
}

const t0 = performance.now();
const progress = (what: string): void => {
  if (process.env['BENCH_VERBOSE']) process.stderr.write(`${((performance.now() - t0) / 1000).toFixed(1)}s ${what}\n`);
};

const rssMb = async (): Promise<number> => {
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 50));
  }
  return process.memoryUsage().rss / 1048576;
};

if (idle) {
  await new Promise((r) => setTimeout(r, 500));
  const idleMb = await rssMb();
  redis.disconnect();
  await stopBenchDaemon(daemon);
  process.stdout.write(
    `${JSON.stringify({ baselineMb: idleMb, afterMb: [idleMb], blockMs: [], heapBeforeMb: 0, heapAfterMb: 0, events: 0, flapsPerBlock: 0, ports: 0, ptpInterfaces: cfg.interfaces })}\n`,
  );
  process.exit(0);
}

// 4,096 ports and the 64-interface PTP configuration, then a warm-up (JIT, pools, metric series).
await flaps(ports);
await settle();
progress('ports loaded');
await lines(20_000);
await flaps(flapsPerBlock);
await settle();
progress('warm');
const baselineMb = await rssMb();
const heapBeforeMb = process.memoryUsage().heapUsed / 1048576;

// Five blocks of totalEvents/5 events each; RSS after gc at the end of every block.
const perBlock = Math.floor(totalEvents / 5);
const afterMb: number[] = [];
/** Wall time of each block's events (until STATE_DB holds the last state): the throughput side of memory settings. */
const blockMs: number[] = [];
for (let b = 0; b < 5; b++) {
  const t = performance.now();
  await flaps(flapsPerBlock);
  await lines(perBlock - flapsPerBlock);
  await settle();
  blockMs.push(performance.now() - t);
  afterMb.push(await rssMb());
  progress(`block ${b + 1}`);
}
const heapAfterMb = process.memoryUsage().heapUsed / 1048576;

client.destroy();
redis.disconnect();
await stopBenchDaemon(daemon);
process.stdout.write(
  `${JSON.stringify({ baselineMb, afterMb, blockMs, heapBeforeMb, heapAfterMb, events: perBlock * 5, flapsPerBlock, ports, ptpInterfaces: cfg.interfaces })}\n`,
);
