// The inspector over the recorded synce4l / phc2sys trace (test/traces/ptp-synce-discipline.jsonl): the clock bank's
// charts are in the actor table with their machine ids, under the sidecar's clock bank, with their charts and their state history
// (what `syncvisor replay FILE --inspect` serves).
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createInspectionRecorder } from '../../../src/actors/observe/inspector.js';
import { ReplayClock, replayTrace } from '../../../src/actors/observe/replay.js';
import { InspectorStore, type InspectorState } from '../../../src/io/observe/inspectorStore.js';
import { parseTrace } from '../../../src/io/observe/traceFormat.js';

const traces = resolve(import.meta.dirname, '..', '..', 'traces');

describe('inspector: the clock bank charts of a recorded ptp trace', () => {
  it('lists synceDevice and osClockDiscipline actors with their machine ids, parents, charts and states', () => {
    const { header, records } = parseTrace(readFileSync(join(traces, 'ptp-synce-discipline.jsonl'), 'utf8'));
    const clock = new ReplayClock();
    const store = new InspectorStore({ maxRecords: 100_000, now: () => clock.now(), mode: 'replay', source: 'x' });
    // The table as the page shows it at the recorded shutdown (before the generation retires its clocks).
    let atShutdown: InspectorState | undefined;
    store.subscribe((r) => {
      if (!atShutdown && r.kind === 'event' && r.type === 'shutdown') atShutdown = store.state();
    });
    replayTrace(header, records, { clock, inspect: createInspectionRecorder(store, { rawLines: true }) });
    expect(atShutdown, 'the shutdown was seen').toBeDefined();
    const state = atShutdown!;
    const bySystemId = (id: string) => state.actors.find((a) => a.systemId === id);
    const sidecar = bySystemId('ptp')!;
    expect(sidecar).toMatchObject({ machine: 'ptpSidecar', status: 'active' });
    // The clock bank (invoked by the sidecar as `clocks`) is the parent of every clock chart, as of the clocks.
    const bank = state.actors.find((a) => a.actorId === 'clocks' && a.parentId === sidecar.id)!;
    expect(bank, 'the clock bank').toBeDefined();
    expect(bySystemId('ptp.clock.synce4l/ens7f0')).toMatchObject({ machine: 'clockState', parentId: bank.id });

    const device = bySystemId('ptp.clock.synce4l-device/synce1');
    expect(device).toMatchObject({ machine: 'synceDevice', status: 'active', value: 'FREERUN', parentId: bank.id });
    expect(device!.context).toMatchObject({ device: 'synce1', ports: { ens7f0: 'FREERUN', ens7f1: 'FREERUN' } });
    const discipline = bySystemId('ptp.clock.phc2sys-discipline/bc-os');
    expect(discipline).toMatchObject({
      machine: 'osClockDiscipline',
      status: 'active',
      value: 'Idle',
      parentId: bank.id,
    });

    // A clock is active from its creation to its retirement: no record marks a live clock stopped on the way (its
    // xstate.init names the sidecar, the bank's snapshot then lists it: the sidecar's next snapshot, which does not,
    // must not count as the clock leaving). Time travel folds these records, so a stray one hides the clock.
    const clockIds = new Set(state.actors.filter((a) => a.systemId?.startsWith('ptp.clock.')).map((a) => a.id));
    expect(clockIds.size).toBeGreaterThanOrEqual(6);
    const stoppedEarly = state.events.filter(
      (r) => (r.kind === 'stopped' || (r.kind === 'snapshot' && r.status !== 'active')) && clockIds.has(r.id),
    );
    expect(stoppedEarly).toEqual([]);

    // Their charts, drawn from the machines.
    const keys = (m: string) => (state.charts[m] as { states: Array<{ key: string }> }).states.map((s) => s.key);
    expect(keys('synceDevice')).toEqual(['FREERUN', 'LOCKED', 'HOLDOVER', 'retired']);
    expect(keys('osClockDiscipline')).toEqual(['Idle', 'Selecting', 'SourceSelected', 'Undisciplined', 'retired']);

    // Time travel has every state they went through (a snapshot record also comes for a context change alone).
    const values = (id: string) =>
      state.events
        .flatMap((r) => (r.kind === 'snapshot' && r.id === id && r.value !== undefined ? [r.value] : []))
        .filter((v, i, all) => i === 0 || v !== all[i - 1]);
    expect(values(device!.id)).toEqual(['FREERUN', 'LOCKED', 'HOLDOVER', 'FREERUN']);
    expect(values(discipline!.id)).toEqual(['Selecting', 'SourceSelected', 'Undisciplined', 'Idle']);
  });
});
