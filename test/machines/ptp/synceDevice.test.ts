// The synceDevice chart: a synce4l device's overall state from its ports' EEC states, each state entered reported
// once to the parent (the sidecar) as a device-level clock.stateChanged.
import { describe, expect, it } from 'vitest';
import { createActor, setup, type AnyActorRef } from 'xstate';
import { synceDeviceMachine } from '../../../src/machines/ptp/synceDevice.js';
import type { ClockStateChanged, ClockStateName } from '../../../src/machines/ptp/events.js';

function run() {
  const reports: ClockStateChanged[] = [];
  const parent = setup({
    types: { events: {} as ClockStateChanged },
    actors: { device: synceDeviceMachine },
  }).createMachine({
    invoke: { id: 'device', src: 'device', input: { device: 'synce1', profile: 'synce' } },
    on: { 'clock.stateChanged': { actions: ({ event }) => reports.push(event) } },
  });
  const root = createActor(parent).start();
  const device = root.getSnapshot().children['device'] as AnyActorRef;
  const port = (port: string, state: ClockStateName) =>
    device.send({ type: 'synce.portState', device: 'synce1', port, profile: 'synce', state });
  const state = () => device.getSnapshot().value as string;
  const changes = () => reports.map((r) => `${r.from ?? '-'}>${r.to}`);
  return { device, port, state, reports, changes };
}

describe('synceDevice', () => {
  it('starts FREERUN and reports it once, as a device-level clock of synce4l', () => {
    const d = run();
    expect(d.state()).toBe('FREERUN');
    expect(d.reports).toEqual([
      {
        type: 'clock.stateChanged',
        key: 'synce4l/synce1',
        process: 'synce4l',
        iface: 'synce1',
        profile: 'synce',
        synce: { device: 'synce1', level: 'device' },
        from: null,
        to: 'FREERUN',
      },
    ]);
  });

  it('is LOCKED while any port is LOCKED, HOLDOVER while none is and one holds over, FREERUN otherwise', () => {
    const d = run();
    d.port('ens7f0', 'LOCKED');
    expect(d.state()).toBe('LOCKED');
    d.port('ens7f1', 'FREERUN'); // a second port that tracks nothing does not move the EEC
    expect(d.state()).toBe('LOCKED');
    d.port('ens7f0', 'HOLDOVER');
    expect(d.state()).toBe('HOLDOVER');
    d.port('ens7f1', 'LOCKED'); // the EEC locks to the other port
    expect(d.state()).toBe('LOCKED');
    d.port('ens7f1', 'FREERUN');
    expect(d.state()).toBe('HOLDOVER');
    d.port('ens7f0', 'FREERUN');
    expect(d.state()).toBe('FREERUN');
    expect(d.changes()).toEqual([
      '->FREERUN',
      'FREERUN>LOCKED',
      'LOCKED>HOLDOVER',
      'HOLDOVER>LOCKED',
      'LOCKED>HOLDOVER',
      'HOLDOVER>FREERUN',
    ]);
  });

  it('reports nothing when a port change leaves the device state as it is', () => {
    const d = run();
    d.port('a', 'LOCKED');
    d.port('b', 'LOCKED');
    d.port('a', 'HOLDOVER');
    d.port('b', 'HOLDOVER');
    d.port('a', 'HOLDOVER');
    expect(d.changes()).toEqual(['->FREERUN', 'FREERUN>LOCKED', 'LOCKED>HOLDOVER']);
  });

  it('retires to a final state without a report', () => {
    const d = run();
    d.port('a', 'LOCKED');
    d.device.send({ type: 'synce.retire' });
    expect(d.device.getSnapshot().status).toBe('done');
    expect(d.changes()).toEqual(['->FREERUN', 'FREERUN>LOCKED']);
  });
});
