// Every statechart of src/machines is known to `syncvisor replay` and the inspector by its machine id: a machine that
// is added without a registry entry fails here (found by walking the exports of every file under src/machines, and
// cross-checked against the generated docs/machines pages), and a machine's version is known wherever it runs, also
// when a derived actor (the clock bank) creates it.
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createMachine, type AnyStateMachine } from 'xstate';
import { isStateMachine } from '../../../src/actors/observe/machineChart.js';
import { machineVersions } from '../../../src/actors/observe/machineVersions.js';
import { replayTrace } from '../../../src/actors/observe/replay.js';
import { currentMachineVersions, notStandalone, replayRegistry } from '../../../src/actors/observe/replayRegistry.js';
import { parseTrace, traceFormat, traceVersion } from '../../../src/io/observe/traceFormat.js';
import { ptpSidecarMachine } from '../../../src/machines/ptp/ptpSidecar.js';

const repo = resolve(import.meta.dirname, '..', '..', '..');
const machinesDir = join(repo, 'src', 'machines');

/** Every state machine exported by a .ts file under src/machines, whatever its export name. */
async function exportedMachines(): Promise<Array<{ file: string; name: string; machine: AnyStateMachine }>> {
  const files = (readdirSync(machinesDir, { recursive: true }) as string[])
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
    .sort();
  const out: Array<{ file: string; name: string; machine: AnyStateMachine }> = [];
  for (const f of files) {
    const mod = (await import(pathToFileURL(join(machinesDir, f)).href)) as Record<string, unknown>;
    for (const [name, value] of Object.entries(mod))
      if (isStateMachine(value)) out.push({ file: f, name, machine: value });
  }
  return out;
}

/** What the registry does not know of these machines, one line each (empty when it knows all). */
function unknownMachines(machines: Array<{ file: string; name: string; machine: AnyStateMachine }>): string[] {
  const versions = currentMachineVersions();
  const out: string[] = [];
  for (const { file, name, machine } of machines) {
    const id = machine.id;
    if (id in notStandalone) {
      if (versions[id] === undefined)
        out.push(`${file} ${name} (${id}): not standalone, but no registered machine runs it`);
      continue;
    }
    const entry = replayRegistry[id];
    if (!entry) out.push(`${file} ${name} (${id}): not in src/actors/observe/replayRegistry.ts`);
    else if (entry.machine.id !== id || entry.machine.root !== machine.root)
      out.push(`${file} ${name} (${id}): the registry's "${id}" is another machine`);
  }
  return out;
}

describe('the replay registry knows every machine', () => {
  it('every machine exported under src/machines is registered by its id (or named as not standalone)', async () => {
    const machines = await exportedMachines();
    // The walk finds the machines (a broken walk must not pass vacuously).
    expect(machines.map((m) => m.machine.id)).toEqual(
      expect.arrayContaining([
        'supervisor',
        'portsync',
        'ptpSidecar',
        'clockState',
        'synceDevice',
        'osClockDiscipline',
      ]),
    );
    expect(unknownMachines(machines)).toEqual([]);
  });

  it('the check names a machine the registry does not know (e.g. a new ptp machine)', async () => {
    const extra = createMachine({ id: 'realtimeOwner', initial: 'a', states: { a: {} } });
    const lines = unknownMachines([
      ...(await exportedMachines()),
      { file: 'ptp/realtimeOwner.ts', name: 'x', machine: extra },
    ]);
    expect(lines).toEqual(['ptp/realtimeOwner.ts x (realtimeOwner): not in src/actors/observe/replayRegistry.ts']);
  });

  it('every generated docs/machines page is a registered machine, and every registered machine has a page', () => {
    const index = readFileSync(join(repo, 'docs', 'machines', 'README.md'), 'utf8');
    const pages = [...index.matchAll(/^\| \[(\w+)\]\(\1\.md\)/gm)].map((m) => m[1]!);
    expect(pages.length).toBeGreaterThanOrEqual(13);
    const known = [...Object.keys(replayRegistry), ...Object.keys(notStandalone)].sort();
    expect(pages.sort()).toEqual(known);
  });

  it('each key is its machine id, each exception is a machine a registered one runs', () => {
    for (const [key, entry] of Object.entries(replayRegistry)) expect(entry.machine.id, key).toBe(key);
    const versions = currentMachineVersions();
    for (const id of Object.keys(notStandalone)) expect(versions[id], id).toMatch(/^[0-9a-f]{16}$/);
    for (const id of Object.keys(replayRegistry)) expect(versions[id], id).toMatch(/^[0-9a-f]{16}$/);
  });

  it("the sidecar's versions include the machines its clock bank creates (what a ptp trace header carries)", () => {
    // As the daemon and the replay run it: with the real clock bank (src/daemon/ptp.ts provides the same one).
    const sidecar = ptpSidecarMachine.provide({ actors: replayRegistry.ptpSidecar!.actors } as never);
    const v = machineVersions([sidecar]);
    for (const id of ['ptpSidecar', 'clockState', 'synceDevice', 'osClockDiscipline'])
      expect(v[id], id).toBe(currentMachineVersions()[id]);
  });
});

describe('a trace of one machine replays it by name', () => {
  const trace = (machine: string, input: unknown, events: Array<[number, unknown]>) =>
    parseTrace(
      [
        JSON.stringify({
          format: traceFormat,
          version: traceVersion,
          configHash: 'test',
          machineVersions: currentMachineVersions(),
          machines: [
            { systemId: 'supervisor', machine: 'supervisor' },
            { systemId: machine, machine, input },
          ],
          supervisor: {
            maxRestarts: 3,
            periodMs: 5000,
            backoff: { initialMs: 100, factor: 2, maxMs: 1000 },
            shutdownTimeoutMs: 1000,
          },
        }),
        ...events.map(([t, event]) => JSON.stringify({ t, to: machine, event })),
      ].join('\n'),
    );

  it('synceDevice: LOCKED while a port is, HOLDOVER when it holds over, FREERUN when none holds', () => {
    const port = (t: number, p: string, state: string) =>
      [t, { type: 'synce.portState', device: 'synce1', port: p, profile: 'synce', state }] as [number, unknown];
    const { header, records } = trace('synceDevice', { device: 'synce1', profile: 'synce' }, [
      port(10, 'ens7f0', 'LOCKED'),
      port(20, 'ens7f0', 'HOLDOVER'),
      port(30, 'ens7f0', 'FREERUN'),
    ]);
    const { steps, snapshot } = replayTrace(header, records);
    const states = steps.filter((s) => s.kind === 'state' && s.actor === 'synceDevice').map((s) => s.text);
    expect(states).toEqual(['"FREERUN"', '"LOCKED"', '"HOLDOVER"', '"FREERUN"']);
    expect(snapshot.synceDevice).toBe('FREERUN');
  });

  it('osClockDiscipline: a NIC selected without CLOCK_REALTIME turns Undisciplined after the settle time', () => {
    const { header, records } = trace('osClockDiscipline', { profile: 'bc' }, [
      [10, { type: 'discipline.reconfiguring' }],
      [10, { type: 'discipline.sourceSelected' }],
    ]);
    const { steps, snapshot } = replayTrace(header, records, { until: 500 });
    const states = steps.filter((s) => s.kind === 'state' && s.actor === 'osClockDiscipline');
    expect(states.map((s) => s.text)).toEqual(['"Idle"', '"Selecting"', '"SourceSelected"', '"Undisciplined"']);
    expect(states.at(-1)!.t).toBeCloseTo(210, 3); // settle: 200 ms on the simulated clock
    expect(snapshot.osClockDiscipline).toBe('Undisciplined');
  });
});
