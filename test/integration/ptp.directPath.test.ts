// The direct path of PTP lines (src/actors/ptp/lineChannel.ts): while the sidecar serves, the socketServer hands each
// read to the serving generation's ingest instead of a socket.line event through the statecharts. The ptp service
// composed for real (ptpChildSpecs under the supervisor, a real Unix socket, real config files), once with the
// direct path and once with every line on the chart path (a channel with `enabled: false`).
import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  fromPromise,
  type AnyActorRef,
  type AnyStateMachine,
  type InspectionEvent,
  type PromiseActorLogic,
} from 'xstate';
import { configSchema, type Config } from '../../src/config/schema.js';
import { MetricsHub } from '../../src/io/http/metricsHub.js';
import { silentLogger } from '../../src/io/log.js';
import type { PtpGeneration } from '../../src/io/ptp/generation.js';
import { LineChannel } from '../../src/actors/ptp/lineChannel.js';
import type { ChildSpec } from '../../src/machines/supervisor/spec.js';
import { startDaemon } from '../../src/daemon/main.js';
import { directLinesEnabled } from '../../src/daemon/ptp.js';
import { attachInspectors } from '../../src/actors/observe/inspection.js';
import { parseTrace } from '../../src/io/observe/traceFormat.js';
import { replayTrace } from '../../src/actors/observe/replay.js';
import {
  connectUnix,
  seriesValue,
  sidecarOf,
  startPtpService,
  stopPtpService,
  until,
  type PtpRoot,
} from '../support/ptpService.js';

const repo = join(import.meta.dirname, '../..');
const examples = join(import.meta.dirname, '../fixtures/ptp/examples');
const base = mkdtempSync(join(tmpdir(), 'syncvisor-ptp-direct-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));
let dirs = 0;

function configDir(extra: Record<string, unknown> = {}): Config {
  const dir = join(base, `d${++dirs}`);
  mkdirSync(dir);
  copyFileSync(join(examples, 'node1.json'), join(dir, 'node1'));
  copyFileSync(join(examples, 'ptp4l.0.config'), join(dir, 'ptp4l.0.config'));
  copyFileSync(join(examples, 'ptp4l.1.config'), join(dir, 'ptp4l.1.config'));
  return configSchema.parse({
    services: ['ptp'],
    http: { listen: '127.0.0.1:0' },
    ptp: {
      socketPath: join(dir, 'events.sock'),
      configDir: dir,
      profilePath: dir,
      nodeName: 'node1',
      emitLogsUrl: '',
      ...extra,
    },
  });
}

const demoLines = readFileSync(join(repo, 'deploy/demo/lines.txt'), 'utf8')
  .split('\n')
  .filter((l) => l.length > 0);

/** A line of the pool, unique by `n` (in a field the parser reads but no rule compares). */
const poolLine = (kind: number, offset: number, n: number): string => {
  switch (kind % 5) {
    case 0:
      return `ptp4l[${n}.0]: [ptp4l.0.config] master offset ${offset} s2 freq +1 path delay ${n}`;
    case 1:
      return `ptp4l[${n}.0]: [ptp4l.1.config] master offset ${offset} s2 freq +1 path delay ${n}`;
    case 2:
      return `phc2sys[${n}.0]: [ptp4l.0.config] CLOCK_REALTIME phc offset ${offset} s2 freq -1 delay ${n}`;
    case 3:
      return demoLines[n % demoLines.length]!;
    default:
      return `garbage ${n} ${offset}`;
  }
};

interface Observed {
  /** Per generation (load order), the texts its ingest got, in order. */
  ingested: string[][];
  events: unknown[];
}

interface Service {
  root: PtpRoot;
  hub: MetricsHub;
  lines: LineChannel;
  seen: Observed;
  sock: Socket;
  /** Lines ingested over all generations. */
  count(): number;
  loads(): number;
  serving(): boolean;
}

/** Holds each load for `ms` (the real loader after it), so that lines arrive while loading. */
const slowLoader =
  (ms: number) =>
  (specs: ChildSpec[]): ChildSpec[] =>
    specs.map((s) => {
      if (s.id !== 'ptp') return s;
      const logic = s.logic as AnyStateMachine;
      const real = logic.implementations.actors['loadGeneration'] as PromiseActorLogic<unknown, { load: number }>;
      const held = fromPromise<unknown, { load: number }>(async (args) => {
        await new Promise((r) => setTimeout(r, ms));
        return (real.config as (a: typeof args) => Promise<unknown>)(args);
      });
      return { ...s, logic: logic.provide({ actors: { loadGeneration: held } }) };
    });

async function start(config: Config, direct: boolean, loadDelayMs = 0): Promise<Service> {
  const hub = new MetricsHub({ defaultMetrics: false });
  const lines = new LineChannel({ enabled: direct });
  const seen: Observed = { ingested: [], events: [] };
  const root = await startPtpService(config, hub, {
    lines,
    ...(loadDelayMs > 0 ? { mapSpecs: slowLoader(loadDelayMs) } : {}),
    events: {
      generationLoaded(g: PtpGeneration) {
        const mine: string[] = [];
        seen.ingested.push(mine);
        const inner = g.ingest.bind(g);
        g.ingest = (text) => {
          mine.push(typeof text === 'string' ? text : text.map((l) => `${l}\n`).join(''));
          return inner(text);
        };
      },
      clockChanged(e) {
        seen.events.push({ kind: 'clock', ...e });
      },
    },
  });
  const ptp = sidecarOf(root);
  for (const type of ['clock.stateChanged', 'ptp.osClockStateChanged', 'ptp.syncStateChanged'])
    ptp.on(type, (e: unknown) => seen.events.push(e));
  const snap = () => ptp.getSnapshot() as { value: unknown; context: { loads: number } };
  const serving = () => {
    const v = snap().value;
    return typeof v === 'object' && v !== null && 'serving' in v;
  };
  await until('serving', serving);
  const sock = await connectUnix(config.ptp.socketPath);
  return {
    root,
    hub,
    lines,
    seen,
    sock,
    count: () => seen.ingested.flat().reduce((n, t) => n + t.split('\n').length - 1, 0),
    loads: () => snap().context.loads,
    serving,
  };
}

async function stop(s: Service): Promise<void> {
  s.sock.destroy();
  await stopPtpService(s.root);
}

const write = (s: Socket, text: string) => new Promise<void>((r) => s.write(text, () => r()));

/** The exposition without what depends on time (durations, load timestamps). */
const stableMetrics = async (hub: MetricsHub): Promise<string> =>
  (await hub.text())
    .split('\n')
    .filter((l) => !/_seconds|_timestamp|duration/.test(l))
    .join('\n');

type Step = { kind: 'lines'; lines: Array<[number, number]>; cuts: number[] } | { kind: 'restart' };

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('lines' as const),
      lines: fc.array(fc.tuple(fc.nat(4), fc.integer({ min: -300, max: 300 })), { minLength: 1, maxLength: 40 }),
      cuts: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 4 }),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'restart' as const }) },
);

