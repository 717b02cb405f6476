// The stateFile machine with the real store actors on a real temp directory, instrumented with the real metrics:
// the files on disk and the /metrics text are what is asserted.
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, describe, expect, it } from 'vitest';
import { createActor, SimulatedClock, waitFor } from 'xstate';
import { createStateFileStore } from '../../../src/actors/warmRestart/stateFileStore.js';
import { stateFileInstrumentation } from '../../../src/actors/warmRestart/instrumentation.js';
import { silentLogger } from '../../../src/io/log.js';
import { loadStateFile, saveStateFile } from '../../../src/io/warmRestart/stateFileStore.js';
import { warmRestartMetrics } from '../../../src/io/warmRestart/metrics.js';
import {
  stateFileMachine,
  type PortRecord,
  type StateFileEmitted,
} from '../../../src/machines/warmRestart/stateFile.js';

const root = mkdtempSync(join(tmpdir(), 'syncvisor-h4-store-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const dayMs = 86_400_000;
const now = 1_750_000_000_000;

function port(name: string, mtu = 9100): PortRecord {
  return { name, adminState: 'up', operState: 'down', flags: 0x1003, mtu, ifindex: 4 };
}

function run(path: string) {
  const registry = new Registry();
  const metrics = warmRestartMetrics(registry);
  const clock = new SimulatedClock();
  const emitted: StateFileEmitted[] = [];
  const machine = stateFileMachine.provide({
    actors: createStateFileStore({ path, maxAgeDays: 7, logger: silentLogger, now: () => now }),
    actions: stateFileInstrumentation({ metrics, logger: silentLogger }),
  });
  const actor = createActor(machine, { clock, input: { debounceMs: 100, retryMs: 1000 } });
  actor.on('*', (e) => emitted.push(e as StateFileEmitted));
  actor.start();
  return { actor, clock, emitted, metricsText: () => registry.metrics() };
}

function caseDir(): string {
  n += 1;
  const d = join(root, `c${n}`);
  mkdirSync(d);
  return d;
}

describe('stateFile machine with the real store', () => {
  it('cold in a missing directory, then saves there after a change, then loads warm on the next run', async () => {
    const path = join(caseDir(), 'missing', 'state.json');
    const a = run(path);
    await waitFor(a.actor, (s) => s.matches('ready'));
    expect(a.emitted).toEqual([{ type: 'stateFile.cold', reason: 'missing' }]);
    a.actor.send({ type: 'stateFile.upsert', port: port('Ethernet0') });
    a.clock.increment(100);
    await waitFor(a.actor, (s) => s.matches('ready') && s.context.saves === 1);
    a.actor.send({ type: 'shutdown' });
    await waitFor(a.actor, (s) => s.status === 'done');
    expect((await loadStateFile(path)).ports).toEqual({ Ethernet0: port('Ethernet0') });

    const b = run(path);
    await waitFor(b.actor, (s) => s.matches('ready'));
    expect(b.emitted[0]).toMatchObject({ type: 'stateFile.loaded', slot: 'current', savedAt: now });
    b.actor.stop();
  });

  it('corrupted current → backup recovery, counted in the metrics', async () => {
    const path = join(caseDir(), 'state.json');
    await saveStateFile(path, { Ethernet0: port('Ethernet0', 1) }, { now: now - dayMs });
    await saveStateFile(path, { Ethernet0: port('Ethernet0', 2) }, { now: now - dayMs });
    writeFileSync(path, readFileSync(path, 'utf8').replace('"mtu":2', '"mtu":3'));
    const a = run(path);
    await waitFor(a.actor, (s) => s.matches('ready'));
    expect(a.emitted[0]).toMatchObject({ type: 'stateFile.loaded', slot: 'backup' });
    const text = await a.metricsText();
    expect(text).toContain('syncvisor_state_load_failures_total{reason="checksum"} 1');
    expect(text).toContain('syncvisor_state_recoveries_total 1');
    a.actor.stop();
  });

  it('both corrupted → cold; stale → deleted and cold', async () => {
    const d = caseDir();
    const path = join(d, 'state.json');
    writeFileSync(path, '{');
    writeFileSync(`${path}.backup`, '{"version":1}');
    const a = run(path);
    await waitFor(a.actor, (s) => s.matches('ready'));
    expect(a.emitted).toEqual([{ type: 'stateFile.cold', reason: 'corrupt' }]);
    const text = await a.metricsText();
    expect(text).toContain('syncvisor_state_load_failures_total{reason="parse"} 1');
    expect(text).toContain('syncvisor_state_load_failures_total{reason="shape"} 1');
    a.actor.stop();

    const stalePath = join(caseDir(), 'state.json');
    await saveStateFile(stalePath, { Ethernet0: port('Ethernet0') }, { now: now - 8 * dayMs });
    const b = run(stalePath);
    await waitFor(b.actor, (s) => s.matches('ready'));
    expect(b.emitted).toEqual([{ type: 'stateFile.cold', reason: 'stale' }]);
    expect(readdirSync(join(stalePath, '..'))).toEqual([]);
    b.actor.stop();
  });

  it('a path below a regular file: saves fail, are counted, and the machine keeps running', async () => {
    const d = caseDir();
    writeFileSync(join(d, 'file'), 'x');
    const a = run(join(d, 'file', 'state.json'));
    await waitFor(a.actor, (s) => s.matches('ready'));
    a.actor.send({ type: 'stateFile.upsert', port: port('Ethernet0') });
    a.clock.increment(100);
    await waitFor(a.actor, (s) => s.matches('saveFailed'));
    a.clock.increment(1000);
    await waitFor(a.actor, (s) => s.matches('saveFailed') && s.context.saveFailures === 2);
    expect(a.actor.getSnapshot().status).toBe('active');
    expect(await a.metricsText()).toContain('syncvisor_state_save_failures_total 2');
    a.actor.send({ type: 'shutdown' });
    await waitFor(a.actor, (s) => s.status === 'done');
    expect(await a.metricsText()).toContain('syncvisor_state_save_failures_total 3');
  });
});
