// Recorded traces meet the model: every trace in test/traces is replayed through the per-state checks of
// test/support/traceChecks.ts (the machine's own pure step recomputed and compared, invariants over snapshots and
// the effects the inert I/O recorded), a deliberately broken invariant is caught on a recorded trace with its line,
// a failing model path is written as a trace that the replay opens, and a machine change is named.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createMachine } from 'xstate';
import { machineVersions } from '../../src/actors/observe/machineVersions.js';
import { parseTrace } from '../../src/io/observe/traceFormat.js';
import { replayTrace } from '../../src/actors/observe/replay.js';
import { versionWarnings } from '../../src/cli/replay.js';
import { currentMachineVersions } from '../../src/actors/observe/replayRegistry.js';
import { appDbGateMachine } from '../../src/machines/warmRestart/appDbGate.js';
import { checkTrace, traceChecks, type MachineChecks } from '../support/traceChecks.js';
import { replay, shortestPaths, type ModelSpec } from '../support/modelTesting.js';

const dir = import.meta.dirname;
const repo = resolve(dir, '..', '..');
const traces = readdirSync(dir).filter((f) => f.endsWith('.jsonl'));
const load = (name: string) => parseTrace(readFileSync(join(dir, name), 'utf8'));
const scratch = mkdtempSync(join(tmpdir(), 'syncvisor-model-trace-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('recorded traces through the model checks', () => {
  for (const name of traces) {
    it(`${name}: every snapshot of every machine passes the per-state checks`, () => {
      const { header, records } = load(name);
      const result = checkTrace(header, records);
      expect(result.failures).toEqual([]);
      // Reported, not asserted beyond "something was checked": the counts depend on the recording.
      console.log(
        `${name}: checked ${JSON.stringify(result.checked)}; recomputed ${JSON.stringify(result.recomputed)}`,
      );
      expect(Object.values(result.checked).reduce((a, b) => a + b, 0)).toBeGreaterThan(10);
      if (name.startsWith('portsync-')) {
        for (const m of ['portsync', 'appDbGate', 'eoiuDetector', 'stateFile'])
          expect(result.recomputed[m], `${m} recomputed`).toBeGreaterThan(0);
      }
      if (name === 'ptp-synce-discipline.jsonl') {
        for (const m of ['synceDevice', 'osClockDiscipline', 'clockState'])
          expect(result.recomputed[m], `${m} recomputed`).toBeGreaterThan(0);
      }
      // Every machine that ran in the replay has its version in the header (also those a derived actor creates).
      expect(Object.keys(result.checked).filter((m) => header.machineVersions?.[m] === undefined)).toEqual([]);
    });
    it(`${name}: was recorded with the machines of this build`, () => {
      const { header } = load(name);
      const changed = versionWarnings(header);
      expect(
        changed,
        `re-record it (npm run build, then npx tsx scripts/record-traces.ts; see the script for the name): ${changed.join('; ')}`,
      ).toEqual([]);
    });
  }

  it('a deliberately broken invariant is caught on a recorded trace, with the line and the machine', () => {
    const { header, records } = load('portsync-warm-eoiu.jsonl');
    const broken: Record<string, MachineChecks> = {
      ...traceChecks,
      appDbGate: {
        ...traceChecks.appDbGate,
        invariants: [
          ...(traceChecks.appDbGate!.invariants ?? []),
          {
            name: 'the gate never opens (deliberately wrong)',
            check: ({ snapshot }) => {
              if (snapshot.matches('open')) throw new Error('the gate is open');
            },
          },
        ],
      },
    };
    const result = checkTrace(header, records, broken);
    expect(result.failures.length).toBeGreaterThan(0);
    expect(result.failures[0]).toMatch(
      /^line \d+ \(t=[\d.]+\), appDbGate \[appDbGate\] after .+: invariant "the gate never opens \(deliberately wrong\)" broken: the gate is open$/,
    );
  });

  it('an effect on the wrong state is caught: APP_DB written outside reconciling.writing', () => {
    const { header, records } = load('portsync-warm-eoiu.jsonl');
    // The gate asks the Redis owner (redisTables, an inert recording stub in a replay) to read APP_DB; a rule that
    // wants that read in `writing` is deliberately wrong: the trace reads APP_DB in `reading`.
    const wrong: Record<string, MachineChecks> = {
      appDbGate: {
        invariants: [
          {
            name: 'APP_DB is read only in reconciling.writing (deliberately wrong)',
            check: (step) => {
              const reads = step.newEffects.filter(
                (e) =>
                  e.src === 'redisTables' &&
                  e.kind === 'receive' &&
                  (e.data as { type?: string } | undefined)?.type === 'redis.readAppDb',
              );
              if (reads.length > 0 && !step.snapshot.matches({ reconciling: 'writing' }))
                throw new Error(`readAppDb started in ${JSON.stringify(step.snapshot.value)}`);
            },
          },
        ],
      },
    };
    const result = checkTrace(header, records, wrong);
    expect(result.failures.some((f) => f.includes('readAppDb started in {"reconciling":"reading"}'))).toBe(true);
  });
});

