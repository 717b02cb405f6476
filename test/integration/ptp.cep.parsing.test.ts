// Cases derived one by one from cloud-event-proxy's own tests of its line parsing: metrics/metrics_test.go
// (Test_ExtractMetrics) and metrics/logparser_test.go (Test_ParseGNSSLogs, TestPTPEventManager_ParseDPLLLogs,
// TestParseSyncELogs, Test_ParseGmLogs, TestExtractPTP4lEventState). The same input lines go through the real socket
// of the composed ptp service; the expected values are the ones the reference's test expects, read from /metrics
// and from what observers receive. Where we deliberately differ (docs/ptp.md, "Differences"), the case says so and
// asserts our documented behaviour.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ini, startCepRig, type CepLoad, type CepRig } from './ptp.cep.harness.js';

// clock_state encoding of the reference's tests: s0 = FREERUN 0, s1 = HOLDOVER 2, s2 = LOCKED 1.
const FREERUN = 0;
const LOCKED = 1;
const HOLDOVER = 2;

let rig: CepRig;
beforeAll(async () => {
  rig = await startCepRig();
});
afterAll(async () => rig?.close());

/** The reference's metrics/logparser test config: ptp4l.0.config of profile "grandmaster", two master ports. */
const grandmaster: CepLoad = {
  profiles: [{ name: 'grandmaster', ts2PhcOpts: '-s generic -a' }],
  files: {
    'ptp4l.0.config': ini('grandmaster', { ens2f0: { masterOnly: 1 }, ens7f0: { masterOnly: 1 } }),
  },
  aliases: { ens2f0: 'ens2fx', ens2f1: 'ens2fx', ens7f0: 'ens7fx' },
};

