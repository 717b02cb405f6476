// Actors whose output is a pure function of events already in a trace (the PTP data plane: the generation actor
// that parses recorded lines, the clock bank and its clocks). A trace records nothing they send or are sent from
// outside the machines, and a replay runs them for real instead of an inert stub, so their events re-happen.
// A derived actor that creates machine actors itself (the clock bank: clockState, synceDevice, osClockDiscipline)
// names them here, so the machine versions of a trace (machineVersions.ts) cover them too; they are derived as well
// (what the actor sends them comes from recorded events), so a trace records nothing sent to them.
import type { AnyActorLogic, AnyStateMachine } from 'xstate';

const derived = new WeakMap<object, readonly AnyStateMachine[]>();

/** Marks `logic` as derived (see above), with the machines it runs (derived too), and returns it. */
export function derivedLogic<T extends AnyActorLogic>(logic: T, runs: readonly AnyStateMachine[] = []): T {
  derived.set(logic, [...new Set([...(derived.get(logic) ?? []), ...runs])]);
  for (const m of runs) if (!derived.has(m)) derived.set(m, []);
  return logic;
}

export function isDerivedLogic(logic: unknown): boolean {
  return typeof logic === 'object' && logic !== null && derived.has(logic);
}

/** The machines a derived actor runs (empty for any other logic). */
export function machinesRunBy(logic: unknown): readonly AnyStateMachine[] {
  return (typeof logic === 'object' && logic !== null && derived.get(logic)) || [];
}
