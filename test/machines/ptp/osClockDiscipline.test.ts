// The osClockDiscipline chart on a simulated clock: phc2sys's selection lines in, "disciplined or not" reports out.
import { describe, expect, it } from 'vitest';
import { SimulatedClock, createActor, setup, type AnyActorRef } from 'xstate';
import { osClockDisciplineMachine } from '../../../src/machines/ptp/osClockDiscipline.js';
import type { OsClockDisciplineChanged, OsClockSignal } from '../../../src/machines/ptp/events.js';

function run(chronydEnabled = false) {
  const clock = new SimulatedClock();
  const reports: boolean[] = [];
  const parent = setup({
    types: { events: {} as OsClockDisciplineChanged },
    actors: { d: osClockDisciplineMachine },
  }).createMachine({
    invoke: { id: 'd', src: 'd', input: { profile: 'bc', chronydEnabled } },
    on: { 'ptp.osClockDiscipline': { actions: ({ event }) => reports.push(event.disciplined) } },
  });
  const root = createActor(parent, { clock }).start();
  const d = root.getSnapshot().children['d'] as AnyActorRef;
  const send = (...s: OsClockSignal[]) => s.forEach((x) => d.send({ type: `discipline.${x}` }));
  const state = () => d.getSnapshot().value as string;
  return { clock, d, send, state, reports };
}

describe('osClockDiscipline', () => {
  it('a NIC selected and then silence: Undisciplined after the settle time (200 ms), reported once', () => {
    const c = run();
    expect(c.reports).toEqual([true]);
    c.send('reconfiguring', 'sourceSelected');
    expect(c.state()).toBe('SourceSelected');
    c.clock.increment(199);
    expect(c.state()).toBe('SourceSelected');
    c.clock.increment(1);
    expect(c.state()).toBe('Undisciplined');
    expect(c.reports).toEqual([true, false]);
  });

  it('a source marker re-arms the settle timer', () => {
    const c = run();
    c.send('reconfiguring', 'sourceSelected');
    c.clock.increment(150);
    c.send('sourceMarker');
    c.clock.increment(150);
    expect(c.state()).toBe('SourceSelected');
    c.clock.increment(50);
    expect(c.state()).toBe('Undisciplined');
  });

  it('"already selected" after a NIC: Undisciplined at once; right after reconfiguring: Idle', () => {
    const c = run();
    c.send('reconfiguring', 'sourceSelected', 'alreadySelected');
    expect(c.state()).toBe('Undisciplined');
    const d = run();
    d.send('reconfiguring', 'alreadySelected');
    expect(d.state()).toBe('Idle');
    expect(d.reports.every(Boolean)).toBe(true);
  });

  it('selecting CLOCK_REALTIME, or a waiting / postponing line, ends the window: no Undisciplined', () => {
    const c = run();
    c.send('reconfiguring', 'sourceSelected', 'sourceMarker', 'realtimeSelected');
    c.clock.increment(1000);
    expect(c.state()).toBe('Idle');
    c.send('reconfiguring', 'sourceSelected', 'aborted');
    c.clock.increment(1000);
    expect(c.state()).toBe('Idle');
    expect(c.reports).toEqual([true, true, true]);
  });

  it('a CLOCK_REALTIME sample or selection brings it back; a new window from Undisciplined stays undisciplined', () => {
    const c = run();
    c.send('reconfiguring', 'sourceSelected', 'alreadySelected');
    c.send('reconfiguring');
    expect(c.state()).toBe('Selecting');
    expect(c.reports).toEqual([true, false]);
    c.send('realtimeSample');
    expect(c.state()).toBe('Idle');
    expect(c.reports).toEqual([true, false, true]);
  });

  it('with chronyd in the profile, chronyd owns CLOCK_REALTIME: never Undisciplined', () => {
    const c = run(true);
    c.send('reconfiguring', 'sourceSelected', 'alreadySelected');
    expect(c.state()).toBe('Idle');
    c.send('reconfiguring', 'sourceSelected');
    c.clock.increment(500);
    expect(c.state()).toBe('Idle');
    expect(c.reports.every(Boolean)).toBe(true);
  });
});
