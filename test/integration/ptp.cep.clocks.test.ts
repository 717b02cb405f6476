// Cases derived one by one from cloud-event-proxy's own tests of its clock rules: metrics/tbc_test.go (T-BC
// detection and behaviour, E3 = worst of phc2sys and E1, O-RAN Table 37), metrics/ptp4lParse_test.go (the holdover
// timer), metrics/ntp_test.go (NTP, chronyd and the node sync state) and metrics/manager_test.go (the node sync state,
// OverallState). The same lines go through the real socket of the composed ptp service (a real HTTP alias server on
// loopback); the expected states are the reference test's. Where we deliberately differ (docs/ptp.md,
// "Differences"), the case says so and asserts our documented behaviour.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ini, startCepRig, type CepLoad, type CepRig } from './ptp.cep.harness.js';
import type { SidecarEmitted } from '../../src/machines/ptp/events.js';

const FREERUN = 0;
const LOCKED = 1;
const HOLDOVER = 2;

let rig: CepRig;
beforeAll(async () => {
  rig = await startCepRig();
});
afterAll(async () => rig?.close());

const osClock = () => rig.value('clock_state', { process: 'phc2sys', iface: 'CLOCK_REALTIME' });
const osEvents = (from = 0) =>
  rig.events.slice(from).filter((e): e is Extract<SidecarEmitted, { type: 'ptp.osClockStateChanged' }> => {
    return e.type === 'ptp.osClockStateChanged';
  });
const lastSyncState = () =>
  rig.events.filter((e) => e.type === 'ptp.syncStateChanged').at(-1) as
    Extract<SidecarEmitted, { type: 'ptp.syncStateChanged' }> | undefined;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A profile with one ptp4l config (port 1 = `iface`, SLAVE) and the phc2sys lines on the same config. */
function tbc(profile: Record<string, unknown>, iface = 'ens2f0', cfg = 'ptp4l.0.config'): CepLoad {
  const name = profile['name'] as string;
  return {
    profiles: [{ ptp4lOpts: '-2 -s', phc2sysOpts: '-a -r -n 24', ...profile }],
    files: { [cfg]: ini(name, { [iface]: {} }) },
  };
}

