import { describe, expect, it } from 'vitest';
import { SimulatedClock, createActor } from 'xstate';
import {
  clockStateMachine,
  type ClockStateChanged,
  type ClockStateEvent,
} from '../../../src/machines/ptp/clockState.js';

function run(holdoverTimeoutMs = 5_000) {
  const clock = new SimulatedClock();
  const reports: string[] = [];
  const emitted: ClockStateChanged[] = [];
  const actor = createActor(
    clockStateMachine.provide({
      actions: { reportClockState: ({ context }, p) => reports.push(`${context.current ?? '-'}>${p.to}`) },
    }),
    { clock, input: { key: 'ptp4l/eth0', process: 'ptp4l', iface: 'eth0', profile: 'p', holdoverTimeoutMs } },
  );
  actor.on('clock.stateChanged', (e) => emitted.push(e));
  actor.start();
  const send = (...types: ClockStateEvent['type'][]) => types.forEach((type) => actor.send({ type }));
  return { clock, actor, reports, emitted, send, state: () => actor.getSnapshot().value };
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

  it('stops its holdover timer when stopped', () => {
    const c = run(5_000);
    c.send('clock.holdover');
    c.actor.stop();
    c.clock.increment(10_000);
    expect(c.reports).toEqual(['->FREERUN', 'FREERUN>HOLDOVER']);
  });
});
