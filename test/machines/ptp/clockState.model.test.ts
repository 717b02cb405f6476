// clockState, model-based: every state and bounded simple paths of FREERUN ⇄ LOCKED ⇄ HOLDOVER (sidecar timer or
// daemon verdict) → retired, replayed on a real actor with the holdover timer on a ModelClock. Invariants: exactly
// one state report (clock.stateChanged to the parent) per state change, naming the right from/to; the holdover timer
// is armed exactly in HOLDOVER.sidecarTimer, with the profile's timeout from the moment it was entered (never in the
// daemon's HOLDOVER); context.current is the state; a retired clock reports nothing and keeps no timer.
import { describe, expect } from 'vitest';
import type { AnyMachineSnapshot } from 'xstate';
import {
  clockStateMachine,
  type ClockStateContext,
  type ClockStateName,
} from '../../../src/machines/ptp/clockState.js';
import { modelPathTests, type ModelSpec } from '../../support/modelTesting.js';

let reports: { from: ClockStateName | null; to: ClockStateName }[] = [];
let changes = 0;
let holdoverSince = 0;

// The report goes to the parent (sendParent); the model replays a root actor, so it is recorded here instead.
const machine = clockStateMachine.provide({
  actions: {
    reportStateChanged: ({ context }, p: { to: ClockStateName }) =>
      void reports.push({ from: context.current, to: p.to }),
  },
});
const top = (s: AnyMachineSnapshot): string =>
  typeof s.value === 'string' ? s.value : Object.keys(s.value as object)[0]!;

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
    'clock.daemonHoldover': [{ type: 'clock.daemonHoldover' }],
    'clock.daemonLocked': [{ type: 'clock.daemonLocked' }],
    'clock.retire': [{ type: 'clock.retire' }],
  },
  project: (s) => ctx(s),
  reset: () => {
    reports = [];
    changes = 0;
    holdoverSince = 0;
  },
  effects: () => ({ reports }),
  check: ({ snapshot, prev, clock }) => {
    const value = top(snapshot);
    const timers = clock.pending();
    if (value === 'retired') {
      expect(snapshot.status).toBe('done');
      expect(reports.length, 'retiring reports nothing').toBe(changes);
      expect(timers).toEqual([]);
      return;
    }
    const state = value as ClockStateName;
    const changed = prev === undefined || top(prev) !== state;
    if (changed) changes += 1;
    const timed = JSON.stringify(snapshot.value) === JSON.stringify({ HOLDOVER: 'sidecarTimer' });
    if (timed && (prev === undefined || JSON.stringify(prev.value) !== JSON.stringify(snapshot.value)))
      holdoverSince = clock.now();
    expect(reports.length, 'one report per state change').toBe(changes);
    if (changed) expect(reports.at(-1)).toEqual({ from: prev ? (top(prev) as ClockStateName) : null, to: state });
    expect(ctx(snapshot).current).toBe(state);
    if (timed) {
      expect(timers.map((t) => t.event?.type)).toEqual([
        'xstate.after.holdoverTimeout.clockState.HOLDOVER.sidecarTimer',
      ]);
      expect(timers[0]!.due).toBe(holdoverSince + holdoverTimeoutMs);
    } else expect(timers, 'no timer outside the sidecar holdover').toEqual([]);
  },
};

describe('clockState model (xstate/graph)', () => {
  modelPathTests(spec, {
    minShortestPaths: 5,
    simplePaths: { maxDepth: 6, max: 100, min: 2 },
    boundedWalks: { maxDepth: 5, max: 2000, min: 201 },
  });
});
