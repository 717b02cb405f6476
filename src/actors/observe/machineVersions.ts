// The version of a machine: a hash of its structure as the chart sees it (states, transitions with their events,
// guards and targets, named actions, invokes, delays), so a change to the behaviour changes the version while a
// change to an action's implementation does not. A trace carries the versions of every machine it was recorded with
// (the root, the services and the machines they invoke or spawn); a replay compares them with the machines it runs.
import type { AnyStateMachine } from 'xstate';
import { hashConfig } from '../../io/observe/traceFormat.js';
import { machinesRunBy } from './derived.js';
import { chartOf, isStateMachine } from './machineChart.js';

export type MachineVersions = Record<string, string>;

/**
 * machine id → version, for these machines and every machine they name as an actor, recursively, including the
 * machines a derived actor they name runs (derived.ts: the clock bank's clocks).
 */
export function machineVersions(machines: Iterable<AnyStateMachine>, out: MachineVersions = {}): MachineVersions {
  for (const m of machines) {
    if (out[m.id] !== undefined) continue;
    out[m.id] = hashConfig(chartOf(m));
    const actors = Object.values(m.implementations.actors);
    machineVersions([...actors.filter(isStateMachine), ...actors.flatMap(machinesRunBy)], out);
  }
  return out;
}

export interface VersionChange {
  machine: string;
  recorded: string | undefined;
  current: string | undefined;
}

/** The machines whose version differs between a trace and this build (missing on either side counts). */
export function changedMachines(recorded: MachineVersions, current: MachineVersions): VersionChange[] {
  const out: VersionChange[] = [];
  for (const id of Object.keys(recorded).sort()) {
    if (recorded[id] !== current[id]) out.push({ machine: id, recorded: recorded[id], current: current[id] });
  }
  return out;
}

/** One line per change, for the replay's stderr and for test failures. */
export function describeChanges(changes: VersionChange[]): string[] {
  return changes.map((c) =>
    c.current === undefined
      ? `machine ${c.machine} (recorded as ${c.recorded}) does not exist in this build`
      : `machine ${c.machine} changed since the trace was recorded (recorded ${c.recorded}, now ${c.current})`,
  );
}
