// The ptp service composed for real (ptpChildSpecs under the supervisor machine, a real Unix socket, real files),
// driven the way a hostile or careless local writer did: 100,000 distinct interface and process names, and a CMD
// RESTART with thousands of (configured) clocks. Clocks exist only for configured interfaces and processes; the rest
// is counted; a restart retires every clock of the old generation.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Socket } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromPromise, type AnyActorRef, type AnyStateMachine, type PromiseActorLogic } from 'xstate';
import { configSchema } from '../../src/config/schema.js';
import { MetricsHub } from '../../src/io/http/metricsHub.js';
import type { ChildSpec } from '../../src/machines/supervisor/spec.js';
import {
  connectUnix,
  seriesValue,
  sidecarOf,
  startPtpService,
  stopPtpService,
  until as untilWithin,
  type PtpRoot,
} from '../support/ptpService.js';

const dir = mkdtempSync(join(tmpdir(), 'syncvisor-ptp-hostile-'));
const socketPath = join(dir, 'run', 'events.sock');
const hub = new MetricsHub({ defaultMetrics: false });
/** Configured interfaces of ts2phc.0.config: legitimate clocks, many of them. */
const IFACES = 2_000;
let root: PtpRoot | undefined;
let client: Socket | undefined;

const until = <T>(what: string, f: () => Promise<T | undefined | false> | T | undefined | false, ms = 20_000) =>
  untilWithin(what, f, ms);
const value = async (series: string) => seriesValue(await hub.text(), series);
const sidecar = () => sidecarOf(root!);
/** The clock actors of the serving generation (held by the clock bank). */
const clocks = (): AnyActorRef[] => {
  const bank = (sidecar().getSnapshot() as { children: Record<string, AnyActorRef | undefined> }).children['clocks'];
  return Object.values((bank?.getSnapshot() as { children?: Record<string, AnyActorRef> } | undefined)?.children ?? {});
};
const loads = () => (sidecar().getSnapshot() as { context: { loads: number } }).context.loads;
const serving = () => {
  const v = (sidecar().getSnapshot() as { value: unknown }).value;
  return typeof v === 'object' && v !== null && 'serving' in v;
};
const send = (text: string) => new Promise<void>((r) => client!.write(text, () => r()));

beforeAll(async () => {
  writeFileSync(
    join(dir, 'node1'),
    JSON.stringify([{ name: 'gm', ts2PhcOpts: '-s generic', ptpClockThreshold: { holdOverTimeout: 5 } }]),
  );
  const sections = Array.from({ length: IFACES }, (_, i) => `[eth${i}]\nts2phc.extts_polarity rising\n`).join('');
  writeFileSync(join(dir, 'ts2phc.0.config'), `#profile: gm\n[global]\nuse_syslog 0\n${sections}`);
  const config = configSchema.parse({
    services: ['ptp'],
    ptp: { socketPath, configDir: dir, profilePath: dir, nodeName: 'node1' },
  });
  root = await startPtpService(config, hub, { shutdownTimeoutMs: 5_000 });
  await until('serving', () => serving());
  client = await connectUnix(socketPath);
});

afterAll(async () => {
  client?.destroy();
  await stopPtpService(root, 10_000);
  rmSync(dir, { recursive: true, force: true });
});