/** Runs the steps, each to its end (lines parsed, or the restart served), and returns what the service showed. */
async function run(s: Service, steps: Step[]): Promise<{ metrics: string; seen: Observed }> {
  let n = 0;
  let expected = s.count();
  for (const step of steps) {
    if (step.kind === 'restart') {
      const before = s.loads();
      await write(s.sock, 'CMD RESTART\n');
      await until('served again', () => s.loads() > before && s.serving());
      continue;
    }
    const text = step.lines.map(([k, off]) => `${poolLine(k, off, ++n)}\n`).join('');
    const at = [...new Set(step.cuts.map((c) => Math.floor(c * text.length)))].sort((a, b) => a - b);
    let from = 0;
    for (const cut of [...at, text.length]) {
      if (cut > from) await write(s.sock, text.slice(from, cut));
      from = Math.max(from, cut);
    }
    expected += step.lines.length;
    await until('the lines parsed', () => s.count() === expected);
  }
  return { metrics: await stableMetrics(s.hub), seen: s.seen };
}

describe('ptp direct path of lines', () => {
  it('is off while a live inspector is attached (it shows every socket.line), on otherwise and with a trace', () => {
    expect(directLinesEnabled(configDir())).toBe(true);
    expect(directLinesEnabled(configSchema.parse({ ...configDir(), trace: { path: '/tmp/x.jsonl' } }))).toBe(true);
    expect(directLinesEnabled(configSchema.parse({ ...configDir(), inspect: { enabled: true } }))).toBe(false);
    expect(directLinesEnabled(configSchema.parse({ ...configDir(), inspect: { stately: true } }))).toBe(false);
  });

  it('the same lines give the same metrics, events and ingested texts on the direct and the chart path', async () => {
    let directBatches = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(stepArb, { minLength: 1, maxLength: 8 }), async (steps) => {
        const direct = await start(configDir(), true);
        const chart = await start(configDir(), false);
        try {
          const a = await run(direct, steps);
          const b = await run(chart, steps);
          expect(a.metrics).toEqual(b.metrics);
          expect(a.seen.events).toEqual(b.seen.events);
          expect(a.seen.ingested.map((g) => g.join(''))).toEqual(b.seen.ingested.map((g) => g.join('')));
          expect(chart.lines.taken).toBe(0);
          directBatches += direct.lines.taken;
        } finally {
          await stop(direct);
          await stop(chart);
        }
      }),
      { numRuns: 6 },
    );
    expect(directBatches, 'the direct path was taken').toBeGreaterThan(0);
  });

  /**
   * Lines numbered 1…N, CMD RESTART after each line in `restartsAt`, each load held a little. Written in bursts
   * without waiting for the daemon, each from halfway after one RESTART to halfway after the next: the lines after a
   * RESTART arrive while loading (the queue) and, once served, while serving (the direct path). Before the next burst
   * the sidecar serves again, so that each RESTART starts a load of its own.
   */
  async function burst(config: Config, restartsAt: number[], total: number) {
    const s = await start(config, true, 15);
    const texts: string[] = [];
    for (let i = 1; i <= total; i++) texts.push(poolLine(0, (i % 7) - 3, i));
    const bounds = [0, ...restartsAt.map((r, k) => Math.floor((r + (restartsAt[k + 1] ?? total)) / 2)), total];
    for (let b = 0; b + 1 < bounds.length; b++) {
      let out = '';
      for (let i = bounds[b]! + 1; i <= bounds[b + 1]!; i++) {
        out += `${texts[i - 1]!}\n`;
        if (restartsAt.includes(i)) out += 'CMD RESTART\n';
      }
      const loads = s.loads();
      for (let at = 0; at < out.length; at += 4_000) s.sock.write(out.slice(at, at + 4_000));
      if (b < restartsAt.length) await until('served again', () => s.loads() > loads && s.serving(), 20_000);
    }
    return { s, texts, restarts: new Set(restartsAt) };
  }

  /** The generation (index) that ingested each line, from the recorded ingests. */
  function generationOf(seen: Observed): Map<string, number> {
    const gen = new Map<string, number>();
    seen.ingested.forEach((g, i) => {
      for (const t of g) for (const l of t.split('\n')) if (l !== '') gen.set(l, i);
    });
    return gen;
  }

  it('keeps the order across attach / detach and CMD RESTART; lines after a RESTART wait for a new generation', async () => {
    const total = 4_000;
    const { s, texts, restarts: restartsAt } = await burst(configDir(), [400, 1_200, 2_000, 3_950], total);
    try {
      await until('every line parsed', () => s.count() === total, 20_000);
      await until('serving', () => s.serving());
      const ingestedLines = s.seen.ingested
        .flat()
        .join('')
        .split('\n')
        .filter((l) => l !== '');
      // Nothing lost, nothing twice, nothing out of order.
      expect(ingestedLines).toEqual(texts);
      const gen = generationOf(s.seen);
      for (let i = 1; i < total; i++) {
        const a = gen.get(texts[i - 1]!)!;
        const b = gen.get(texts[i]!)!;
        if (restartsAt.has(i)) expect(b, `line ${i + 1}, after a CMD RESTART`).toBeGreaterThan(a);
        else expect(b).toBeGreaterThanOrEqual(a);
      }
      // Both paths were used: batches taken directly, and the load queues handed over as backlogs.
      const ingests = s.seen.ingested.reduce((n, g) => n + g.length, 0);
      expect(s.lines.taken).toBeGreaterThan(0);
      expect(ingests).toBeGreaterThan(s.lines.taken);
    } finally {
      await stop(s);
    }
  });

  it('with a small load queue (backpressure, drops): the lines kept stay in order and the dropped are counted', async () => {
    // Lines of ≈ 75 bytes: some 2,000 after a RESTART are more than the queue's 64 KiB.
    const total = 8_000;
    const { s, texts, restarts: restartsAt } = await burst(configDir({ queueMaxBytes: 65_536 }), [1_000, 5_000], total);
    try {
      await until('the last line parsed', () => generationOf(s.seen).has(texts[total - 1]!), 20_000);
      const text = await s.hub.text();
      const dropped = seriesValue(text, 'syncvisor_ptp_queue_dropped_lines_total') ?? 0;
      const ingestedLines = s.seen.ingested
        .flat()
        .join('')
        .split('\n')
        .filter((l) => l !== '');
      // A subsequence of the written lines, in order; what is missing is what the queue counted as dropped.
      const index = new Map(texts.map((t, i) => [t, i]));
      const at = ingestedLines.map((l) => index.get(l)!);
      expect(at.every((v, i) => v !== undefined && (i === 0 || v > at[i - 1]!))).toBe(true);
      expect(ingestedLines.length + dropped).toBe(total);
      expect(dropped, 'the queue overflowed').toBeGreaterThan(0);
      expect(s.lines.taken).toBeGreaterThan(0);
      const gen = generationOf(s.seen);
      const kept = texts.map((t, i) => [i, gen.get(t)] as const).filter(([, g]) => g !== undefined);
      for (let k = 1; k < kept.length; k++) {
        const [i, g] = kept[k]!;
        const [j, h] = kept[k - 1]!;
        const restartBetween = [...restartsAt].some((r) => r > j && r <= i);
        if (restartBetween) expect(g!).toBeGreaterThan(h!);
        else expect(g!).toBeGreaterThanOrEqual(h!);
      }
    } finally {
      await stop(s);
    }
  });

  it('a trace recorded with the direct path has every line and replays to the snapshot of the live run', async () => {
    const dir = join(base, `trace${++dirs}`);
    mkdirSync(dir);
    const config = configDir();
    const tracePath = join(dir, 'run.jsonl');
    const traced = configSchema.parse({ ...config, trace: { ...config.trace, path: tracePath } });
    const inspection = await attachInspectors(traced, silentLogger);
    // socket.line events the statecharts saw (the chart path), after the first load served.
    let chartLines = 0;
    let served = false;
    const count = (ev: InspectionEvent): void => {
      if (served && ev.type === '@xstate.event' && ev.event.type === 'socket.line') chartLines++;
    };
    const daemon = await startDaemon({
      config: traced,
      logger: silentLogger,
      inspectors: [...inspection.inspectors, count],
      ...(inspection.recordSourceEvent ? { recordSourceEvent: inspection.recordSourceEvent } : {}),
    });
    inspection.started(daemon.root);
    const ptp = () => daemon.root.system.get('ptp') as AnyActorRef;
    const snap = () =>
      ptp().getSnapshot() as { value: unknown; context: { loads: number; generation?: PtpGeneration } };
    const serving = () => typeof snap().value === 'object' && 'serving' in (snap().value as object);
    await until('serving', () => ptp() !== undefined && serving());
    served = true;
    const sock = await connectUnix(traced.ptp.socketPath);
    const parsed = () => {
      const st = snap().context.generation?.parser.stats;
      return st ? st.parsed + st.ignored : 0;
    };
    await write(sock, demoLines.map((l) => `${l}\n`).join(''));
    await until('lines.txt parsed', () => parsed() === demoLines.length);
    await write(sock, 'CMD RESTART\n');
    await until('load 2', () => snap().context.loads === 2 && serving());
    const more = Array.from({ length: 50 }, (_, i) => `${poolLine(i, (i % 9) * 30 - 120, i + 1)}\n`).join('');
    await write(sock, more);
    await until('the rest parsed', () => parsed() === 50);
    sock.destroy();
    daemon.root.send({ type: 'shutdown' });
    expect(await daemon.done).toBe(0);
    await inspection.stop();
    // The lines went the direct path: the statecharts saw none of them.
    expect(chartLines).toBe(0);
    const { header, records } = parseTrace(readFileSync(tracePath, 'utf8'));
    const recordedLines = records
      .filter((r) => r.event.type === 'socket.line')
      .map((r) => String((r.event as unknown as { lines: unknown }).lines))
      .join('');
    expect(recordedLines).toBe(demoLines.map((l) => `${l}\n`).join('') + more);
    const live = JSON.parse(readFileSync(`${tracePath}.snapshot.json`, 'utf8')) as Record<string, unknown>;
    expect(live['ptp']).toEqual({ serving: 'live' });
    const result = replayTrace(header, records);
    expect(result.snapshot).toEqual(live);
  });
});
