// Cases derived one by one from cloud-event-proxy's own tests of its configuration and socket handling:
// config/config_test.go (Test_Config over its test profiles: thresholds per profile, corrections, HA profiles),
// ptp_operator_plugin_test.go (TestSetThresholdMetrics, TestProcessMessages_*), metrics/manager_test.go
// (TestListHAProfilesWith). Same rig as the other ptp.cep tests: the composed ptp service, its real socket, a real
// alias server on loopback; values read from /metrics and from what observers receive.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ini, startCepRig, type CepRig } from './ptp.cep.harness.js';

let rig: CepRig;
beforeAll(async () => {
  rig = await startCepRig();
});
afterAll(async () => rig?.close());

const thresholds = async (profile: string) => ({
  min: await rig.value('threshold', { threshold: 'MinOffsetThreshold', profile }),
  max: await rig.value('threshold', { threshold: 'MaxOffsetThreshold', profile }),
  holdover: await rig.value('threshold', { threshold: 'HoldOverTimeout', profile }),
});

describe('from CEP config_test.go Test_Config (its test profiles, the fields that matter)', () => {
  const ptp4lConf = (iface: string) => `[global]\nslaveOnly 0\n[${iface}]\nmasterOnly 0\n`;
  it('"section": profile0 on ens5f1, thresholds 5 s / 3000 / -3000', async () => {
    await rig.load({
      profiles: [
        {
          name: 'profile0',
          ptp4lOpts: '-2 -s --summary_interval -4',
          phc2sysOpts: '-a -r -m -n 24 -N 8 -R 16',
          ptp4lConf: ptp4lConf('ens5f1'),
          ptpClockThreshold: { holdOverTimeout: 5, maxOffsetThreshold: 3000, minOffsetThreshold: -3000 },
        },
      ],
      files: { 'ptp4l.0.config': ini('profile0', { ens5f1: { masterOnly: 0 } }) },
    });
    expect(await thresholds('profile0')).toEqual({ min: -3000, max: 3000, holdover: 5 });
    // The thresholds are the ones the clock uses: 2999 is in range, 3000 is not (strict).
    await rig.send('ptp4l[1.0]: [ptp4l.0.config] master offset 2999 s2 freq +1 path delay 10');
    expect(await rig.value('clock_state', { process: 'ptp4l', iface: 'ens5f1' })).toBe(1);
    await rig.send('ptp4l[1.0]: [ptp4l.0.config] master offset 3000 s2 freq +1 path delay 10');
    expect(await rig.value('clock_state', { process: 'ptp4l', iface: 'ens5f1' })).toBe(0);
  });

  it('"single": profile0, thresholds 30 s / 100 / -100', async () => {
    await rig.load({
      profiles: [
        {
          name: 'profile0',
          interface: 'ens5f1',
          ptp4lOpts: '-2 -s --summary_interval -4',
          ptpClockThreshold: { holdOverTimeout: 30, maxOffsetThreshold: 100, minOffsetThreshold: -100 },
        },
      ],
      files: {},
    });
    expect(await thresholds('profile0')).toEqual({ min: -100, max: 100, holdover: 30 });
  });

  it('"mixed": two profiles, each its own thresholds (10 / 50 / -50 and 30 / 100 / -100)', async () => {
    await rig.load({
      profiles: [
        {
          name: 'profile0',
          interface: 'ens5f0',
          ptpClockThreshold: { holdOverTimeout: 10, maxOffsetThreshold: 50, minOffsetThreshold: -50 },
        },
        {
          name: 'profile1',
          interface: 'ens5f1',
          ptpClockThreshold: { holdOverTimeout: 30, maxOffsetThreshold: 100, minOffsetThreshold: -100 },
        },
      ],
      files: {
        'ptp4l.0.config': ini('profile0', { ens5f0: {} }),
        'ptp4l.1.config': ini('profile1', { ens5f1: {} }),
      },
    });
    expect(await thresholds('profile0')).toEqual({ min: -50, max: 50, holdover: 10 });
    expect(await thresholds('profile1')).toEqual({ min: -100, max: 100, holdover: 30 });
    // 75 ns: out of profile0's range, in profile1's.
    await rig.send(
      'ptp4l[1.0]: [ptp4l.0.config] master offset 75 s2 freq +1 path delay 10',
      'ptp4l[1.0]: [ptp4l.1.config] master offset 75 s2 freq +1 path delay 10',
    );
    expect(await rig.value('clock_state', { process: 'ptp4l', iface: 'ens5f0' })).toBe(0);
    expect(await rig.value('clock_state', { process: 'ptp4l', iface: 'ens5f1' })).toBe(1);
  });

  it('"optionalPhcOpts": a profile without phc2sysOpts loads (30 / 100 / -100)', async () => {
    await rig.load({
      profiles: [
        {
          name: 'profile0',
          interface: 'ens5f1',
          ptp4lOpts: '-2 -s --summary_interval -4',
          ptpClockThreshold: { holdOverTimeout: 30, maxOffsetThreshold: 100, minOffsetThreshold: -100 },
        },
      ],
      files: { 'ptp4l.0.config': ini('profile0', { ens5f1: {} }) },
    });
    expect(await thresholds('profile0')).toEqual({ min: -100, max: 100, holdover: 30 });
  });

  it('"none": no profiles, no threshold series', async () => {
    await rig.load({ profiles: [], files: {} });
    expect(await rig.text()).not.toContain('openshift_ptp_threshold{');
  });

  it('"ptpha": profileHA (haProfiles profile1,profile2, no interface): its phc2sys lines count, ha_profile_status', async () => {
    await rig.load({
      profiles: [
        {
          name: 'profileHA',
          ptp4lOpts: '',
          phc2sysOpts: '-a -r -m -n 24 -N 8 -R 16',
          ptpSettings: { haProfiles: 'profile1,profile2' },
          ptpClockThreshold: { holdOverTimeout: 30, maxOffsetThreshold: 100, minOffsetThreshold: -100 },
        },
        { name: 'profile1', ptp4lOpts: '-2 -s' },
        { name: 'profile2', ptp4lOpts: '-2 -s' },
      ],
      files: {
        'ptp4l.0.config': ini('profile1', { ens1f0: {} }),
        'ptp4l.1.config': ini('profile2', { ens2f0: {} }),
        // linuxptp-daemon writes the HA profile's phc2sys config without interfaces.
        'phc2sys.2.config': ini('profileHA', {}),
      },
    });
    expect(await thresholds('profileHA')).toEqual({ min: -100, max: 100, holdover: 30 });
    // From CEP TestListHAProfilesWith: the profiles of the HA list are profile1 and profile2; their states.
    await rig.send(
      'phc2sys[1710435400]:[phc2sys.2.config] ptp_ha_profile profile1 state 1',
      'phc2sys[1710435400]:[phc2sys.2.config] ptp_ha_profile profile2 state 0',
      'phc2sys[1710435401]:[phc2sys.2.config] CLOCK_REALTIME phc offset -6 s2 freq -1 delay 500',
      // A profile that is not in the configuration ("unknown") makes no series.
      'phc2sys[1710435402]:[phc2sys.2.config] ptp_ha_profile unknown state 1',
    );
    expect(await rig.value('ha_profile_status', { process: 'phc2sys', profile: 'profile1' })).toBe(1);
    expect(await rig.value('ha_profile_status', { process: 'phc2sys', profile: 'profile2' })).toBe(0);
    expect(await rig.value('ha_profile_status', { process: 'phc2sys', profile: 'unknown' })).toBeUndefined();
    expect(await rig.value('offset_ns', { from: 'phc', process: 'phc2sys', iface: 'CLOCK_REALTIME' })).toBe(-6);
    expect(await rig.value('clock_state', { process: 'phc2sys', iface: 'CLOCK_REALTIME' })).toBe(1);
  });
});