describe('from CEP tbc_test.go', () => {
  describe('TestTBCProfileDetection (seen through the T-BC rule "ptp4l state from the log, no range check")', () => {
    const cases: Array<[string, Record<string, unknown>, boolean]> = [
      ['Profile with external_pps', { ts2PhcOpts: '-s generic -m -f /var/run/ptp4l.0.config --external_pps' }, true],
      ['Profile with controllingProfile setting', { ptpSettings: { controllingProfile: '01-tbc-tr' } }, true],
      ['Profile without TBC markers', { ts2PhcOpts: '-s generic -m -f /var/run/ptp4l.0.config' }, false],
    ];
    for (const [name, opts, isTbc] of cases) {
      it(name, async () => {
        await rig.load(tbc({ name: 'test-profile', ...opts }));
        // 5000 ns is out of the default range (±100): LOCKED only when no range check applies (T-BC).
        await rig.send('ptp4l[5196819.100]: [ptp4l.0.config] master offset 5000 s2 freq +500 path delay 1000');
        expect(await rig.value('clock_state', { process: 'ptp4l', iface: 'ens2f0' })).toBe(isTbc ? LOCKED : FREERUN);
      });
    }
  });

  it('TestGetProfileType: each profile by its own name (tbc-profile-1, tbc-profile-2 T-BC; regular-profile not; no name: skipped)', async () => {
    const ctl = { ptpSettings: { controllingProfile: 'upstream' } };
    await rig.load({
      profiles: [{ name: 'tbc-profile-1', ...ctl }, { name: 'tbc-profile-2', ...ctl }, { name: 'regular-profile' }],
      files: {
        'ptp4l.0.config': ini('tbc-profile-1', { ens1f0: {} }),
        'ptp4l.1.config': ini('tbc-profile-2', { ens2f0: {} }),
        'ptp4l.2.config': ini('regular-profile', { ens3f0: {} }),
        // "Empty profile name": a config without a profile is skipped (no clock, no series).
        'ptp4l.3.config': '[global]\n[ens4f0]\n',
      },
    });
    for (const n of [0, 1, 2, 3]) {
      await rig.send(`ptp4l[1.0]: [ptp4l.${n}.config] master offset 5000 s2 freq +500 path delay 1000`);
    }
    expect(await rig.value('clock_state', { process: 'ptp4l', iface: 'ens1f0' })).toBe(LOCKED);
    expect(await rig.value('clock_state', { process: 'ptp4l', iface: 'ens2f0' })).toBe(LOCKED);
    expect(await rig.value('clock_state', { process: 'ptp4l', iface: 'ens3f0' })).toBe(FREERUN);
    expect(await rig.value('offset_ns', { process: 'ptp4l', iface: 'ens4f0' })).toBeUndefined();
  });

  it('TestTBCPtp4lMasterOffsetNoHoldover: s0 → FREERUN, s2 → LOCKED, never HOLDOVER', async () => {
    await rig.load(tbc({ name: 'tbc-test-profile', ptpSettings: { controllingProfile: 'x' } }));
    const seen: number[] = [];
    await rig.send('ptp4l[5196819.100]: [ptp4l.0.config] master offset -100 s0 freq +1000 path delay 1000');
    seen.push((await rig.value('clock_state', { process: 'ptp4l', iface: 'ens2f0' }))!);
    await rig.send('ptp4l[5196819.100]: [ptp4l.0.config] master offset -50 s2 freq +500 path delay 1000');
    seen.push((await rig.value('clock_state', { process: 'ptp4l', iface: 'ens2f0' }))!);
    expect(seen).toEqual([FREERUN, LOCKED]);
    expect(rig.events.filter((e) => e.type === 'clock.stateChanged' && e.to === 'HOLDOVER')).toEqual([]);
  });

  it('TestTBCProfileTypeSetBeforeTBCProfilesPopulated: rh_external_pps makes a T-BC from the first line (no start-up race here)', async () => {
    // The reference's test reproduces its own bug: the stored profile type stays NONE when the config was read
    // before the ConfigMap. Here the ConfigMap is read first at every load (docs/ptp.md), so the type is right at
    // once: a lost SLAVE port of this T-BC is FREERUN, never HOLDOVER.
    await rig.load(
      tbc(
        {
          name: 'tsc-holdover',
          phc2sysOpts: '-r -n 24 -N 8 -R 16 -u 0 -m -s ens3f2',
          ts2PhcOpts: '-s generic -a --ts2phc.rh_external_pps 1',
          ptpSettings: { logReduce: 'false' },
        },
        'ens3f2',
      ),
    );
    await rig.send('ptp4l[5196819.100]: [ptp4l.0.config] master offset -5 s2 freq +500 path delay 89');
    expect(await rig.value('clock_state', { process: 'ptp4l', iface: 'ens3f2' })).toBe(LOCKED);
    await rig.send(
      'ptp4l[3263.061]: [ptp4l.0.config:5] port 1 (ens3f2): SLAVE to FAULTY on FAULT_DETECTED (FT_UNSPECIFIED)',
    );
    expect(await rig.value('clock_state', { process: 'ptp4l', iface: 'ens3f2' })).toBe(FREERUN);
  });

  it('TestTBCFaultyPortSpuriousFreerun: no E3 event from a holdover timer; ours re-derives E3 at once (difference)', async () => {
    await rig.load(
      tbc(
        {
          name: 'tsc-holdover',
          phc2sysOpts: '-r -n 24 -N 8 -R 16 -u 0 -m -s ens3f2',
          ts2PhcOpts: '-s generic -a --ts2phc.rh_external_pps 1',
        },
        'ens3f2',
      ),
    );
    await rig.send(
      'ptp4l[5196819.100]: [ptp4l.0.config] master offset -5 s2 freq +500 path delay 89',
      'phc2sys[3263.065]: [ptp4l.0.config] CLOCK_REALTIME phc offset 3 s2 freq -20217 delay 536',
    );
    expect(await osClock()).toBe(LOCKED);
    const before = rig.events.length;
    await rig.send(
      'ptp4l[3263.061]: [ptp4l.0.config:5] port 1 (ens3f2): SLAVE to FAULTY on FAULT_DETECTED (FT_UNSPECIFIED)',
    );
    // No holdover timer runs for a T-BC (the port loss is FREERUN at once), so no late "spurious" event can come.
    expect(rig.events.slice(before).filter((e) => e.type === 'clock.stateChanged' && e.to === 'HOLDOVER')).toEqual([]);
    // Difference (docs/ptp.md): the reference publishes E3 only from the phc2sys path, so it turns FREERUN at the
    // next phc2sys sample; here E3 follows E1 (FREERUN) at once, exactly once.
    expect(osEvents(before)).toEqual([
      { type: 'ptp.osClockStateChanged', profile: 'tsc-holdover', from: 'LOCKED', to: 'FREERUN' },
    ]);
    await sleep(1200);
    expect(osEvents(before)).toHaveLength(1);
  });

  it('TestE3IncorporatesE1State: T-BC s2 + phc2sys s2 → E3 LOCKED; T-BC s0 → E3 FREERUN (at once here), and stays', async () => {
    await rig.load(tbc({ name: 'tbc-test-profile', ptpSettings: { controllingProfile: 'x' } }));
    await rig.send(
      'T-BC[1743005894]:[ptp4l.0.config] ens2f0 offset 5 T-BC-STATUS s2',
      'phc2sys[3263.065]: [ptp4l.0.config] CLOCK_REALTIME phc offset 3 s2 freq -20217 delay 536',
    );
    expect(await osClock()).toBe(LOCKED);
    const before = rig.events.length;
    await rig.send('T-BC[1743005900]:[ptp4l.0.config] ens2f0 offset 123 T-BC-STATUS s0');
    expect(await rig.value('clock_state', { process: 'T-BC', iface: 'ens2f0' })).toBe(FREERUN);
    // Difference: the reference keeps CLOCK_REALTIME LOCKED until the next phc2sys line; here E3 is FREERUN now.
    expect(await osClock()).toBe(FREERUN);
    // Step 4 of the reference: the next phc2sys sample, s2 in range: E3 = worst(LOCKED, FREERUN) = FREERUN.
    await rig.send('phc2sys[3264.065]: [ptp4l.0.config] CLOCK_REALTIME phc offset 3 s2 freq -20217 delay 536');
    expect(await osClock()).toBe(FREERUN);
    expect(osEvents(before)).toEqual([
      { type: 'ptp.osClockStateChanged', profile: 'tbc-test-profile', from: 'LOCKED', to: 'FREERUN' },
    ]);
  });

  describe('TestE3DerivationORANTable37 (the rows in order on one generation)', () => {
    const t37 = tbc({ name: 'tbc-e3-test', ptpSettings: { controllingProfile: 'x' } });
    beforeAll(async () => {
      await rig.load(t37);
      // The reference's baseline: the T-BC main clock LOCKED.
      await rig.send('T-BC[1743005894]:[ptp4l.0.config] ens2f0 offset 5 T-BC-STATUS s2');
    });
    const rows: Array<[string, string, string, number]> = [
      [
        'Row1: E1=LOCKED offset_in_range s2 → E3=LOCKED',
        's2',
        'CLOCK_REALTIME phc offset 3 s2 freq -20217 delay 536',
        LOCKED,
      ],
      [
        'Row2: E1=HOLDOVER offset_in_range s2 → E3=HOLDOVER',
        's1',
        'CLOCK_REALTIME phc offset 5 s2 freq -20217 delay 536',
        HOLDOVER,
      ],
      [
        'Row3: E1=FREERUN offset_in_range s2 → E3=FREERUN',
        's0',
        'CLOCK_REALTIME phc offset 3 s2 freq -20217 delay 536',
        FREERUN,
      ],
      [
        'Row4: E1=LOCKED offset_out_of_range s2 → E3=FREERUN',
        's2',
        'CLOCK_REALTIME phc offset 999999 s2 freq -20217 delay 536',
        FREERUN,
      ],
      ['Row5: E1=LOCKED servo=s0 → E3=FREERUN', 's2', 'CLOCK_REALTIME phc offset 3 s0 freq -20217 delay 536', FREERUN],
    ];
    for (const [name, e1, phc2sys, e3] of rows) {
      it(name, async () => {
        await rig.send(`T-BC[1743005895]:[ptp4l.0.config] ens2f0 offset 5 T-BC-STATUS ${e1}`);
        await rig.send(`phc2sys[3263.065]: [ptp4l.0.config] ${phc2sys}`);
        expect(await osClock()).toBe(e3);
      });
    }
  });

  it('TestTBCOffsetMetricUpdatedEveryLog: offset_ns{from="T-BC"} on every line (123, 55, 0) and the state of each', async () => {
    await rig.load({
      ...tbc({ name: 'tbc', ptpSettings: { controllingProfile: 'x' } }),
      aliases: { ens2f0: 'ens2fx' },
    });
    for (const [offset, s, want] of [
      [123, 's0', FREERUN],
      [55, 's2', LOCKED],
      [0, 's2', LOCKED],
    ] as const) {
      await rig.send(`T-BC[1743005894]:[ptp4l.0.config] ens2f0 offset ${offset} T-BC-STATUS ${s}`);
      expect(await rig.value('offset_ns', { from: 'T-BC', process: 'T-BC', iface: 'ens2fx' })).toBe(offset);
      expect(await rig.value('clock_state', { process: 'T-BC', iface: 'ens2fx' })).toBe(want);
    }
  });
});

