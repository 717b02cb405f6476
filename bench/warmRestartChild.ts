// P4 child: run with `ip netns exec NS node --import tsx bench/warmRestartChild.ts <config.json>` inside the P4
// namespace. Starts the daemon in-process (portsync only, the benchmark's Redis), notes when the netlink dump is done
// and when the APP_DB gate opens (inspection events, wall clock), waits until WARM_RESTART_TABLE|portsyncd is final
// (reconciled or disabled) and the daemon is ready, then shuts it down gracefully (final state save).
// Prints one JSON line: {startedAt, firstLinkAt, dumpDoneAt, eoiuAt, gateOpenAt, readyAt, mode, decided, synced,
// linkEvents}
// (times in ms since the epoch, sub-ms precision, comparable with the Redis MONITOR timestamps).
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import type { InspectionEvent } from 'xstate';
import { loadConfig } from '../src/config/load.js';
import { createLogger, silentLogger } from '../src/io/log.js';
import { healthOf, startDaemon } from '../src/daemon/main.js';
import { waitFor, waitForAsync } from './measure.js';

const configPath = process.argv[2];
if (!configPath) throw new Error('usage: warmRestartChild.ts <config.json>');
const flags = JSON.parse(readFileSync(configPath, 'utf8')) as Record<string, string>;
const wall = (): number => performance.timeOrigin + performance.now();
/** Monotonic µs, the clock of a --cpu-prof profile's timestamps (BENCH_CPU_PROF: the window's marks). */
const mono = (): number => Number(process.hrtime.bigint() / 1000n);
const marks: Record<string, number> = {};

let dumpDoneAt: number | undefined;
/** When portsync had processed that dumpDone. */
let dumpProcessedAt: number | undefined;
let lastDumpDoneAt: number | undefined;
let firstLinkAt: number | undefined;
let eoiuAt: number | undefined;
/** The state file's answer and the CONFIG_DB/STATE_DB read reached portsync (EOIU needs both). */
let stateFileAt: number | undefined;
let initialStateAt: number | undefined;
let gateOpenAt: number | undefined;
let linkEvents = 0;
/** warmRestart's decision and its answer to portsync (mode, completion reason, what the reconciliation wrote). */
let decided: string | undefined;
let synced: { mode: string; reason: string; set: number; del: number } | undefined;
let completeDecision: () => void = () => undefined;
const decisionComplete = new Promise<void>((resolve) => (completeDecision = resolve));
const idOf = (ev: InspectionEvent): string | undefined => (ev.actorRef as { id?: string }).id;
// BENCH_TIMELINE=1: the first time each actor got each event type, on stderr (for finding what waits on what).
const timeline = process.env['BENCH_TIMELINE'] ? new Map<string, number>() : undefined;
const inspector = (ev: InspectionEvent): void => {
  if (timeline && ev.type === '@xstate.event') {
    const k = `${idOf(ev) ?? '?'} ${ev.event.type}`;
    if (!timeline.has(k)) timeline.set(k, wall());
  }
  if (ev.type === '@xstate.event' && idOf(ev) === 'portsync') {
    if (ev.event.type === 'netlink.link') {
      linkEvents += 1;
      firstLinkAt ??= wall();
    } else if (ev.event.type === 'netlink.dumpDone') {
      lastDumpDoneAt = wall();
      marks['lastDumpDone'] = mono();
    } else if (ev.event.type === 'redis.initialState') initialStateAt ??= wall();
    else if (ev.event.type === 'warmRestart.decided') decided ??= ev.event.mode as string;
    else if (ev.event.type === 'warmRestart.synced') {
      const e = ev.event as unknown as { mode: string; reason: string; set: number; del: number };
      synced ??= { mode: e.mode, reason: e.reason, set: e.set, del: e.del };
    }
  } else if (ev.type === '@xstate.event' && idOf(ev) === 'warmRestart') {
    // The stateFile machine's answer reaches its parent.
    if (ev.event.type === 'stateFile.loaded' || ev.event.type === 'stateFile.cold') stateFileAt ??= wall();
  } else if (ev.type === '@xstate.snapshot') {
    const id = idOf(ev);
    const snap = ev.snapshot as { value?: unknown };
    // The dumpDone that completed portsync's tracked dump (its dump region reached `synced`; a restarted portsync
    // asks for a dump of its own).
    const dumpRegion = (snap.value as { running?: { dump?: string } } | undefined)?.running?.dump;
    if (id === 'portsync' && dumpDoneAt === undefined && dumpRegion === 'synced') {
      dumpDoneAt = lastDumpDoneAt;
      dumpProcessedAt = wall();
      marks['dumpDone'] = marks['lastDumpDone']!;
      marks['dumpProcessed'] = mono();
    } else if (id === 'eoiuDetector' && eoiuAt === undefined && snap.value === 'detected') {
      eoiuAt = wall();
      marks['eoiu'] = mono();
    } else if (id === 'appDbGate' && gateOpenAt === undefined && snap.value === 'open') {
      gateOpenAt = wall();
      marks['gateOpen'] = mono();
    } else if (
      id === 'warmRestart' &&
      marks['complete'] === undefined &&
      (snap.value as { running?: { decision?: string } } | undefined)?.running?.decision === 'complete'
    ) {
      marks['complete'] = mono();
      completeDecision();
    }
  }
};

