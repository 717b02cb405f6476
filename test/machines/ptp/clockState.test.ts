import { describe, expect, it } from 'vitest';
import { SimulatedClock, createActor, setup, type AnyActorRef } from 'xstate';
import { clockStateMachine, type ClockStateEvent, type ClockStateInput } from '../../../src/machines/ptp/clockState.js';
import type { ClockStateChanged } from '../../../src/machines/ptp/events.js';

/** The clock as the sidecar runs it: a child whose `clock.stateChanged` reports go to its parent. */
function run(holdoverTimeoutMs = 5_000, extra: Partial<ClockStateInput> = {}) {
  const clock = new SimulatedClock();
  const reports: string[] = [];
  const emitted: ClockStateChanged[] = [];
  const parent = setup({
    types: { events: {} as ClockStateChanged },
    actors: { clock: clockStateMachine },
  }).createMachine({
    invoke: {
      id: 'clock',
      src: 'clock',
      input: { key: 'ptp4l/eth0', process: 'ptp4l', iface: 'eth0', profile: 'p', holdoverTimeoutMs, ...extra },
    },
    on: {
      'clock.stateChanged': {
        actions: ({ event }) => {
          emitted.push(event);
          reports.push(`${event.from ?? '-'}>${event.to}`);
        },
      },
    },
  });
  const root = createActor(parent, { clock }).start();
  const actor = root.getSnapshot().children['clock'] as AnyActorRef;
  const send = (...types: ClockStateEvent['type'][]) =>
    types.forEach((type) => actor.send({ type } as ClockStateEvent));
  const state = () => {
    const v = actor.getSnapshot().value as string | Record<string, string>;
    return typeof v === 'string' ? v : Object.keys(v)[0];
  };
  return { clock, actor, root, reports, emitted, send, state };
}

