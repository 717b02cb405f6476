// clockState, model-based: every state and bounded simple paths of FREERUN ⇄ LOCKED ⇄ HOLDOVER, replayed on a real
// actor with the holdover timer on a ModelClock. Invariants: exactly one state report (metric/log and emitted
// clock.stateChanged) per state change, naming the right from/to; the holdover timer is armed exactly in HOLDOVER,
// with the profile's timeout from the moment HOLDOVER was entered; context.current is the state.
import { describe, expect, it } from 'vitest';
import type { AnyMachineSnapshot } from 'xstate';
import {
  clockStateMachine,
  type ClockStateContext,
  type ClockStateName,
} from '../../../src/machines/ptp/clockState.js';
import {
  boundedWalks,
  replayAll,
  shortestPaths,
  simplePaths,
  unvisited,
  type ModelSpec,
} from '../../support/modelTesting.js';

let reports: { from: ClockStateName | null; to: ClockStateName }[] = [];
let emitted: { from: ClockStateName | null; to: ClockStateName }[] = [];
let changes = 0;
let holdoverSince = 0;

const machine = clockStateMachine.provide({
  actions: {
    reportClockState: ({ context }, p: { to: ClockStateName }) =>
      void reports.push({ from: context.current, to: p.to }),
    emitStateChanged: ({ context }, p: { to: ClockStateName }) =>
      void emitted.push({ from: context.current, to: p.to }),
  },
});

const holdoverTimeoutMs = 5000;
const ctx = (s: AnyMachineSnapshot) => s.context as ClockStateContext;

const spec: ModelSpec<typeof machine> = {
  machine,
  input: { key: 'ptp4l.0.config/ens1f0', process: 'ptp4l', iface: 'ens1f0', profile: 'p1', holdoverTimeoutMs },
  events: {
    'clock.locked': [{ type: 'clock.locked' }],
    'clock.outOfRange': [{ type: 'clock.outOfRange' }],
    'clock.freerun': [{ type: 'clock.freerun' }],
    'clock.holdover': [{ type: 'clock.holdover' }],
  },
  project: (s) => ctx(s),
  reset: () => {
    reports = [];
    emitted = [];
    changes = 0;
    holdoverSince = 0;
  },
  effects: () => ({ reports, emitted }),
  check: ({ snapshot, prev, clock }) => {
    const value = snapshot.value as ClockStateName;
    if (prev === undefined || prev.value !== value) {
      changes += 1;
      if (value === 'HOLDOVER') holdoverSince = clock.now();
    }
    expect(reports.length, 'one report per state change').toBe(changes);
    expect(emitted).toEqual(reports);
    expect(reports.at(-1)).toEqual({ from: (prev?.value as ClockStateName | undefined) ?? null, to: value });
    expect(ctx(snapshot).current).toBe(value);
    const timers = clock.pending();
    if (value === 'HOLDOVER') {
      expect(timers.map((t) => t.event?.type)).toEqual(['xstate.after.holdoverTimeout.clockState.HOLDOVER']);
      expect(timers[0]!.due).toBe(holdoverSince + holdoverTimeoutMs);
    } else expect(timers, 'no timer outside HOLDOVER').toEqual([]);
  },
};

describe('clockState model (xstate/graph)', () => {
  it('shortest paths reach every state node, and the invariants hold in each', () => {
    const paths = shortestPaths(spec);
    expect(paths.length).toBe(3);
    expect(unvisited(machine, replayAll(spec, paths))).toEqual([]);
  });

  it('bounded simple paths keep the invariants', () => {
    const paths = simplePaths(spec, { maxDepth: 6, max: 100 });
    expect(paths.length).toBeGreaterThanOrEqual(2);
    replayAll(spec, paths);
  });

  it('every walk of 7 events (cycles included) keeps the invariants', () => {
    const paths = boundedWalks(spec, { maxDepth: 7, max: 5000 });
    expect(paths.length).toBeGreaterThan(200);
    replayAll(spec, paths);
  });
});