const startedAt = wall();
// Also when a wait below times out (the timeline then shows what did not happen).
process.on('exit', () => printTimeline());
const daemon = await startDaemon({
  config: loadConfig({ flags }), // BENCH_VERBOSE=1: the daemon's log on stderr.
  logger: process.env['BENCH_VERBOSE'] ? createLogger('debug') : silentLogger,
  inspectors: [inspector],
});
const state = new Redis({ path: flags['redis.url']!, db: 6 });
let mode = '';
// No Redis polling while the figure's window runs (a round trip every few ms on the measured process and server):
// warmRestart's decision region reaching `complete` (cold or warm; the inspection stream, in-process) is awaited
// first, then Redis is asked until the final state it sent is there.
await Promise.race([
  decisionComplete,
  new Promise((_, reject) =>
    setTimeout(() => reject(new Error('benchmark: warmRestart did not complete within 120 s')), 120_000).unref(),
  ),
]);
await waitForAsync(
  'WARM_RESTART_TABLE|portsyncd to be final',
  async () => {
    mode = (await state.hget('WARM_RESTART_TABLE|portsyncd', 'state')) ?? '';
    return mode === 'reconciled' || mode === 'disabled';
  },
  60_000,
  2,
);
await waitFor('the daemon to be ready', () => healthOf(daemon.root).ready, 60_000, 2);
const readyAt = wall();
// Readiness does not wait for the CONFIG_DB read: stop only once APP_DB got PortInitDone (the drain then flushes it).
await waitFor(
  'portsync to reach PortInitDone',
  () => {
    const value = daemon.root.system.get('portsync')?.getSnapshot().value as
      { running?: { appDb?: string } } | undefined;
    return value?.running?.appDb === 'portInitDone';
  },
  60_000,
  2,
);
// …and until the writer has put it in Redis (the last of a cold run's APP_DB copy, so the copy is complete; a
// shutdown drain is bounded and would leave the rest of a 16,384-port copy unwritten on a busy machine).
const appDb = new Redis({ path: flags['redis.url']!, db: 0 });
await waitForAsync(
  'APP_DB PortInitDone to be written',
  async () => (await appDb.exists('_PORT_TABLE:PortInitDone', 'PORT_TABLE:PortInitDone')) > 0,
  120_000,
  2,
);
appDb.disconnect();
state.disconnect();
function printTimeline(): void {
  if (!timeline) return;
  const t0 = lastDumpDoneAt ?? startedAt;
  for (const [k, t] of [...timeline].sort((a, b) => a[1] - b[1]))
    process.stderr.write(`${(t - t0).toFixed(1).padStart(9)} ms ${k}\n`);
  timeline.clear();
}
printTimeline();
if (process.env['BENCH_CPU_PROF']) process.stderr.write(`cpu-prof marks (µs, monotonic): ${JSON.stringify(marks)}\n`);
daemon.root.send({ type: 'shutdown', reason: 'benchmark done' });
await daemon.done;
process.stdout.write(
  `${JSON.stringify({ startedAt, firstLinkAt, dumpDoneAt, dumpProcessedAt, stateFileAt, initialStateAt, eoiuAt, gateOpenAt, readyAt, mode, decided, synced, linkEvents })}\n`,
);
process.exit(0);