describe('from CEP ptp4lParse_test.go (holdOverTimeout 1 s, the slave port ens5f0 aliased ens5fx)', () => {
  const boundary: CepLoad = {
    profiles: [{ name: 'boundary', ptp4lOpts: '-2', ptpClockThreshold: { holdOverTimeout: 1 } }],
    files: { 'ptp4l.0.config': ini('boundary', { ens5f0: {} }) },
    aliases: { ens5f0: 'ens5fx' },
  };
  const state = () => rig.value('clock_state', { process: 'ptp4l', iface: 'ens5fx' });
  const lock = 'ptp4l[1.0]: [ptp4l.0.config] master offset 5 s2 freq +1 path delay 10';
  const fault =
    'ptp4l[72444.514]: [ptp4l.0.config:5] port 1 (ens5f0): SLAVE to FAULTY on FAULT_DETECTED (FT_UNSPECIFIED)';

  it('TestHandleHoldOverStateExpiryTransitionsToFreerun (and …FaultHoldoverExpiry): HOLDOVER → FREERUN after the timeout, one PtpStateChange', async () => {
    await rig.load(boundary);
    await rig.send(lock, fault);
    expect(await state()).toBe(HOLDOVER);
    await expect.poll(state, { timeout: 3000, interval: 50 }).toBe(FREERUN);
    expect(rig.events).toContainEqual(
      expect.objectContaining({ type: 'clock.stateChanged', key: 'ptp4l/ens5f0', from: 'HOLDOVER', to: 'FREERUN' }),
    );
  });

  it('TestHandleHoldOverStateCancelled: a cancelled timer (here: an in-range LOCKED offset) never turns it FREERUN', async () => {
    await rig.load(boundary);
    await rig.send(lock, fault);
    expect(await state()).toBe(HOLDOVER);
    await rig.send(lock);
    expect(await state()).toBe(LOCKED);
    await sleep(1500);
    expect(await state()).toBe(LOCKED);
  });

  it('TestHandleHoldOverStateExpiryNoOpWhenNotHoldover: a LOCKED clock stays LOCKED past the timeout', async () => {
    await rig.load(boundary);
    await rig.send(lock);
    await sleep(1500);
    expect(await state()).toBe(LOCKED);
  });

  it('TestPtpThresholdResetClosesPreviousChannel: a reload (new thresholds) ends the old timer; it never fires', async () => {
    await rig.load(boundary);
    await rig.send(lock, fault);
    expect(await state()).toBe(HOLDOVER);
    await rig.load({ ...boundary, profiles: [{ name: 'boundary', ptpClockThreshold: { holdOverTimeout: 5 } }] });
    await sleep(1500);
    // The old clock reported nothing after it retired; the new generation's clock started FREERUN (from null).
    expect(rig.events.filter((e) => e.type === 'clock.stateChanged' && e.from === 'HOLDOVER')).toEqual([]);
    expect(await rig.value('threshold', { threshold: 'HoldOverTimeout', profile: 'boundary' })).toBe(5);
  });

  it('TestSlaveToMasterHoldoverTimerRecovery: LOCKED, SLAVE to MASTER → MASTER and HOLDOVER, FREERUN after the timeout', async () => {
    await rig.load(boundary);
    await rig.send(lock);
    await rig.send(
      'ptp4l[72444.514]: [ptp4l.0.config:5] port 1 (ens5f0): SLAVE to MASTER on ANNOUNCE_RECEIPT_TIMEOUT_EXPIRES',
    );
    expect(await rig.value('interface_role', { process: 'ptp4l', iface: 'ens5f0' })).toBe(2);
    expect(await state()).toBe(HOLDOVER);
    await expect.poll(state, { timeout: 3000, interval: 50 }).toBe(FREERUN);
  });

  it('TestClockClass248WithoutHoldoverNoStateChange: CLOCK_CLASS_CHANGE 248 sets clock_class, no state change', async () => {
    await rig.load({ ...boundary, files: { 'ptp4l.0.config': ini('boundary', { ens5f0: { masterOnly: 1 } }) } });
    await rig.send('ptp4l[1646672953]:[ptp4l.0.config] CLOCK_CLASS_CHANGE 6.000000');
    const before = rig.events.length;
    await rig.send('ptp4l[1646672953]:[ptp4l.0.config] CLOCK_CLASS_CHANGE 248.000000');
    expect(await rig.value('clock_class', { process: 'ptp4l', config: 'ptp4l.0.config' })).toBe(248);
    expect(rig.events.slice(before)).toEqual([]);
  });

  it('TestStartHoldoverTimerWithNilPtpOptsStillRecovers: a profile without process options still recovers to FREERUN', async () => {
    await rig.load({ ...boundary, profiles: [{ name: 'boundary', ptpClockThreshold: { holdOverTimeout: 1 } }] });
    await rig.send(lock, fault);
    expect(await state()).toBe(HOLDOVER);
    await expect.poll(state, { timeout: 3000, interval: 50 }).toBe(FREERUN);
  });
});