describe('clockState', () => {
  it('follows the LOCKED rules: in range locks, out of range frees, freerun frees', () => {
    const c = run();
    c.send('clock.outOfRange');
    expect(c.state()).toBe('FREERUN');
    c.send('clock.locked');
    expect(c.state()).toBe('LOCKED');
    c.send('clock.outOfRange');
    expect(c.state()).toBe('FREERUN');
    c.send('clock.locked', 'clock.freerun');
    expect(c.reports).toEqual(['->FREERUN', 'FREERUN>LOCKED', 'LOCKED>FREERUN', 'FREERUN>LOCKED', 'LOCKED>FREERUN']);
  });

  it('goes HOLDOVER → FREERUN after the profile timeout and reports it exactly once', () => {
    const c = run(30_000);
    c.send('clock.locked', 'clock.holdover');
    expect(c.state()).toBe('HOLDOVER');
    c.clock.increment(29_999);
    c.send('clock.freerun', 'clock.outOfRange', 'clock.holdover'); // none of these ends holdover
    expect(c.state()).toBe('HOLDOVER');
    c.clock.increment(1);
    expect(c.state()).toBe('FREERUN');
    c.clock.increment(60_000);
    expect(c.reports).toEqual(['->FREERUN', 'FREERUN>LOCKED', 'LOCKED>HOLDOVER', 'HOLDOVER>FREERUN']);
    expect(c.emitted.map((e) => `${e.from}>${e.to}`)).toEqual([
      'null>FREERUN',
      'FREERUN>LOCKED',
      'LOCKED>HOLDOVER',
      'HOLDOVER>FREERUN',
    ]);
    expect(c.emitted[3]).toMatchObject({ key: 'ptp4l/eth0', process: 'ptp4l', iface: 'eth0', profile: 'p' });
  });

  it('leaves HOLDOVER for LOCKED on an in-range offset and cancels the timer', () => {
    const c = run(5_000);
    c.send('clock.holdover');
    c.clock.increment(4_000);
    c.send('clock.locked');
    c.clock.increment(10_000);
    expect(c.state()).toBe('LOCKED');
    expect(c.reports).toEqual(['->FREERUN', 'FREERUN>HOLDOVER', 'HOLDOVER>LOCKED']);
  });

  it('stops its holdover timer when retired (the generation ended), reporting nothing more', () => {
    const c = run(5_000);
    c.send('clock.holdover', 'clock.retire');
    expect(c.actor.getSnapshot().status).toBe('done');
    c.clock.increment(10_000);
    expect(c.reports).toEqual(['->FREERUN', 'FREERUN>HOLDOVER']);
  });

  // Status lines are the daemon's verdict (dpll / GM / T-BC / gnss s1, ts2phc `holdover`): no sidecar timer.
  it('daemonVerdict holdover: no timer; the daemon s0 is FREERUN at once; s2 LOCKED', () => {
    const c = run(1_000, { process: 'dpll', key: 'dpll/eth0' });
    c.send('clock.daemonLocked', 'clock.daemonHoldover');
    expect(c.actor.getSnapshot().value).toEqual({ HOLDOVER: 'daemonVerdict' });
    c.clock.increment(60_000); // no sidecar timer: still the daemon's HOLDOVER
    expect(c.state()).toBe('HOLDOVER');
    c.send('clock.freerun');
    expect(c.reports).toEqual(['->FREERUN', 'FREERUN>LOCKED', 'LOCKED>HOLDOVER', 'HOLDOVER>FREERUN']);
    c.send('clock.daemonHoldover', 'clock.daemonLocked');
    expect(c.state()).toBe('LOCKED');
  });

  it('sidecarTimer holdover ignores s0 until the timeout (the ordinary-clock rule)', () => {
    const c = run(1_000);
    c.send('clock.holdover', 'clock.freerun');
    expect(c.actor.getSnapshot().value).toEqual({ HOLDOVER: 'sidecarTimer' });
    c.clock.increment(1_000);
    expect(c.state()).toBe('FREERUN');
  });

  it('T-BC: a lost SLAVE port is FREERUN, never HOLDOVER; ptp4l offsets are not range-checked', () => {
    const c = run(1_000, { clockType: 'T-BC' });
    c.send('clock.outOfRange');
    expect(c.state()).toBe('LOCKED');
    c.send('clock.outOfRange');
    expect(c.state()).toBe('LOCKED');
    c.send('clock.holdover');
    expect(c.state()).toBe('FREERUN');
    c.send('clock.holdover');
    expect(c.reports).toEqual(['->FREERUN', 'FREERUN>LOCKED', 'LOCKED>FREERUN']);
  });

  it('process down: FREERUN; with chronyd taking over (NTP failover) the state is kept and nothing is reported', () => {
    const plain = run(5_000, { key: 'phc2sys/CLOCK_REALTIME', process: 'phc2sys', iface: 'CLOCK_REALTIME' });
    plain.send('clock.locked', 'clock.processDown');
    expect(plain.reports).toEqual(['->FREERUN', 'FREERUN>LOCKED', 'LOCKED>FREERUN']);
    const ntp = run(5_000, {
      key: 'phc2sys/CLOCK_REALTIME',
      process: 'phc2sys',
      iface: 'CLOCK_REALTIME',
      osClockFallback: 'chronyd',
    });
    ntp.send('clock.locked', 'clock.processDown');
    expect(ntp.state()).toBe('LOCKED');
    expect(ntp.reports).toEqual(['->FREERUN', 'FREERUN>LOCKED']);
    ntp.send('clock.freerun');
    expect(ntp.reports.at(-1)).toBe('LOCKED>FREERUN');
  });

  it('reports the offset and clock class of the line that caused the change', () => {
    const c = run();
    c.actor.send({ type: 'clock.locked', offset: -5, clockClass: 6 });
    expect(c.emitted.at(-1)).toMatchObject({ to: 'LOCKED', offset: -5, clockClass: 6 });
    // A change from a line without them reports the last ones known; a later line's own replace them.
    c.actor.send({ type: 'clock.freerun' });
    expect(c.emitted.at(-1)).toMatchObject({ from: 'LOCKED', to: 'FREERUN', offset: -5, clockClass: 6 });
    c.actor.send({ type: 'clock.locked', offset: 3 });
    expect(c.emitted.at(-1)).toMatchObject({ from: 'FREERUN', to: 'LOCKED', offset: 3, clockClass: 6 });
    expect(c.actor.getSnapshot().context).toMatchObject({ current: 'LOCKED', offset: 3, clockClass: 6 });
  });
});
