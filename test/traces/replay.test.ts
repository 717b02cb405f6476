// Traces recorded from real runs (scripts/record-traces.ts) replay to the snapshot the live daemon had just before
// its shutdown (FILE.snapshot.json, written by the daemon itself).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseTrace } from '../../src/io/observe/traceFormat.js';
import { replayTrace } from '../../src/actors/observe/replay.js';

const dir = import.meta.dirname;
const traces = readdirSync(dir).filter((f) => f.endsWith('.jsonl'));

function replay(name: string, until?: number) {
  const { header, records } = parseTrace(readFileSync(join(dir, name), 'utf8'));
  return replayTrace(header, records, until === undefined ? {} : { until });
}

describe('recorded traces', () => {
  it('there are recorded traces to replay', () => {
    expect(traces.length).toBeGreaterThanOrEqual(2);
  });

  for (const name of traces) {
    it(`${name} replays to the live final snapshot`, () => {
      const expected = JSON.parse(readFileSync(join(dir, `${name}.snapshot.json`), 'utf8')) as unknown;
      const started = performance.now();
      const result = replay(name);
      // Reported, not asserted: speed is a benchmark's business.
      console.log(`${name}: ${result.delivered} events replayed in ${(performance.now() - started).toFixed(0)} ms`);
      expect(result.snapshot).toEqual(expected);
    });
  }

  it('holdover expiry happens on the simulated clock, the profile timeout after the fault', () => {
    const { steps } = replay('ptp-holdover-expiry.jsonl');
    const clock = steps.filter((s) => s.kind === 'state' && s.actor === 'ptp.clock.ptp4l/ens1f0');
    const holdover = clock.find((s) => s.text === '{"HOLDOVER":"sidecarTimer"}')!;
    const freerun = clock.filter((s) => s.text === '"FREERUN"').at(-1)!;
    expect(freerun.t - holdover.t).toBeCloseTo(1_000, 3); // holdOverTimeout: 1 s in that recording
  });

  it('a synce4l device goes LOCKED → HOLDOVER → FREERUN by its ports; phc2sys losing CLOCK_REALTIME makes the OS clock FREERUN', () => {
    const { header, records } = parseTrace(readFileSync(join(dir, 'ptp-synce-discipline.jsonl'), 'utf8'));
    // The sidecar's OS clock of the boundary-clock profile, at every sidecar snapshot.
    const osClock: Array<{ t: number; state: unknown }> = [];
    const { steps, snapshot } = replayTrace(header, records, {
      onSnapshot: (s) => {
        if (s.machine !== 'ptpSidecar') return;
        const state = (s.snapshot.context as { osClock?: Record<string, string> }).osClock?.['bc-os'];
        if (state !== undefined && osClock.at(-1)?.state !== state) osClock.push({ t: s.t, state });
      },
    });
    const of = (actor: string) => steps.filter((s) => s.kind === 'state' && s.actor === actor);
    expect(of('ptp.clock.synce4l-device/synce1').map((s) => s.text)).toEqual([
      '"FREERUN"',
      '"LOCKED"',
      '"HOLDOVER"',
      '"FREERUN"',
      '"retired"',
    ]);
    // The port that went FREERUN while the other was LOCKED did not move the device.
    expect(of('ptp.clock.synce4l/ens7f1').map((s) => s.text)).toEqual(['"FREERUN"', '"retired"']);
    const discipline = of('ptp.clock.phc2sys-discipline/bc-os');
    expect(discipline.map((s) => s.text)).toEqual([
      '"Idle"',
      '"Selecting"',
      '"SourceSelected"',
      '"Undisciplined"',
      '"Idle"',
      '"retired"',
    ]);
    const selected = discipline.find((s) => s.text === '"SourceSelected"')!;
    const lost = discipline.find((s) => s.text === '"Undisciplined"')!;
    expect(lost.t - selected.t).toBeCloseTo(200, 3); // the settle time, on the simulated clock
    // OS clock: FREERUN at phc2sys's first line, LOCKED with ptp4l and phc2sys, FREERUN from the loss, LOCKED again
    // after the CLOCK_REALTIME sample.
    expect(osClock.map((o) => o.state)).toEqual(['FREERUN', 'LOCKED', 'FREERUN', 'LOCKED']);
    expect(osClock[2]!.t).toBe(lost.t);
    expect(snapshot['ptp.clock.synce4l-device/synce1']).toBe('FREERUN');
    expect(snapshot['ptp.clock.phc2sys-discipline/bc-os']).toBe('Idle');
  });

  it('--until stops part-way: before the restart the first generation is serving', () => {
    const { steps } = replay('ptp-restart-under-load.jsonl');
    const restart = steps.find((s) => s.kind === 'state' && s.actor === 'ptp' && s.text === '"loading"' && s.t > 0)!;
    const early = replay('ptp-restart-under-load.jsonl', restart.t - 0.001);
    expect(early.snapshot.ptp).toEqual({ serving: 'live' });
    expect(early.snapshot.supervisor).toBe('running');
  });

  it('portsync warm start by timeout: the guard fires warmRestart.timeoutSecs (2 s) after the sync began', () => {
    const { steps } = replay('portsync-warm-timeout.jsonl');
    const w = steps.filter((s) => s.kind === 'state' && s.actor === 'warmRestart');
    const began = w.find((s) => s.text.includes('"decision":"initialSyncInProgress"'))!;
    const done = w.find((s) => s.text.includes('"decision":"initialSyncComplete"'))!;
    expect(done.t - began.t).toBeCloseTo(2_000, 3);
  });

  it('portsync warm start by EOIU completes without waiting for the guard', () => {
    const { steps } = replay('portsync-warm-eoiu.jsonl');
    const w = steps.filter((s) => s.kind === 'state' && s.actor === 'warmRestart');
    const began = w.find((s) => s.text.includes('"decision":"initialSyncInProgress"'))!;
    const done = w.find((s) => s.text.includes('"decision":"initialSyncComplete"'))!;
    expect(done.t - began.t).toBeLessThan(1_000);
    expect(steps.some((s) => s.actor === 'eoiuDetector' && s.text === '"detected"')).toBe(true);
  });

  it('portsync cold start opens the APP_DB gate at once and never reconciles', () => {
    const { steps, snapshot } = replay('portsync-cold.jsonl');
    expect(steps.filter((s) => s.actor === 'appDbGate' && s.text.includes('reconciling'))).toEqual([]);
    expect(snapshot.appDbGate).toBe('open');
  });
});

describe('traces recorded in-process (no root: scripted netlink, real Redis and state file)', () => {
  it('a warm restart reconciles APP_DB and completes by EOIU; the header carries the machine versions', () => {
    const { header } = parseTrace(readFileSync(join(dir, 'portsync-inproc-warm-eoiu.jsonl'), 'utf8'));
    expect(Object.keys(header.machineVersions ?? {}).sort()).toEqual(
      ['appDbGate', 'childLifecycle', 'eoiuDetector', 'portsync', 'stateFile', 'supervisor', 'warmRestart'].sort(),
    );
    const { steps, snapshot } = replay('portsync-inproc-warm-eoiu.jsonl');
    const gate = steps.filter((s) => s.kind === 'state' && s.actor === 'appDbGate').map((s) => s.text);
    expect(gate).toEqual(expect.arrayContaining(['{"reconciling":"writing"}', '"open"']));
    expect(steps.some((s) => s.actor === 'eoiuDetector' && s.text === '"detected"')).toBe(true);
    // warmRestart is the parent of the three above and runs on: its decision region ends in `complete`.
    expect(snapshot.warmRestart).toMatchObject({ running: { decision: 'complete', eoiu: 'detected' } });
  });
});