describe('ptp under hostile input over the real socket', () => {
  it('100,000 distinct interface / process names: no clock, no series, each line counted; memory bounded', async () => {
    const seriesBefore = (await hub.text()).split('\n').length;
    const heapBefore = process.memoryUsage().heapUsed;
    const batch: string[] = [];
    for (let i = 0; i < 100_000; i++) {
      batch.push(
        i % 2 === 0
          ? `ts2phc[1.0]: [ts2phc.0.config] evil${i} master offset 1 s2 freq 1`
          : `p${i}[1.0]:[ts2phc.0.config] eth1 T-GM-STATUS s2`,
      );
      if (batch.length === 5_000) await send(`${batch.splice(0).join('\n')}\n`);
    }
    await until(
      'every hostile line counted',
      async () => (await value('syncvisor_ptp_rejected_lines_total{reason="unknownClock"}')) === 100_000,
    );
    expect(clocks().length).toBe(0); // no seeds in this config (no ptp4l SLAVE port) and nothing configured named
    expect((await hub.text()).split('\n').length).toBe(seriesBefore + 1); // the rejected counter's one series
    // Before: 888 MB for 100,000 names. Now the lines leave nothing behind but the count.
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(64 * 1024 * 1024);
  });

  it(`a CMD RESTART with ${IFACES * 2} clocks retires every one of them and serves again`, async () => {
    const lines: string[] = [];
    for (let i = 0; i < IFACES; i++) {
      lines.push(`ts2phc[1.0]: [ts2phc.0.config] eth${i} master offset 1 s2 freq 1`);
      lines.push(`GM[1.0]:[ts2phc.0.config] eth${i} T-GM-STATUS s2`);
    }
    await send(`${lines.join('\n')}\n`);
    await until(`${IFACES * 2} clocks`, () => clocks().length === IFACES * 2);
    await until('all locked', () => clocks().every((c) => (c.getSnapshot() as { value: unknown }).value === 'LOCKED'));
    const old = clocks();
    const before = loads();
    await send('CMD RESTART\n');
    await until('served again', () => loads() > before && serving());
    // Every clock of the old generation reached its final state (stopped, timers with it); none is registered.
    expect(old.filter((c) => c.getSnapshot().status !== 'done')).toEqual([]);
    expect(root!.system.get('ptp.clock.ts2phc/eth0')).toBeUndefined();
    expect(clocks().length).toBe(0);
    await send('ts2phc[1.0]: [ts2phc.0.config] eth7 master offset 1 s2 freq 1\n');
    await until('a clock of the new generation', () => clocks().length === 1);
  });
});

describe('backpressure while loading (the composition’s socketServer and sidecar)', () => {
  it('a full load queue pauses the socket; serving resumes it; drops are counted', async () => {
    const d2 = mkdtempSync(join(tmpdir(), 'syncvisor-ptp-bp-'));
    const path = join(d2, 'events.sock');
    const hub2 = new MetricsHub({ defaultMetrics: false });
    const config = configSchema.parse({
      services: ['ptp'],
      ptp: { socketPath: path, configDir: d2, profilePath: d2, nodeName: 'node1', queueMaxBytes: 65_536 },
    });
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => (release = r));
    const holdLoader = (specs: ChildSpec[]) =>
      specs.map((s) => {
        if (s.id !== 'ptp') return s;
        const logic = s.logic as AnyStateMachine;
        const real = logic.implementations.actors['loadGeneration'] as PromiseActorLogic<unknown, { load: number }>;
        // The real loader, held until the test releases it: the sidecar stays in `loading` meanwhile.
        const held = fromPromise<unknown, { load: number }>(async (args) => {
          await gate;
          return (real.config as (a: typeof args) => Promise<unknown>)(args);
        });
        return { ...s, logic: logic.provide({ actors: { loadGeneration: held } }) };
      });
    const sup = await startPtpService(config, hub2, { shutdownTimeoutMs: 5_000, mapSpecs: holdLoader });
    try {
      const c = await connectUnix(path);
      const line = `ptp4l[1.0]: [ptp4l.0.config] master offset 1 s2 freq 1 path delay 1 ${'x'.repeat(60)}\n`;
      // ~10 MB offered at once; the client buffers what the socket does not take.
      c.write(line.repeat(100_000));
      const ptp = sidecarOf(sup);
      const ctx = () => (ptp.getSnapshot() as { context: { queueBytes: number; queueDropped: number } }).context;
      await until('queue full', () => ctx().queueBytes > 60_000);
      const queued = ctx().queueBytes;
      await new Promise((r) => setTimeout(r, 300));
      expect(ctx().queueBytes).toBe(queued); // bounded: nothing more is buffered while paused
      expect(ctx().queueBytes).toBeLessThanOrEqual(65_536);
      // Backpressure reached the writer: most of its 10 MB is still unsent, waiting in its own buffer.
      expect(c.writableLength, 'the sidecar paused reading').toBeGreaterThan(5_000_000);
      const dropped = seriesValue(await hub2.text(), 'syncvisor_ptp_queue_dropped_lines_total');
      expect(dropped).toBe(ctx().queueDropped);
      release();
      await until('serving', () => {
        const v = (ptp.getSnapshot() as { value: unknown }).value;
        return typeof v === 'object' && v !== null && 'serving' in v;
      });
      // Resumed: the writer drains.
      await new Promise<void>((resolve) => c.once('drain', () => resolve()));
      c.destroy();
    } finally {
      await stopPtpService(sup, 10_000);
      rmSync(d2, { recursive: true, force: true });
    }
  });
});