describe('from CEP metrics_test.go Test_ExtractMetrics (one manager, the cases in order)', () => {
  beforeAll(async () => rig.load(grandmaster));

  // Each row: the reference's log line, then the series it checks (SKIP columns left out). Labels use the alias.
  const cases: Array<{
    log: string;
    expect: Array<[string, Record<string, string>, number]>;
    event?: { key: string; to: string };
  }> = [
    {
      log: 'dpll[1000000100]:[ts2phc.0.config] ens7f0 frequency_status 3 offset 5 phase_status 3 pps_status 1 s2',
      expect: [
        ['clock_state', { process: 'dpll', iface: 'ens7fx' }, LOCKED],
        ['pps_status', { process: 'dpll', iface: 'ens7fx' }, 1],
      ],
    },
    {
      log: 'dpll[1000000110]:[ts2phc.0.config] ens7f0 frequency_status 3 offset 5 phase_status 3 pps_status 0 s0',
      expect: [
        ['clock_state', { process: 'dpll', iface: 'ens7fx' }, FREERUN],
        ['pps_status', { process: 'dpll', iface: 'ens7fx' }, 0],
      ],
    },
    {
      log: 'dpll[1000000120]:[ts2phc.0.config] ens7f0 frequency_status 3 offset 7 phase_status 3 pps_status 0 s1',
      expect: [
        ['clock_state', { process: 'dpll', iface: 'ens7fx' }, HOLDOVER],
        ['pps_status', { process: 'dpll', iface: 'ens7fx' }, 0],
      ],
    },
    {
      log: 'ts2phc[1000000200]:[ts2phc.0.config] ens2f0 nmea_status 0 offset 999999 s0',
      expect: [['nmea_status', { process: 'ts2phc', iface: 'ens2fx' }, 0]],
    },
    {
      log: 'ts2phc[1000000210]:[ts2phc.0.config] ens2f0 nmea_status 1 offset 0 s2',
      expect: [['nmea_status', { process: 'ts2phc', iface: 'ens2fx' }, 1]],
    },
    {
      log: 'ts2phc[1000000300]: [ts2phc.0.config] ens2f0 master offset  0 s2 freq -0',
      expect: [['offset_ns', { from: 'master', process: 'ts2phc', iface: 'ens2fx' }, 0]],
      event: { key: 'ts2phc/ens2f0', to: 'LOCKED' },
    },
    {
      log: 'ts2phc[1000000310]: [ts2phc.0.config] ens7f0 master offset 999 s0 freq      -0',
      expect: [
        ['offset_ns', { from: 'master', process: 'ts2phc', iface: 'ens7fx' }, 999],
        ['clock_state', { process: 'ts2phc', iface: 'ens7fx' }, FREERUN],
      ],
      event: { key: 'ts2phc/ens7f0', to: 'FREERUN' },
    },
    {
      log: 'GM[1000000400]:[ts2phc.0.config] ens2f0 T-GM-STATUS s0',
      expect: [['clock_state', { process: 'GM', iface: 'ens2fx' }, FREERUN]],
      event: { key: 'GM/ens2f0', to: 'FREERUN' },
    },
    {
      log: 'gnss[1000000500]:[ts2phc.0.config] ens2f1 gnss_status 3 offset 5 s2',
      expect: [
        ['offset_ns', { from: 'gnss', process: 'gnss', iface: 'ens2fx' }, 5],
        ['clock_state', { process: 'gnss', iface: 'ens2fx' }, LOCKED],
        ['gnss_status', { process: 'gnss', iface: 'ens2fx' }, 3],
      ],
      event: { key: 'gnss/ens2f1', to: 'LOCKED' },
    },
    {
      log: 'ptp4l[1000000600]:[ptp4l.0.config] CLOCK_CLASS_CHANGE 248.000000',
      expect: [['clock_class', { process: 'ptp4l', config: 'ptp4l.0.config' }, 248]],
    },
    {
      log: 'ptp4l[1000000610]:[ptp4l.0.config] CLOCK_CLASS_CHANGE 6.000000',
      expect: [['clock_class', { process: 'ptp4l', config: 'ptp4l.0.config' }, 6]],
    },
    {
      log: 'phc2sys[1000000700]: [ptp4l.0.config] CLOCK_REALTIME phc offset       -62 s0 freq  -78368 delay   1100',
      expect: [
        ['offset_ns', { from: 'phc', process: 'phc2sys', iface: 'CLOCK_REALTIME' }, -62],
        ['frequency_adjustment_ns', { from: 'phc', process: 'phc2sys', iface: 'CLOCK_REALTIME' }, -78368],
        ['delay_ns', { from: 'phc', process: 'phc2sys', iface: 'CLOCK_REALTIME' }, 1100],
        ['clock_state', { process: 'phc2sys', iface: 'CLOCK_REALTIME' }, FREERUN],
      ],
    },
  ];

  for (const [i, c] of cases.entries()) {
    it(`case ${i + 1}: ${c.log.slice(0, 70)}`, async () => {
      const before = rig.events.length;
      await rig.send(c.log);
      for (const [name, labels, v] of c.expect) expect(await rig.value(name, labels), `${name}`).toBe(v);
      if (c.event) {
        expect(rig.events.slice(before)).toContainEqual(
          expect.objectContaining({ type: 'clock.stateChanged', key: c.event.key, to: c.event.to }),
        );
      }
    });
  }

  it('last case, lastSyncState LOCKED: the same phc2sys s0 line is an OS clock change (OsClockSyncStateChange)', async () => {
    // The reference forces CLOCK_REALTIME's last state to LOCKED; here it gets there through lines: the GM locks,
    // then phc2sys locks in range (the OS clock is the worst of both).
    await rig.send(
      'GM[1000000701]:[ts2phc.0.config] ens2f0 T-GM-STATUS s2',
      'phc2sys[1000000702]: [ptp4l.0.config] CLOCK_REALTIME phc offset 3 s2 freq -78368 delay 1100',
    );
    expect(await rig.value('clock_state', { process: 'phc2sys', iface: 'CLOCK_REALTIME' })).toBe(LOCKED);
    const before = rig.events.length;
    await rig.send(
      'phc2sys[1000000710]: [ptp4l.0.config] CLOCK_REALTIME phc offset       -62 s0 freq  -78368 delay   1100',
    );
    expect(await rig.value('offset_ns', { from: 'phc', process: 'phc2sys', iface: 'CLOCK_REALTIME' })).toBe(-62);
    expect(await rig.value('clock_state', { process: 'phc2sys', iface: 'CLOCK_REALTIME' })).toBe(FREERUN);
    expect(rig.events.slice(before)).toContainEqual({
      type: 'ptp.osClockStateChanged',
      profile: 'grandmaster',
      from: 'LOCKED',
      to: 'FREERUN',
    });
  });
});

