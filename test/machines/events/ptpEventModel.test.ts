import { describe, expect, it } from 'vitest';
import { PtpEventModel, type EventsInput } from '../../../src/machines/events/ptpEventModel.js';

const clock = (
  state: 'LOCKED' | 'FREERUN' | 'HOLDOVER',
  offset: number,
  over: Partial<EventsInput> = {},
): EventsInput =>
  ({
    type: 'clock',
    key: 'ptp4l/ens5f1',
    role: 'main',
    iface: 'ens5f1',
    state,
    offset,
    announce: true,
    ...over,
  }) as EventsInput;
const os = (state: 'LOCKED' | 'FREERUN' | 'HOLDOVER', offset: number): EventsInput => ({
  type: 'clock',
  key: 'phc2sys/CLOCK_REALTIME',
  role: 'osClock',
  iface: 'CLOCK_REALTIME',
  state,
  offset,
  announce: true,
});

describe('PtpEventModel', () => {
  it('sends a lock-state change once, then the overall sync-state only when it changes', () => {
    const m = new PtpEventModel('n1');
    expect(m.apply(clock('FREERUN', 0, { announce: false }))).toEqual([]);
    const first = m.apply(clock('LOCKED', -5));
    expect(first.map((p) => p.resource)).toEqual(['lock-state', 'sync-state']);
    expect(first[0]!.values).toEqual([
      {
        ResourceAddress: '/cluster/node/n1/ens5f1/master',
        data_type: 'notification',
        value_type: 'enumeration',
        value: 'LOCKED',
      },
      {
        ResourceAddress: '/cluster/node/n1/ens5f1/master',
        data_type: 'metric',
        value_type: 'decimal64.3',
        value: '-5',
      },
    ]);
    expect(first[1]!.values[0]!.ResourceAddress).toBe('/cluster/node/n1/sync/sync-status/sync-state');
    expect(m.apply(clock('LOCKED', -7))).toEqual([]); // same state: nothing
    // os clock LOCKED: os-clock event, overall still LOCKED → no sync-state
    expect(m.apply(os('LOCKED', 8)).map((p) => p.resource)).toEqual(['os-clock-sync-state']);
    // os clock FREERUN: worst is FREERUN → sync-state
    expect(m.apply(os('FREERUN', 900)).map((p) => p.resource)).toEqual(['os-clock-sync-state', 'sync-state']);
    // main HOLDOVER while os FREERUN: overall stays FREERUN
    expect(m.apply(clock('HOLDOVER', 1)).map((p) => p.resource)).toEqual(['lock-state']);
    expect(m.lastSyncState).toBe('FREERUN');
  });

  it('a persisted last sync-state suppresses a repeat after a restart', () => {
    const m = new PtpEventModel('n1', 'LOCKED');
    expect(m.apply(clock('LOCKED', 1)).map((p) => p.resource)).toEqual(['lock-state']);
  });

  it('clock class only on change; CurrentState addresses it at …/master/CLOCK_CLASS', () => {
    const m = new PtpEventModel('n1');
    const cc = (value: number): EventsInput => ({ type: 'clockClass', key: 'ptp4l.0.config', iface: 'ens5f1', value });
    expect(m.apply(cc(248))[0]!.values[0]).toMatchObject({
      ResourceAddress: '/cluster/node/n1/ens5f1/master',
      value: '248',
    });
    expect(m.apply(cc(248))).toEqual([]);
    expect(m.apply(cc(6))).toHaveLength(1);
    expect(m.current('clock-class')).toEqual({
      kind: 'values',
      values: [
        {
          ResourceAddress: '/cluster/node/n1/ens5f1/master/CLOCK_CLASS',
          data_type: 'metric',
          value_type: 'decimal64.3',
          value: '6',
        },
      ],
    });
  });

  it('CurrentState placeholders: ptp-not-set before any data, event-not-found for a resource without data', () => {
    const m = new PtpEventModel('n1');
    expect(m.current('lock-state').kind).toBe('notSet');
    expect(m.current('sync-state').values).toEqual([
      {
        ResourceAddress: '/cluster/node/n1/ptp-not-set',
        data_type: 'notification',
        value_type: 'enumeration',
        value: 'FREERUN',
      },
    ]);
    m.apply(clock('LOCKED', 3));
    expect(m.current('gnss-sync-status')).toMatchObject({ kind: 'notFound' });
    expect(m.current('gnss-sync-status').values[0]!.ResourceAddress).toBe('/cluster/node/n1/event-not-found');
    expect(m.current('lock-state').kind).toBe('values');
    m.apply({ type: 'reset' });
    expect(m.current('lock-state').kind).toBe('notSet');
  });

  it('gnss and synce are published on change with their value shapes', () => {
    const m = new PtpEventModel('n1');
    const g = m.apply({
      type: 'gnss',
      key: 'gnss/ens2f0',
      iface: 'ens2f0',
      state: 'SYNCHRONIZED',
      offset: 5,
      gpsFix: 3,
    });
    expect(g[0]!.values.map((v) => [v.ResourceAddress, v.value])).toEqual([
      ['/cluster/node/n1/ens2f0/master', 'SYNCHRONIZED'],
      ['/cluster/node/n1/ens2f0/master', '5'],
      ['/cluster/node/n1/ens2f0/master/gpsFix', '3'],
    ]);
    expect(
      m.apply({ type: 'gnss', key: 'gnss/ens2f0', iface: 'ens2f0', state: 'SYNCHRONIZED', offset: 7, gpsFix: 3 }),
    ).toEqual([]);
    const s = m.apply({ type: 'synce', device: 'synce1', iface: 'ens7f0', state: 'LOCKED', ql: 2 });
    expect(s.map((p) => p.resource)).toEqual(['synce-lock-state', 'synce-clock-quality']);
    expect(s[0]!.values[0]).toMatchObject({ data_type: 'metric', value_type: 'decimal64.3', value: 'LOCKED' });
    expect(s[1]!.values.map((v) => v.ResourceAddress)).toEqual([
      '/cluster/node/n1/synce1/ens7f0/Ql',
      '/cluster/node/n1/synce1/ens7f0/extQl',
    ]);
    expect(m.current('synce-clock-quality').values.map((v) => v.ResourceAddress.split('/').pop())).toEqual([
      'Ql',
      'ExtQL',
    ]);
  });

  it('synce: each EEC state and quality pair once per change; a device-level state at …/<device>', () => {
    const m = new PtpEventModel('n1');
    expect(m.apply({ type: 'synce', device: 'synce1', iface: 'ens7f0', state: 'HOLDOVER' })).toHaveLength(1);
    expect(m.apply({ type: 'synce', device: 'synce1', iface: 'ens7f0', state: 'HOLDOVER' })).toEqual([]);
    const q = m.apply({ type: 'synce', device: 'synce1', iface: 'ens7f1', ql: 1, extQl: 32 });
    expect(q.map((p) => [p.resource, p.values.map((v) => v.value)])).toEqual([['synce-clock-quality', ['1', '32']]]);
    expect(m.apply({ type: 'synce', device: 'synce1', iface: 'ens7f1', ql: 1, extQl: 32 })).toEqual([]);
    expect(m.apply({ type: 'synce', device: 'synce1', iface: 'ens7f1', ql: 1, extQl: 33 })).toHaveLength(1);
    // The plug-in point for a device-level state: no iface → the device's own address, never a quality event.
    const d = m.apply({ type: 'synce', device: 'synce1', state: 'LOCKED', ql: 4 });
    expect(d.map((p) => [p.resource, p.values])).toEqual([
      [
        'synce-lock-state',
        [
          {
            ResourceAddress: '/cluster/node/n1/synce1',
            data_type: 'metric',
            value_type: 'decimal64.3',
            value: 'LOCKED',
          },
        ],
      ],
    ]);
    // CurrentState: states as notification/enumeration; quality for every port, Ql 0 / ExtQL 255 when unknown (CEP).
    expect(m.current('synce-lock-state').values.map((v) => [v.ResourceAddress, v.data_type, v.value])).toEqual([
      ['/cluster/node/n1/synce1/ens7f0', 'notification', 'HOLDOVER'],
      ['/cluster/node/n1/synce1', 'notification', 'LOCKED'],
    ]);
    expect(m.current('synce-clock-quality').values.map((v) => [v.ResourceAddress, v.value])).toEqual([
      ['/cluster/node/n1/synce1/ens7f0/Ql', '0'],
      ['/cluster/node/n1/synce1/ens7f0/ExtQL', '255'],
      ['/cluster/node/n1/synce1/ens7f1/Ql', '1'],
      ['/cluster/node/n1/synce1/ens7f1/ExtQL', '33'],
    ]);
    // SyncE never moves the overall sync-state.
    expect(m.overallSyncState()).toBeNull();
  });
});