describe('from CEP ptp_operator_plugin_test.go', () => {
  it('TestSetThresholdMetrics: threshold{MinOffsetThreshold -100, MaxOffsetThreshold 100, HoldOverTimeout 5}', async () => {
    await rig.load({
      profiles: [
        {
          name: 'test-profile',
          ptpClockThreshold: { maxOffsetThreshold: 100, minOffsetThreshold: -100, holdOverTimeout: 5 },
        },
      ],
      files: {},
    });
    expect(await thresholds('test-profile')).toEqual({ min: -100, max: 100, holdover: 5 });
  });

  it('TestProcessMessages_LiveStartBetweenRegularMessages: CMD LIVE_START between log lines; every log line is read', async () => {
    await rig.load({
      profiles: [{ name: 'oc', ptp4lOpts: '-2 -s', phc2sysOpts: '-a -r' }],
      files: { 'ptp4l.0.config': ini('oc', { ens1f0: {} }) },
    });
    await rig.send(
      'ptp4l[123.456]: [ptp4l.0.config] master offset  5 s2 freq -1000 path delay 100',
      'CMD LIVE_START',
      'ptp4l[123.457]: [ptp4l.0.config] master offset  3 s2 freq  -998 path delay  99',
      'CMD LIVE_START',
      'phc2sys[123.458]: [ptp4l.0.config] CLOCK_REALTIME phc offset  10 s2 freq -500 delay 200',
    );
    expect(await rig.value('offset_ns', { from: 'master', process: 'ptp4l', iface: 'ens1f0' })).toBe(3);
    expect(await rig.value('frequency_adjustment_ns', { from: 'master', process: 'ptp4l', iface: 'ens1f0' })).toBe(
      -998,
    );
    expect(await rig.value('delay_ns', { from: 'master', process: 'ptp4l', iface: 'ens1f0' })).toBe(99);
    expect(await rig.value('offset_ns', { from: 'phc', process: 'phc2sys', iface: 'CLOCK_REALTIME' })).toBe(10);
  });

  it('TestProcessMessages_MultipleLiveStartOnly: five CMD LIVE_START are commands, not log lines, and change nothing', async () => {
    await rig.load({
      profiles: [{ name: 'oc' }],
      files: { 'ptp4l.0.config': ini('oc', { ens1f0: {} }) },
    });
    const commands = async () =>
      Number(/syncvisor_socket_commands_total\{command="LIVE_START"\} (\d+)/.exec(await rig.text())?.[1] ?? NaN);
    const before = await commands();
    const events = rig.events.length;
    await rig.send('CMD LIVE_START', 'CMD LIVE_START', 'CMD LIVE_START', 'CMD LIVE_START', 'CMD LIVE_START');
    expect(await commands()).toBe(before + 5);
    expect(rig.events.length).toBe(events);
  });

  it('TestLiveStartCommand_ConstantValue: "CMD LIVE_START" and "CMD RESTART" are distinct commands', async () => {
    await rig.load({ profiles: [{ name: 'oc' }], files: { 'ptp4l.0.config': ini('oc', { ens1f0: {} }) } });
    const text = await rig.text();
    // The load itself was a CMD RESTART; LIVE_START did not restart anything above.
    expect(text).toMatch(/syncvisor_socket_commands_total\{command="RESTART"\} \d+/);
    expect(text).toMatch(/syncvisor_socket_commands_total\{command="LIVE_START"\} \d+/);
  });
});
