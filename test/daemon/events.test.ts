// The adapter between the ptp service's clock changes and the events engine (src/daemon/events.ts): which clock
// change becomes which events input, and synce4l's device layout read from its config files.
import { describe, expect, it } from 'vitest';
import { parseConfigFile } from '../../src/io/ptp/configFiles.js';
import { clockChangeToInput, synceTopology, type ClockChange } from '../../src/daemon/events.js';

const change = (process: string, iface: string, to: string, from: string | null = 'FREERUN'): ClockChange => ({
  key: `${process}/${iface}`,
  process,
  iface,
  profile: 'p0',
  from,
  to,
});

const synceFile = parseConfigFile(
  'synce4l.0.config',
  '#profile: p0\n[global]\n[<synce1>]\nnetwork_option 2\n[ens7f0]\n[ens7f1]\n[<synce2>]\n[ens8f0]\n',
);
const ptpFile = parseConfigFile('ptp4l.0.config', '#profile: p0\n[global]\n[ens5f1]\n');

describe('events adapter', () => {
  it('reads the synce4l layout: ports belong to the [<device>] section before them; other configs are ignored', () => {
    if (typeof synceFile === 'string' || typeof ptpFile === 'string') throw new Error('fixture');
    const t = synceTopology([ptpFile, synceFile]);
    expect([...t.portDevice]).toEqual([
      ['ens7f0', 'synce1'],
      ['ens7f1', 'synce1'],
      ['ens8f0', 'synce2'],
    ]);
    expect([...t.devices]).toEqual(['synce1', 'synce2']);
  });

  it('maps a synce4l port clock to a synce lock-state input of its device, not a device clock', () => {
    if (typeof synceFile === 'string') throw new Error('fixture');
    const t = synceTopology([synceFile]);
    expect(clockChangeToInput(change('synce4l', 'ens8f0', 'HOLDOVER'), 0, true, 0, t)).toEqual({
      type: 'synce',
      device: 'synce2',
      iface: 'ens8f0',
      state: 'HOLDOVER',
    });
    // The device's overall state (the synceDevice chart's clock, `synce1`): a metric only, CEP publishes per port.
    for (const iface of ['synce1', '<synce1>'])
      expect(clockChangeToInput(change('synce4l', iface, 'LOCKED'), 0, true, 0, t)).toBeUndefined();
    // The initial FREERUN no line said, a name outside the layout, no layout at all: nothing.
    expect(clockChangeToInput(change('synce4l', 'ens7f0', 'FREERUN', null), 0, false, 0, t)).toBeUndefined();
    expect(clockChangeToInput(change('synce4l', 'ens9f0', 'LOCKED'), 0, true, 0, t)).toBeUndefined();
    expect(clockChangeToInput(change('synce4l', 'ens7f0', 'LOCKED'), 0, true)).toBeUndefined();
  });

  it('main clocks, the OS clock and gnss keep their mapping', () => {
    expect(clockChangeToInput(change('ptp4l', 'ens5f1', 'LOCKED'), -5, true)).toMatchObject({
      type: 'clock',
      role: 'main',
      state: 'LOCKED',
      offset: -5,
    });
    expect(clockChangeToInput(change('phc2sys', 'CLOCK_REALTIME', 'HOLDOVER'), 3, true)).toMatchObject({
      type: 'clock',
      role: 'osClock',
    });
    expect(clockChangeToInput(change('gnss', 'ens5f1', 'LOCKED'), 5, true, 3)).toEqual({
      type: 'gnss',
      key: 'gnss/ens5f1',
      iface: 'ens5f1',
      state: 'SYNCHRONIZED',
      offset: 5,
      gpsFix: 3,
    });
    expect(clockChangeToInput(change('dpll', 'ens5f1', 'LOCKED'), 0, true)).toBeUndefined();
  });
});