describe('from CEP ntp_test.go and manager_test.go: the node sync state and the OS clock', () => {
  const ntp = (profile: Record<string, unknown>): CepLoad => ({
    profiles: [{ ptp4lOpts: '-2 -s', phc2sysOpts: '-a -r -r -n 24', ...profile }],
    files: {
      'ptp4l.0.config': ini(profile['name'] as string, { ens3f0: {} }),
      'chronyd.0.config': ini(profile['name'] as string, {}),
    },
  });

  it('TestNTPProcessDownEmitsOsClockWhenNoChronyd: phc2sys down → CLOCK_REALTIME FREERUN, an OsClockSyncStateChange', async () => {
    await rig.load({ ...ntp({ name: 'ptp-oc' }), files: { 'ptp4l.0.config': ini('ptp-oc', { ens3f0: {} }) } });
    await rig.send(
      'ptp4l[1.0]: [ptp4l.0.config] master offset 5 s2 freq +1 path delay 10',
      'phc2sys[1234.000]: [ptp4l.0.config] CLOCK_REALTIME phc offset 3 s2 freq -20217 delay 536',
    );
    expect(await osClock()).toBe(LOCKED);
    const before = rig.events.length;
    await rig.send('phc2sys[1234.567]: [ptp4l.0.config] PTP_PROCESS_STATUS 0');
    expect(await osClock()).toBe(FREERUN);
    expect(osEvents(before)).toEqual([
      { type: 'ptp.osClockStateChanged', profile: 'ptp-oc', from: 'LOCKED', to: 'FREERUN' },
    ]);
  });

  it('TestNTPChronydSelectedSourceSetsLocked: chronyd "Selected source" → CLOCK_REALTIME of chronyd LOCKED', async () => {
    await rig.load(ntp({ name: 'ntp-failover', chronydOpts: '-f /etc/chrony.conf' }));
    await rig.send('chronyd[5678.901]: [chronyd.0.config] Selected source 192.168.1.1 (ntp.example.com)');
    expect(await rig.value('clock_state', { process: 'chronyd', iface: 'CLOCK_REALTIME' })).toBe(LOCKED);
    expect(rig.events).toContainEqual(
      expect.objectContaining({ type: 'clock.stateChanged', key: 'chronyd/CLOCK_REALTIME', to: 'LOCKED' }),
    );
  });

  const crSeries = async () => ({
    phc2sys: await rig.value('clock_state', { process: 'phc2sys', iface: 'CLOCK_REALTIME' }),
    chronyd: await rig.value('clock_state', { process: 'chronyd', iface: 'CLOCK_REALTIME' }),
  });
  const failover = () => ntp({ name: 'ntp-failover', chronydOpts: '-f /etc/chrony.conf' });
  const ptpLocked = 'ptp4l[1.0]: [ptp4l.0.config] master offset 5 s2 freq +1 path delay 10';
  const phcLocked = 'phc2sys[1001.000]: [ptp4l.0.config] CLOCK_REALTIME phc offset       -10 s2 freq  -100 delay   100';
  const selected = 'chronyd[1002.000]: [chronyd.0.config] Selected source 192.168.1.1 (ntp.example.com)';
  const realtimeChanges = (from: number) =>
    rig.events.slice(from).filter((e) => e.type === 'clock.stateChanged' && e.iface === 'CLOCK_REALTIME');

  it('TestNTPProcessDownDoesNotEmitOsClockSyncStateChange: with chronyd, phc2sys down keeps CLOCK_REALTIME LOCKED, no OS-clock event', async () => {
    await rig.load(failover());
    await rig.send(ptpLocked, phcLocked);
    expect(await osClock()).toBe(LOCKED);
    const before = rig.events.length;
    await rig.send('phc2sys[1234.567]: [ptp4l.0.config] PTP_PROCESS_STATUS 0');
    expect(await rig.value('process_status', { process: 'phc2sys', config: 'ptp4l.0.config' })).toBe(0);
    expect(await osClock()).toBe(LOCKED);
    expect(osEvents(before)).toEqual([]);
    expect(realtimeChanges(before)).toEqual([]);
  });

  it('TestNTPNoDoubleClockRealtime: SLAVE port, phc2sys down (no OS-clock event), chronyd Selected source → chronyd LOCKED, one series', async () => {
    await rig.load(failover());
    await rig.send('ptp4l[1000.000]: [ptp4l.0.config] port 1 (ens3f0): LISTENING to SLAVE on RS_SLAVE');
    const before = rig.events.length;
    await rig.send('phc2sys[1001.000]: [ptp4l.0.config] PTP_PROCESS_STATUS 0');
    expect(osEvents(before)).toEqual([]);
    await rig.send(selected);
    expect(await crSeries()).toEqual({ phc2sys: undefined, chronyd: LOCKED });
    // chronyd publishes the OS clock (CEP: an OsClockSyncStateChange), the profile's first.
    expect(osEvents(before)).toEqual([
      { type: 'ptp.osClockStateChanged', profile: 'ntp-failover', from: null, to: 'LOCKED' },
    ]);
  });

  it('TestNTPFailoverClockRealTimeMetricSwapsOwner: phc2sys → chronyd → phc2sys, exactly one CLOCK_REALTIME series at a time', async () => {
    await rig.load(failover());
    await rig.send(ptpLocked, phcLocked);
    // Stable GNSS: phc2sys owns CLOCK_REALTIME.
    expect(await crSeries()).toEqual({ phc2sys: LOCKED, chronyd: undefined });
    const before = rig.events.length;
    // GNSS loss → NTP failover: chronyd takes over; LOCKED → LOCKED is no OS-clock change.
    await rig.send('phc2sys[1000.500]: [ptp4l.0.config] PTP_PROCESS_STATUS 0', selected);
    expect(await crSeries()).toEqual({ phc2sys: undefined, chronyd: LOCKED });
    expect(osEvents(before)).toEqual([]);
    // GNSS recovery: phc2sys reports CLOCK_REALTIME again and reclaims it.
    await rig.send('phc2sys[1003.000]: [ptp4l.0.config] PTP_PROCESS_STATUS 1', phcLocked);
    expect(await crSeries()).toEqual({ phc2sys: LOCKED, chronyd: undefined });
    expect(osEvents(before)).toEqual([]);
  });

  it('TestExtractMetrics_ClearsStaleClockRealTimeOnFailover: Selected source, a phc2sys offset, no selectable sources each move the series', async () => {
    await rig.load(failover());
    await rig.send(ptpLocked, phcLocked);
    await rig.send('chronyd[1000.000]: [chronyd.0.config] Selected source 192.168.1.1 (ntp.example.com)');
    expect(await crSeries()).toEqual({ phc2sys: undefined, chronyd: LOCKED });
    await rig.send(phcLocked);
    expect(await crSeries()).toEqual({ phc2sys: LOCKED, chronyd: undefined });
    const before = rig.events.length;
    await rig.send('chronyd[1002.000]: [chronyd.0.config] no selectable sources');
    expect(await crSeries()).toEqual({ phc2sys: undefined, chronyd: FREERUN });
    expect(osEvents(before)).toEqual([
      { type: 'ptp.osClockStateChanged', profile: 'ntp-failover', from: 'LOCKED', to: 'FREERUN' },
    ]);
    // chronyd owns CLOCK_REALTIME: its state is the OS clock, whatever the PTP clock says.
    await rig.send('chronyd[1003.000]: [chronyd.0.config] Selected source 192.168.1.1 (ntp.example.com)');
    expect(await crSeries()).toEqual({ phc2sys: undefined, chronyd: LOCKED });
    await rig.send('ptp4l[2.0]: [ptp4l.0.config] master offset 5 s0 freq +1 path delay 10');
    expect(await crSeries()).toEqual({ phc2sys: undefined, chronyd: LOCKED });
    expect(osEvents(before).map((e) => e.to)).toEqual(['FREERUN', 'LOCKED']);
  });

  it('TestClearStaleClockRealTimeMetric_NoOpWithoutFailoverPair: without chronydOpts, both CLOCK_REALTIME series stay', async () => {
    await rig.load(ntp({ name: 'ntp-failover' }));
    await rig.send(ptpLocked, phcLocked, selected);
    expect(await crSeries()).toEqual({ phc2sys: LOCKED, chronyd: LOCKED });
    await rig.send('phc2sys[1234.567]: [ptp4l.0.config] PTP_PROCESS_STATUS 0');
    expect(await crSeries()).toEqual({ phc2sys: FREERUN, chronyd: LOCKED });
  });

  it('TestNTPNodeSyncStateIncludesMasterFreerun: chronyd LOCKED, ptp4l FREERUN → node sync state FREERUN', async () => {
    await rig.load(ntp({ name: 'ntp-failover', chronydOpts: '-f /etc/chrony.conf' }));
    await rig.send('chronyd[5678.901]: [chronyd.0.config] Selected source 192.168.1.1 (ntp.example.com)');
    expect(await rig.value('clock_state', { process: 'ptp4l', iface: 'ens3f0' })).toBe(FREERUN);
    expect(lastSyncState()?.to).toBe('FREERUN');
  });

  it('TestNTPNodeSyncStateDuringHoldover: ptp4l HOLDOVER, CLOCK_REALTIME LOCKED → node sync state HOLDOVER', async () => {
    await rig.load({
      ...ntp({ name: 'gnss-failover', ptpClockThreshold: { holdOverTimeout: 60 } }),
      files: { 'ptp4l.0.config': ini('gnss-failover', { ens3f0: {} }) },
    });
    await rig.send(
      'ptp4l[1.0]: [ptp4l.0.config] master offset 5 s2 freq +1 path delay 10',
      'phc2sys[1.0]: [ptp4l.0.config] CLOCK_REALTIME phc offset 3 s2 freq -20217 delay 536',
    );
    expect(lastSyncState()?.to).toBe('LOCKED');
    await rig.send('ptp4l[2.0]: [ptp4l.0.config] port 1 (ens3f0): SLAVE to FAULTY on FAULT_DETECTED (FT_UNSPECIFIED)');
    expect(await rig.value('clock_state', { process: 'ptp4l', iface: 'ens3f0' })).toBe(HOLDOVER);
    expect(lastSyncState()?.to).toBe('HOLDOVER');
  });

  describe('TestGetNodeSyncState_WithOptionalCurrentState / TestOverallState: the node state is the worst clock', () => {
    // Two ptp4l configs (two NICs) and phc2sys on the first: each clock put in a state through lines.
    const dual: CepLoad = {
      profiles: [
        { name: 'nic1', ptpClockThreshold: { holdOverTimeout: 60 } },
        { name: 'nic2', ptpClockThreshold: { holdOverTimeout: 60 } },
      ],
      files: {
        'ptp4l.0.config': ini('nic1', { ens1f0: {} }),
        'ptp4l.1.config': ini('nic2', { ens2f0: {} }),
      },
    };
    const put = async (cfg: string, iface: string, s: 'LOCKED' | 'HOLDOVER' | 'FREERUN'): Promise<void> => {
      await rig.send(`ptp4l[1.0]: [${cfg}] master offset 5 s2 freq +1 path delay 10`);
      if (s === 'HOLDOVER') await rig.send(`ptp4l[2.0]: [${cfg}] port 1 (${iface}): SLAVE to FAULTY on FAULT_DETECTED`);
      if (s === 'FREERUN') await rig.send(`ptp4l[2.0]: [${cfg}] master offset 5 s0 freq +1 path delay 10`);
    };
    const states = ['FREERUN', 'HOLDOVER', 'LOCKED'] as const;
    const worst = (a: string, b: string) =>
      a === 'FREERUN' || b === 'FREERUN' ? 'FREERUN' : a === 'HOLDOVER' || b === 'HOLDOVER' ? 'HOLDOVER' : 'LOCKED';
    for (const a of states) {
      for (const b of states) {
        it(`${a} + ${b} → ${worst(a, b)}`, async () => {
          await rig.load(dual);
          await put('ptp4l.0.config', 'ens1f0', a);
          await put('ptp4l.1.config', 'ens2f0', b);
          expect(lastSyncState()?.to).toBe(worst(a, b));
        });
      }
    }

    it('"Dual BC – NIC1 LOCKED, NIC2 HOLDOVER, OS clock FREERUN" → FREERUN', async () => {
      await rig.load(dual);
      await put('ptp4l.0.config', 'ens1f0', 'LOCKED');
      await put('ptp4l.1.config', 'ens2f0', 'HOLDOVER');
      await rig.send('phc2sys[1.0]: [ptp4l.0.config] CLOCK_REALTIME phc offset 3 s0 freq -20217 delay 536');
      expect(await osClock()).toBe(FREERUN);
      expect(lastSyncState()?.to).toBe('FREERUN');
    });

    it('"OC – PHC in HOLDOVER, OS clock FREERUN" → FREERUN; "Only LOCKED" → LOCKED', async () => {
      await rig.load(dual);
      await put('ptp4l.0.config', 'ens1f0', 'LOCKED');
      await put('ptp4l.1.config', 'ens2f0', 'LOCKED');
      await rig.send('phc2sys[1.0]: [ptp4l.0.config] CLOCK_REALTIME phc offset 3 s2 freq -20217 delay 536');
      expect(lastSyncState()?.to).toBe('LOCKED');
      await rig.load({ ...dual, files: { 'ptp4l.0.config': dual.files['ptp4l.0.config']! } });
      await put('ptp4l.0.config', 'ens1f0', 'HOLDOVER');
      await rig.send('phc2sys[1.0]: [ptp4l.0.config] CLOCK_REALTIME phc offset 3 s0 freq -20217 delay 536');
      expect(lastSyncState()?.to).toBe('FREERUN');
    });
  });
});