describe('from CEP logparser_test.go', () => {
  it('Test_ParseGNSSLogs: gnss s0 → FREERUN, s2 → LOCKED; the gnss_status value with it', async () => {
    await rig.load(grandmaster);
    await rig.send('gnss[1689014431]:[ts2phc.0.config] ens2f1 gnss_status 5 offset 0 s0');
    expect(await rig.value('clock_state', { process: 'gnss', iface: 'ens2fx' })).toBe(FREERUN);
    expect(await rig.value('gnss_status', { process: 'gnss', iface: 'ens2fx' })).toBe(5);
    await rig.send('gnss[1689014431]:[ts2phc.0.config] ens2f1 gnss_status 5 offset 0 s2');
    expect(await rig.value('clock_state', { process: 'gnss', iface: 'ens2fx' })).toBe(LOCKED);
    expect(await rig.value('offset_ns', { from: 'gnss', process: 'gnss', iface: 'ens2fx' })).toBe(0);
  });

  it('TestPTPEventManager_ParseDPLLLogs: each interface its own dpll state (ens2f0 s0, ens1f0 s2, twice)', async () => {
    // No aliases here: the labels are the interface names. ens1f0 is an interface of the ts2phc config.
    await rig.load({
      profiles: [{ name: 'grandmaster', ts2PhcOpts: '-s generic -a' }],
      files: {
        'ptp4l.0.config': ini('grandmaster', { ens2f0: { masterOnly: 1 }, ens7f0: { masterOnly: 1 } }),
        'ts2phc.0.config': ini('grandmaster', { ens2f0: { 'ts2phc.extts_polarity': 'rising' }, ens1f0: {} }),
      },
    });
    const steps: Array<[string, string, number]> = [
      ['ens2f0', 's0', FREERUN],
      ['ens1f0', 's2', LOCKED],
      ['ens2f0', 's0', FREERUN],
      ['ens1f0', 's2', LOCKED],
    ];
    for (const [iface, s, want] of steps) {
      await rig.send(
        `dpll[1700598434]:[ts2phc.0.config] ${iface} frequency_status 3 offset 0 phase_status 3 pps_status 1 ${s}`,
      );
      expect(await rig.value('clock_state', { process: 'dpll', iface }), `${iface} ${s}`).toBe(want);
    }
    expect(await rig.value('clock_state', { process: 'dpll', iface: 'ens2f0' })).toBe(FREERUN);
    expect(await rig.value('frequency_status', { process: 'dpll', iface: 'ens1f0' })).toBe(3);
    expect(await rig.value('phase_status', { process: 'dpll', iface: 'ens1f0' })).toBe(3);
  });

  describe('TestParseSyncELogs (synce4l.0.config, devices synce1 and synce2)', () => {
    const synce: CepLoad = {
      profiles: [{ name: 'synce', synce4lOpts: '-f /etc/synce4l.conf' }],
      files: {
        'synce4l.0.config': ini('synce', {
          '<synce1>': { network_option: 2, extended_tlv: 1 },
          ens7f0: { tx_heartbeat_msec: 1000 },
          ens7f1: {},
          '<synce2>': { network_option: 2 },
          ens5f1: {},
        }),
      },
      aliases: { ens7f0: 'ens7fx' },
    };
    const ql = (iface: string, device: string, type: string) =>
      rig.value('synce_ssm_ql', {
        process: 'synce4l',
        profile: 'synce4l.0.config',
        network_option: '2',
        iface,
        device,
        ql_type: type,
      });
    const quality = (iface: string, device: string) =>
      rig.value('synce_clock_quality', {
        process: 'synce4l',
        profile: 'synce4l.0.config',
        network_option: '2',
        iface,
        device,
      });
    beforeAll(async () => rig.load(synce));

    it('1 "Invalid log format": no synce series, no clock', async () => {
      await rig.send('invalid log format', 'synce4l[1722456000]:[synce4l.0.config] invalid log format');
      const text = await rig.text();
      expect(text).not.toMatch(/openshift_ptp_synce_\w+\{/);
      expect(text).not.toContain('process="synce4l"');
    });

    it('2 "Valid log with clock_quality": SSM 0x1, extended 0x20, quality 33; a quality line sets no clock state', async () => {
      await rig.send(
        'synce4l[1722458091]:[synce4l.0.config] ens7f0 clock_quality PRTC device synce1 ext_ql 0x20 network_option 2 ql 0x1 s2',
      );
      expect(await ql('ens7f0', 'synce1', 'SSM')).toBe(0x1);
      expect(await ql('ens7f0', 'synce1', 'Extended SSM')).toBe(0x20);
      expect(await quality('ens7f0', 'synce1')).toBe(33);
      // The reference sets clock_state only from eec_state lines.
      expect(await rig.value('clock_state', { process: 'synce4l', iface: 'ens7f0' })).toBeUndefined();
    });

    it('3 "Valid log with eec_state": EEC_HOLDOVER s1 → the port HOLDOVER, and the device synce1 HOLDOVER', async () => {
      await rig.send(
        'synce4l[1722456110]:[synce4l.0.config] ens7f0 device synce1 eec_state EEC_HOLDOVER network_option 2 s1',
      );
      // synce4l's clock_state keeps the port's name (the reference labels it with the interface, not the alias).
      expect(await rig.value('clock_state', { process: 'synce4l', iface: 'ens7f0' })).toBe(HOLDOVER);
      expect(await rig.value('clock_state', { process: 'synce4l', iface: 'synce1' })).toBe(HOLDOVER);
      expect(rig.events).toContainEqual(
        expect.objectContaining({
          type: 'clock.stateChanged',
          key: 'synce4l/synce1',
          iface: 'synce1',
          synce: { device: 'synce1', level: 'device' },
          to: 'HOLDOVER',
        }),
      );
      // The quality gauges of the port are untouched by a state line.
      expect(await quality('ens7f0', 'synce1')).toBe(33);
    });

    it('4 "Valid log with clock_quality new device": synce2 without ext_ql → extended 0xFF, quality 0x1 + 0xFF', async () => {
      await rig.send(
        'synce4l[1722458091]:[synce4l.0.config] ens5f1 clock_quality PRTC device synce2 network_option 2 ql 0x1 s2',
      );
      expect(await ql('ens5f1', 'synce2', 'SSM')).toBe(1);
      expect(await ql('ens5f1', 'synce2', 'Extended SSM')).toBe(0xff);
      expect(await quality('ens5f1', 'synce2')).toBe(0x1 + 0xff);
      // One device does not move the other.
      expect(await rig.value('clock_state', { process: 'synce4l', iface: 'synce1' })).toBe(HOLDOVER);
      expect(await rig.value('clock_state', { process: 'synce4l', iface: 'synce2' })).toBeUndefined();
    });
  });

  it('the overall state of a synce4l device from its ports (the reference keeps one per device beside the ports)', async () => {
    // The reference computes an overall clock state per device from its ports' EEC states (UpdateSyncEClockState);
    // here it is the synceDevice chart: LOCKED while a port is LOCKED, else HOLDOVER while one holds over, else FREERUN.
    await rig.load({
      profiles: [{ name: 'synce', synce4lOpts: '-f /etc/synce4l.conf' }],
      files: {
        'synce4l.0.config': ini('synce', { '<synce1>': { network_option: 2 }, ens7f0: {}, ens7f1: {} }),
      },
    });
    const eec = (port: string, state: string, s: string) =>
      `synce4l[1722456110]:[synce4l.0.config] ${port} device synce1 eec_state ${state} network_option 2 ${s}`;
    const device = () => rig.value('clock_state', { process: 'synce4l', iface: 'synce1' });
    const steps: Array<[string, number]> = [
      [eec('ens7f0', 'EEC_LOCKED', 's2'), LOCKED],
      [eec('ens7f1', 'EEC_FREERUN', 's0'), LOCKED],
      [eec('ens7f0', 'EEC_HOLDOVER', 's1'), HOLDOVER],
      [eec('ens7f1', 'EEC_LOCKED', 's2'), LOCKED],
      [eec('ens7f1', 'EEC_FREERUN', 's0'), HOLDOVER],
      [eec('ens7f0', 'EEC_FREERUN', 's0'), FREERUN],
    ];
    for (const [line, want] of steps) {
      await rig.send(line);
      expect(await device(), line).toBe(want);
    }
    const deviceEvents = rig.events
      .filter((e) => e.type === 'clock.stateChanged' && e.key === 'synce4l/synce1')
      .map((e) => (e.type === 'clock.stateChanged' ? `${e.from ?? '-'}>${e.to}` : ''));
    expect(deviceEvents).toEqual([
      '->FREERUN',
      'FREERUN>LOCKED',
      'LOCKED>HOLDOVER',
      'HOLDOVER>LOCKED',
      'LOCKED>HOLDOVER',
      'HOLDOVER>FREERUN',
    ]);
    // The port events name their device.
    expect(rig.events).toContainEqual(
      expect.objectContaining({
        key: 'synce4l/ens7f1',
        synce: { device: 'synce1', level: 'port' },
        from: 'FREERUN',
        to: 'LOCKED',
      }),
    );
    // A device the configuration does not have makes no chart and no series.
    await rig.send(
      'synce4l[1722456111]:[synce4l.0.config] ens7f0 device synce9 eec_state EEC_LOCKED network_option 2 s2',
    );
    expect(await rig.value('clock_state', { process: 'synce4l', iface: 'synce9' })).toBeUndefined();
    expect(await device()).toBe(FREERUN);
  });

  it('Test_ParseGmLogs: T-GM-STATUS s0 FREERUN, s1 HOLDOVER, s2 LOCKED; the GM offset is the DPLL’s', async () => {
    await rig.load(grandmaster);
    // The reference seeds the DPLL dependency of ens2f1 with offset 0 and s2 before each GM line.
    await rig.send(
      'dpll[1689014430]:[ts2phc.0.config] ens2f1 frequency_status 2 offset 0 phase_status 0 pps_status 2 s2',
    );
    for (const [s, want] of [
      ['s0', FREERUN],
      ['s1', HOLDOVER],
      ['s2', LOCKED],
    ] as const) {
      await rig.send(`GM[1689014431]:[ts2phc.0.config] ens2f1 T-GM-STATUS ${s}`);
      expect(await rig.value('clock_state', { process: 'GM', iface: 'ens2fx' }), s).toBe(want);
    }
    expect(await rig.value('offset_ns', { from: 'GM', process: 'GM', iface: 'ens2fx' })).toBe(0);
  });

  describe('TestExtractPTP4lEventState: the port role and whether the clock enters HOLDOVER', () => {
    // Ports: ptp4l.0.config port 1 ens1f0, port 2 ens1f1; ptp4l.1.config port 1 ens2f0; all SLAVE at load. Each case
    // starts from a fresh load, as the reference's case starts from a fresh parse. The reference's role of the port
    // after the line, and its clock state hint (HOLDOVER: a SLAVE port was lost).
    const oc: CepLoad = {
      profiles: [
        { name: 'oc', ptp4lOpts: '-2 -s', ptpClockThreshold: { holdOverTimeout: 60 } },
        { name: 'oc1', ptp4lOpts: '-2 -s', ptpClockThreshold: { holdOverTimeout: 60 } },
      ],
      files: {
        'ptp4l.0.config': ini('oc', { ens1f0: {}, ens1f1: {} }),
        'ptp4l.1.config': ini('oc1', { ens2f0: {} }),
      },
    };
    const roleValue: Record<string, number> = { PASSIVE: 0, SLAVE: 1, MASTER: 2, FAULTY: 3, UNKNOWN: 4, LISTENING: 5 };
    const cases: Array<{ name: string; log: string; iface: string; role: string; state: 'HOLDOVER' | 'FREERUN' }> = [
      {
        name: 'b49691.fffe.a3f27c-1 changed state (not a port number: ignored)',
        log: 'phc2sys[152918.606]: [phc2sys.2.config:6] port b49691.fffe.a3f27c-1 changed state',
        iface: 'ens1f0',
        role: 'SLAVE', // unchanged: the role from the config
        state: 'FREERUN',
      },
      {
        name: 'INITIALIZING to LISTENING',
        log: 'ptp4l[152918.700]: [ptp4l.0.config:6] port 2 (ens1f1): INITIALIZING to LISTENING on INIT_COMPLETE',
        iface: 'ens1f1',
        role: 'LISTENING',
        state: 'FREERUN',
      },
      {
        name: 'LISTENING to UNCALIBRATED (ptp4l.1.config)',
        log: 'ptp4l[152918.800]: [ptp4l.1.config:6] port 1 (ens2f0): LISTENING to UNCALIBRATED on RS_SLAVE',
        iface: 'ens2f0',
        role: 'FAULTY',
        state: 'HOLDOVER',
      },
      {
        name: 'FAULTY on FAULT_DETECTED',
        log: 'ptp4l[72444.514]: [ptp4l.0.config:5] port 1 (ens1f0): SLAVE to FAULTY on FAULT_DETECTED (FT_UNSPECIFIED)',
        iface: 'ens1f0',
        role: 'FAULTY',
        state: 'HOLDOVER',
      },
      {
        name: 'LISTENING to UNCALIBRATED',
        log: 'ptp4l[72530.751]: [ptp4l.0.config:5] port 1 (ens1f0): LISTENING to UNCALIBRATED on RS_SLAVE',
        iface: 'ens1f0',
        role: 'FAULTY',
        state: 'HOLDOVER',
      },
      {
        name: 'UNCALIBRATED to SLAVE',
        log: 'ptp4l[72530.885]: [ptp4l.0.config:5] port 1 (ens1f0): UNCALIBRATED to SLAVE on MASTER_CLOCK_SELECTED',
        iface: 'ens1f0',
        role: 'SLAVE',
        state: 'FREERUN',
      },
      {
        name: 'SLAVE to UNCALIBRATED',
        log: 'ptp4l[5199193.712]: [ptp4l.0.config] port 1: SLAVE to UNCALIBRATED on SYNCHRONIZATION_FAULT',
        iface: 'ens1f0',
        role: 'FAULTY',
        state: 'HOLDOVER',
      },
      {
        name: 'LISTENING to SLAVE',
        log: 'ptp4l[5199200.100]: [ptp4l.0.config] port 1: LISTENING to SLAVE',
        iface: 'ens1f0',
        role: 'SLAVE',
        state: 'FREERUN',
      },
      {
        name: 'SLAVE to PASSIVE',
        log: 'ptp4l[5199210.200]: [ptp4l.0.config] port 1: SLAVE to PASSIVE',
        iface: 'ens1f0',
        role: 'PASSIVE',
        state: 'FREERUN',
      },
      {
        name: 'SLAVE to MASTER',
        log: 'ptp4l[5199220.300]: [ptp4l.0.config] port 1: SLAVE to MASTER',
        iface: 'ens1f0',
        role: 'MASTER',
        state: 'HOLDOVER',
      },
      {
        name: 'INITIALIZING to LISTENING (follower only)',
        log: 'ptp4l[5199230.400]: [ptp4l.0.config] port 1: INITIALIZING to LISTENING',
        iface: 'ens1f0',
        role: 'LISTENING',
        state: 'FREERUN',
      },
    ];
    for (const c of cases) {
      it(c.name, async () => {
        await rig.load(oc);
        // The clock of the profile's SLAVE port is LOCKED first (as a running slave would be), so "no HOLDOVER"
        // shows as "still LOCKED" and HOLDOVER as a change.
        const cfg = c.iface === 'ens2f0' ? 'ptp4l.1.config' : 'ptp4l.0.config';
        await rig.send(`ptp4l[1.0]: [${cfg}] master offset 5 s2 freq +1 path delay 10`);
        const slave = c.iface === 'ens2f0' ? 'ens2f0' : 'ens1f0';
        expect(await rig.value('clock_state', { process: 'ptp4l', iface: slave })).toBe(LOCKED);
        await rig.send(c.log);
        expect(await rig.value('interface_role', { process: 'ptp4l', iface: c.iface })).toBe(roleValue[c.role]);
        const want = c.state === 'HOLDOVER' ? HOLDOVER : LOCKED;
        expect(await rig.value('clock_state', { process: 'ptp4l', iface: slave })).toBe(want);
      });
    }
  });
});