describe('a failing model path becomes a trace', () => {
  it('is written beside the failure message, and syncvisor replay runs it to the failing state', () => {
    process.env.MODEL_TRACE_DIR = scratch;
    const spec: ModelSpec<typeof appDbGateMachine> = {
      machine: appDbGateMachine,
      input: { retryMs: 1000 },
      events: {
        'appDb.write': [{ type: 'appDb.write', ops: [{ op: 'set', key: 'Ethernet0', fields: { mtu: '9100' } }] }],
        'appDbGate.open': [{ type: 'appDbGate.open', reconcile: false }],
      },
      reset: () => {},
      effects: () => null,
      check: ({ snapshot }) => {
        if (snapshot.matches('open')) throw new Error('deliberately broken: open is not allowed');
      },
    };
    const path = shortestPaths(spec)
      .filter((p) => p.state.matches('open'))
      .sort((x, y) => y.steps.length - x.steps.length)[0]!;
    expect(path, 'a path to open').toBeDefined();
    let message = '';
    try {
      replay(spec, path);
    } catch (err) {
      message = (err as Error).message;
    } finally {
      delete process.env.MODEL_TRACE_DIR;
    }
    expect(message).toContain('deliberately broken');
    const file = /as a trace: syncvisor replay (\S+) --inspect/.exec(message)?.[1];
    expect(file, message).toBeDefined();
    const { header, records } = parseTrace(readFileSync(file!, 'utf8'));
    expect(records.map((r) => r.event.type)).toEqual(path.steps.slice(1).map((s) => s.event.type));
    expect(header.machineVersions?.appDbGate).toBe(currentMachineVersions().appDbGate);
    const result = replayTrace(header, records);
    expect(result.snapshot.appDbGate).toBe('open');
    // The CLI opens it too (the built one: npm run build).
    const cli = spawnSync(process.execPath, [join(repo, 'bin/syncvisor.js'), 'replay', file!], { encoding: 'utf8' });
    expect(cli.status, cli.stderr).toBe(0);
    expect(cli.stdout).toMatch(/appDbGate\s+"open"/);
  });
});

describe('machine versions', () => {
  it('a trace recorded with another version of a machine is named, a matching one is not', () => {
    const { header } = load('portsync-warm-eoiu.jsonl');
    const current = currentMachineVersions();
    expect(versionWarnings({ ...header, machineVersions: { ...current } })).toEqual([]);
    const old = { ...header, machineVersions: { ...current, appDbGate: '0123456789abcdef' } };
    expect(versionWarnings(old)).toEqual([
      `machine appDbGate changed since the trace was recorded (recorded 0123456789abcdef, now ${current.appDbGate})`,
    ]);
    const file = join(scratch, 'old.jsonl');
    const text = readFileSync(join(dir, 'portsync-warm-eoiu.jsonl'), 'utf8').split('\n');
    text[0] = JSON.stringify(old);
    writeFileSync(file, text.join('\n'));
    const cli = spawnSync(process.execPath, [join(repo, 'bin/syncvisor.js'), 'replay', file], { encoding: 'utf8' });
    expect(cli.status).toBe(0);
    expect(cli.stderr).toContain('machine appDbGate changed since the trace was recorded');
  });

  it('every machine the replay runs has a version, and a structural change changes it', () => {
    const v = currentMachineVersions();
    for (const id of [
      'supervisor',
      'portsync',
      'ptpSidecar',
      'clockState',
      'appDbGate',
      'warmRestart',
      'stateFile',
      'eoiuDetector',
    ])
      expect(v[id], id).toMatch(/^[0-9a-f]{16}$/);
    const one = createMachine({ id: 'x', initial: 'a', states: { a: {}, b: {} } });
    const two = createMachine({ id: 'x', initial: 'a', states: { a: { on: { GO: 'b' } }, b: {} } });
    expect(machineVersions([one]).x).not.toBe(machineVersions([two]).x);
    expect(machineVersions([one.provide({})]).x).toBe(machineVersions([one]).x);
  });
});
