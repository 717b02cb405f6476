// The real composition leaves nothing unprovided: every actor and action a machine of the daemon names (in its
// chart or its setup) is implemented, and none is still a placeholder of src/machines/provided.ts, down through the
// child machines each one spawns. A machine that names an action nobody provides would otherwise do nothing,
// silently.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { AnyStateMachine } from 'xstate';
import { loadConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/io/log.js';
import { MetricsHub } from '../../src/io/http/metricsHub.js';
import { chartOf, isStateMachine, type ChartNode } from '../../src/actors/observe/machineChart.js';
import { isPlaceholder, providedAction, providedPromise } from '../../src/machines/provided.js';
import { supervisorMachine } from '../../src/machines/supervisor/supervisor.js';
import { portsyncChildSpecs } from '../../src/daemon/portsync.js';
import { ptpChildSpecs } from '../../src/daemon/ptp.js';

const dir = mkdtempSync(join(tmpdir(), 'syncvisor-composition-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function referenced(chart: ChartNode, out = { actors: new Set<string>(), actions: new Set<string>() }) {
  for (const inv of chart.invoke) if (inv.src !== 'inline') out.actors.add(inv.src);
  for (const a of [...chart.entry, ...chart.exit]) if (a !== 'inline') out.actions.add(a);
  for (const t of chart.transitions) for (const a of t.actions) if (a !== 'inline') out.actions.add(a);
  for (const c of chart.states) referenced(c, out);
  return out;
}

/** Unprovided or placeholder actors and actions of a machine and of the machines it names as actors. */
function gaps(machine: AnyStateMachine, path: string, seen = new Set<AnyStateMachine>()): string[] {
  if (seen.has(machine)) return [];
  seen.add(machine);
  const impl = machine.implementations as { actors: Record<string, unknown>; actions: Record<string, unknown> };
  const used = referenced(chartOf(machine));
  const out: string[] = [];
  for (const name of new Set([...Object.keys(impl.actors), ...used.actors])) {
    const a = impl.actors[name];
    if (a === undefined) out.push(`${path}: actor ${name} is named but not implemented`);
    else if (isPlaceholder(a)) out.push(`${path}: actor ${name} is a placeholder`);
    else if (isStateMachine(a)) out.push(...gaps(a, `${path}.${name}`, seen));
  }
  for (const name of new Set([...Object.keys(impl.actions), ...used.actions])) {
    const a = impl.actions[name];
    if (a === undefined && !name.startsWith('xstate.'))
      out.push(`${path}: action ${name} is named but not implemented`);
    else if (isPlaceholder(a)) out.push(`${path}: action ${name} is a placeholder`);
  }
  return out;
}

describe('the real composition provides every named actor and action', () => {
  const config = loadConfig({
    env: {},
    flags: {
      'stateFile.path': join(dir, 'state.json'),
      'ptp.socketPath': join(dir, 'events.sock'),
      'ptp.configDir': dir,
      'ptp.profilePath': dir,
    },
  });
  const deps = { config, logger: silentLogger, metrics: new MetricsHub() };

  it('portsync and the ptp sidecar, with all their child machines', () => {
    const specs = [...portsyncChildSpecs({ ...deps, redisUrl: join(dir, 'redis.sock') }), ...ptpChildSpecs(deps)];
    const machines = specs.filter((s) => isStateMachine(s.logic));
    expect(machines.map((s) => s.id).sort()).toEqual(['portsync', 'ptp']);
    expect(machines.flatMap((s) => gaps(s.logic as AnyStateMachine, s.id))).toEqual([]);
  });

  it('the supervisor and its child lifecycle', () => {
    expect(gaps(supervisorMachine, 'supervisor')).toEqual([]);
  });

  it('the check finds a placeholder left in place and a named action nobody implements', async () => {
    const { setup } = await import('xstate');
    const m = setup({
      actors: { load: providedPromise<void>('load') },
      actions: { count: providedAction() },
    }).createMachine({
      invoke: { src: 'load' },
      entry: ['count', 'logNothing' as never],
    });
    expect(gaps(m, 'm')).toEqual([
      'm: actor load is a placeholder',
      'm: action count is a placeholder',
      'm: action logNothing is named but not implemented',
    ]);
  });
});