describe('from CEP os_clock_discipline_test.go (phc2sys -a -r: is CLOCK_REALTIME still selected as a sink?)', () => {
  const bc = (chronyd: boolean): CepLoad => ({
    profiles: [
      { name: 'bc-os-clock', phc2sysOpts: '-a -r', ...(chronyd ? { chronydOpts: '-f /etc/chrony.conf' } : {}) },
    ],
    files: { 'ptp4l.0.config': ini('bc-os-clock', { ens5f0: {} }) },
  });
  // The reference's test has no PTP clock; here E3 is the worst with E1, so the boundary clock's ptp4l locks first.
  const lockClockRealtime = async () => {
    await rig.send(
      'ptp4l[3263.000]: [ptp4l.0.config] master offset 5 s2 freq +1 path delay 10',
      'phc2sys[3263.065]: [ptp4l.0.config] CLOCK_REALTIME phc offset 3 s2 freq -20217 delay 536',
    );
    expect(await osClock()).toBe(LOCKED);
  };
  const reconfigure = 'phc2sys[3264.000]: [ptp4l.0.config] reconfiguring after port state change';
  const selectNic = 'phc2sys[3264.000]: [ptp4l.0.config] selecting ens5f0 for synchronization';
  const already =
    'phc2sys[3264.000]: [ptp4l.0.config] skipping ens5f1: ens5f0 has the same clock and is already selected';

  it('TestOsClockSilenceSettlePublishesFreerun: reconfigure, a NIC selected, then silence → E3 FREERUN after the settle time', async () => {
    await rig.load(bc(false));
    await lockClockRealtime();
    const before = rig.events.length;
    await rig.send(reconfigure, selectNic);
    await expect.poll(osClock, { timeout: 2000, interval: 20 }).toBe(FREERUN);
    expect(osEvents(before)).toEqual([
      { type: 'ptp.osClockStateChanged', profile: 'bc-os-clock', from: 'LOCKED', to: 'FREERUN' },
    ]);
    // A CLOCK_REALTIME sample proves discipline again.
    await rig.send('phc2sys[3265.065]: [ptp4l.0.config] CLOCK_REALTIME phc offset 2 s2 freq -20217 delay 536');
    expect(await osClock()).toBe(LOCKED);
  });

  it('TestOsClockAlreadySelectedPublishesFreerun: "already selected" without a CLOCK_REALTIME sample → E3 FREERUN at once', async () => {
    await rig.load(bc(false));
    await lockClockRealtime();
    const before = rig.events.length;
    await rig.send(reconfigure, selectNic, already);
    expect(await osClock()).toBe(FREERUN);
    expect(osEvents(before)).toHaveLength(1);
  });

  it('TestForwardSelectRealtimeCancelsSettle: selecting CLOCK_REALTIME ends the window, no FREERUN', async () => {
    await rig.load(bc(false));
    await lockClockRealtime();
    const before = rig.events.length;
    await rig.send(
      reconfigure,
      selectNic,
      'phc2sys[3264.000]: [ptp4l.0.config] selecting ens5f0 as domain source clock',
      'phc2sys[3264.000]: [ptp4l.0.config] selecting CLOCK_REALTIME for synchronization',
    );
    await sleep(400);
    expect(await osClock()).toBe(LOCKED);
    expect(osEvents(before)).toEqual([]);
  });

  it('TestOsClockFreerunSkippedWhenChronydEnabled: with chronyd in the profile, no FREERUN', async () => {
    await rig.load(bc(true));
    await lockClockRealtime();
    const before = rig.events.length;
    await rig.send(reconfigure, selectNic, already);
    await sleep(400);
    expect(await osClock()).toBe(LOCKED);
    expect(osEvents(before)).toEqual([]);
  });

  it('TestTBCFreerunPlusOsClockSilencePublishesE3: T-BC FREERUN (E3 at once here: difference), then the silence path', async () => {
    await rig.load({
      profiles: [{ name: 'tbc-os-clock', phc2sysOpts: '-a -r', ptpSettings: { controllingProfile: 'x' } }],
      files: { 'ptp4l.0.config': ini('tbc-os-clock', { ens5f0: {} }) },
    });
    await rig.send(
      'T-BC[1743005894]:[ptp4l.0.config] ens5f0 offset 5 T-BC-STATUS s2',
      'phc2sys[3263.065]: [ptp4l.0.config] CLOCK_REALTIME phc offset 3 s2 freq -20217 delay 536',
    );
    expect(await osClock()).toBe(LOCKED);
    await rig.send('T-BC[1743005900]:[ptp4l.0.config] ens5f0 offset 123 T-BC-STATUS s0');
    // The reference keeps CLOCK_REALTIME LOCKED until the next phc2sys sample; here E3 follows E1 at once.
    expect(await osClock()).toBe(FREERUN);
    // T-BC locks again; then phc2sys selects only the NIC and goes silent: E3 FREERUN from the silence.
    await rig.send(
      'T-BC[1743005901]:[ptp4l.0.config] ens5f0 offset 5 T-BC-STATUS s2',
      'phc2sys[3263.065]: [ptp4l.0.config] CLOCK_REALTIME phc offset 3 s2 freq -20217 delay 536',
    );
    expect(await osClock()).toBe(LOCKED);
    await rig.send(reconfigure, selectNic);
    await expect.poll(osClock, { timeout: 2000, interval: 20 }).toBe(FREERUN);
  });
});
