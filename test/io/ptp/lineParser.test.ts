import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadPtpGeneration, type PtpGeneration } from '../../../src/io/ptp/generation.js';
import { portTransition } from '../../../src/io/ptp/lineParser.js';
import { parseConfigFile } from '../../../src/io/ptp/configFiles.js';
import { clockTypeOf } from '../../../src/io/ptp/generation.js';

const shared = join(import.meta.dirname, '../../fixtures/ptp');
let dir: string;

const series = (text: string): string[] => text.split('\n').filter((l) => l !== '' && !l.startsWith('#'));

async function load(): Promise<PtpGeneration> {
  return loadPtpGeneration({ profilePath: dir, configDir: dir, nodeName: 'node1' });
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'syncvisor-ptp-parser-'));
  copyFileSync(join(shared, 'examples/ptp4l.0.config'), join(dir, 'ptp4l.0.config'));
  copyFileSync(join(shared, 'examples/ptp4l.1.config'), join(dir, 'ptp4l.1.config'));
  copyFileSync(join(shared, 'examples/node1.json'), join(dir, 'node1'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('PTP line parser', () => {
  it('turns lines.txt with the example configs into exactly these series and clock edges', async () => {
    const g = await load();
    const lines = readFileSync(join(shared, 'lines.txt'), 'utf8').split('\n').filter(Boolean);
    const edges = lines.flatMap((l) => g.ingest([l]).map((e) => `${e.key} ${e.verdict} ${e.holdoverTimeoutMs}`));
    expect(edges).toEqual([
      'ptp4l/ens5f1 locked 30000',
      'phc2sys/CLOCK_REALTIME freerun 30000',
      'phc2sys/CLOCK_REALTIME locked 30000',
      'ts2phc/ens5f1 locked 30000',
      'GM/ens5f1 freerun 30000',
      'ptp4l/ens1f0 holdover 5000', // LISTENING to UNCALIBRATED on RS_SLAVE of a SLAVE port: FAULTY and HOLDOVER
      'ptp4l/ens1f0 holdover 5000', // SLAVE to FAULTY: port events are edges themselves
      'chronyd/CLOCK_REALTIME locked 5000', // no chronyd config: default thresholds
    ]);
    expect(g.parser.stats).toEqual({ parsed: 13, ignored: 1, unknownClock: 0 });
    const n = 'node="node1"';
    expect(series(await g.metrics.text())).toEqual([
      `openshift_ptp_offset_ns{from="master",process="ptp4l",${n},iface="ens5f1"} -1`,
      `openshift_ptp_offset_ns{from="phc",process="phc2sys",${n},iface="CLOCK_REALTIME"} 4`,
      `openshift_ptp_offset_ns{from="sys",process="phc2sys",${n},iface="CLOCK_REALTIME"} 8`,
      `openshift_ptp_offset_ns{from="master",process="ts2phc",${n},iface="ens5f1"} 0`,
      `openshift_ptp_max_offset_ns{from="master",process="ptp4l",${n},iface="ens5f1"} -1`,
      `openshift_ptp_max_offset_ns{from="phc",process="phc2sys",${n},iface="CLOCK_REALTIME"} 4`,
      `openshift_ptp_max_offset_ns{from="sys",process="phc2sys",${n},iface="CLOCK_REALTIME"} 8`,
      `openshift_ptp_max_offset_ns{from="master",process="ts2phc",${n},iface="ens5f1"} 0`,
      `openshift_ptp_frequency_adjustment_ns{from="master",process="ptp4l",${n},iface="ens5f1"} -3972`,
      `openshift_ptp_frequency_adjustment_ns{from="phc",process="phc2sys",${n},iface="CLOCK_REALTIME"} -76829`,
      `openshift_ptp_frequency_adjustment_ns{from="sys",process="phc2sys",${n},iface="CLOCK_REALTIME"} -6990`,
      `openshift_ptp_frequency_adjustment_ns{from="master",process="ts2phc",${n},iface="ens5f1"} 0`,
      `openshift_ptp_delay_ns{from="master",process="ptp4l",${n},iface="ens5f1"} 89`,
      `openshift_ptp_delay_ns{from="phc",process="phc2sys",${n},iface="CLOCK_REALTIME"} 1085`,
      `openshift_ptp_delay_ns{from="sys",process="phc2sys",${n},iface="CLOCK_REALTIME"} 502`,
      `openshift_ptp_delay_ns{from="master",process="ts2phc",${n},iface="ens5f1"} 0`,
      `openshift_ptp_interface_role{process="ptp4l",${n},iface="ens5f1"} 1`,
      `openshift_ptp_interface_role{process="ptp4l",${n},iface="ens5f0"} 2`,
      `openshift_ptp_interface_role{process="ptp4l",${n},iface="ens1f0"} 3`,
      `openshift_ptp_interface_role{process="ptp4l",${n},iface="ens1f1"} 2`,
      `openshift_ptp_interface_role{process="ptp4l",${n},iface="ens1f2"} 1`,
      `openshift_ptp_threshold{threshold="MinOffsetThreshold",${n},profile="profile0"} -100`,
      `openshift_ptp_threshold{threshold="MaxOffsetThreshold",${n},profile="profile0"} 100`,
      `openshift_ptp_threshold{threshold="HoldOverTimeout",${n},profile="profile0"} 30`,
      `openshift_ptp_threshold{threshold="MinOffsetThreshold",${n},profile="bc1"} -50`,
      `openshift_ptp_threshold{threshold="MaxOffsetThreshold",${n},profile="bc1"} 50`,
      `openshift_ptp_threshold{threshold="HoldOverTimeout",${n},profile="bc1"} 5`,
      `openshift_ptp_clock_class{process="ptp4l",config="ptp4l.0.config",${n}} 248`,
      `openshift_ptp_process_status{process="ptp4l",${n},config="ptp4l.1.config"} 1`,
      `openshift_ptp_process_restart_count{process="ptp4l",${n},config="ptp4l.1.config"} 1`,
    ]);
  });

  it('sends only verdict changes, with the profile thresholds (strict range)', async () => {
    const g = await load();
    const line = (off: number, s = 's2') =>
      `ptp4l[1.0]: [ptp4l.1.config] master offset ${off} ${s} freq +1 path delay 5`; // bc1: -50 < off < 50
    expect(g.ingest([line(1), line(2), line(49)]).map((e) => e.verdict)).toEqual(['locked']);
    expect(g.ingest([line(50), line(-50), line(0), line(0, 's0'), line(0, 's1')]).map((e) => e.verdict)).toEqual([
      'outOfRange',
      'locked',
      'freerun',
    ]);
    expect(g.ingest([line(3, 's3')]).map((e) => e.iface)).toEqual(['ens1f0']);
  });

  it('parses ts2phc holdover, nmea_status, status lines and chronyd loss', async () => {
    const g = await load();
    const edges = g.ingest([
      'ts2phc[1]: [ts2phc.0.config] ens5f1 master offset 3 s2 freq -1 holdover',
      'ts2phc[1]: [ts2phc.0.config] ens5f1 nmea_status 1 offset 0 s2',
      'T-BC[1]:[ptp4l.0.config] ens5f1 offset 10 T-BC-STATUS s1',
      'dpll[1]:[ts2phc.0.config] ens5f1 frequency_status 3 offset 5 phase_status 3 pps_status 1 s2',
      'gnss[1]:[ts2phc.0.config] ens5f1 gnss_status 3 offset 5 s7',
      "chronyd[1]: [chronyd.0.config] Can't synchronise: no selectable sources",
    ]);
    expect(edges.map((e) => `${e.key} ${e.verdict}`)).toEqual([
      'ts2phc/ens5f1 daemonHoldover',
      'T-BC/ens5f1 daemonHoldover',
      'dpll/ens5f1 daemonLocked',
      'gnss/ens5f1 freerun',
      'chronyd/CLOCK_REALTIME freerun',
    ]);
    expect(await g.metrics.text()).toContain(
      'openshift_ptp_nmea_status{process="ts2phc",node="node1",iface="ens5f1"} 1',
    );
  });

  it('drops lines of unknown or unconfigured configs and garbage without throwing', async () => {
    const g = await load();
    const bad = [
      '',
      'garbage',
      '[[[[',
      'ptp4l[1]: [ptp4l.9.config] master offset 1 s2 freq 1 path delay 1', // no such config
      'ptp4l[1]: [other.0.config] master offset 1 s2 freq 1 path delay 1', // not a PTP config name
      'ptp4l[1]: [ptp4l.0.config] master offset x s2 freq 1 path delay 1',
      'ptp4l[1]: [ptp4l.0.config] port 9 (x): UNCALIBRATED to SLAVE on MASTER_CLOCK_SELECTED', // no 9th interface
      'ptp4l[1]: [ptp4l.0.config] port x: UNCALIBRATED to SLAVE on X',
      'ptp4l[1]: [ptp4l.0.config] PTP_PROCESS_STATUS:7',
      'phc2sys[1]: [ptp4l.0.config] ens5f1 rms 4 max 4 freq -76829 +/- 0 delay 1085 +/- 0', // NIC summary: ignored
      'ptp4l[1]: [ptp4l.0.config] CMD RESTART',
      '\u0000\uffff[]]][:::',
    ];
    expect(g.ingest(bad)).toEqual([]);
    expect(g.parser.stats).toEqual({ parsed: 0, ignored: bad.length, unknownClock: 0 });
    expect(series(await g.metrics.text()).filter((l) => !/interface_role|threshold/.test(l))).toEqual([]);
  });

  it('applies every port-transition rule in order', () => {
    const r = (from: string, to: string, ev = 'X') => {
      const t = portTransition(from, to, ev);
      return t ? `${t.role}${t.holdover ? '+H' : ''}` : 'ignored';
    };
    expect(r('UNCALIBRATED', 'SLAVE')).toBe('SLAVE');
    expect(r('LISTENING', 'SLAVE')).toBe('SLAVE');
    expect(r('MASTER', 'PASSIVE')).toBe('PASSIVE');
    expect(r('SLAVE', 'PASSIVE')).toBe('PASSIVE');
    expect(r('UNCALIBRATED', 'MASTER')).toBe('MASTER');
    expect(r('LISTENING', 'MASTER')).toBe('MASTER');
    expect(r('SLAVE', 'FAULTY', 'FAULT_DETECTED')).toBe('FAULTY+H');
    expect(r('MASTER', 'FAULTY', 'SYNCHRONIZATION_FAULT')).toBe('FAULTY+H');
    expect(r('SLAVE', 'UNCALIBRATED')).toBe('FAULTY+H');
    expect(r('MASTER', 'UNCALIBRATED', 'RS_SLAVE')).toBe('FAULTY+H');
    expect(r('LISTENING', 'UNCALIBRATED', 'RS_SLAVE')).toBe('FAULTY+H');
    expect(r('MASTER', 'UNCALIBRATED', 'ANNOUNCE')).toBe('ignored');
    expect(r('SLAVE', 'MASTER')).toBe('MASTER+H');
    expect(r('SLAVE', 'GRAND_MASTER')).toBe('MASTER+H');
    expect(r('SLAVE', 'LISTENING')).toBe('LISTENING+H');
    expect(r('FAULTY', 'LISTENING')).toBe('LISTENING');
    expect(r('UNCALIBRATED', 'LISTENING')).toBe('LISTENING');
    expect(r('INITIALIZING', 'LISTENING')).toBe('LISTENING');
    expect(r('MASTER', 'LISTENING')).toBe('ignored');
    expect(r('DISABLED', 'INITIALIZING')).toBe('ignored');
  });

  it('puts a clock in holdover only when a SLAVE port loses its role', async () => {
    const g = await load();
    // ens1f1 is MASTER by config (serverOnly 1): losing MASTER is no holdover.
    expect(g.ingest(['ptp4l[1]: [ptp4l.1.config] port 2: MASTER to UNCALIBRATED on RS_SLAVE'])).toEqual([]);
    const e = g.ingest(['ptp4l[1]: [ptp4l.1.config] port 3 (ens1f2): SLAVE to MASTER on RS_MASTER']);
    expect(e.map((x) => `${x.key} ${x.verdict}`)).toEqual(['ptp4l/ens1f2 holdover']);
  });
});

describe('PTP configuration loading', () => {
  it('reads a single-object ConfigMap, skips malformed INI files and reports them', async () => {
    const d = mkdtempSync(join(tmpdir(), 'syncvisor-ptp-config-'));
    try {
      writeFileSync(join(d, 'nodeA'), JSON.stringify({ name: 'p', ptpClockThreshold: { maxOffsetThreshold: 7 } }));
      writeFileSync(join(d, 'ptp4l.0.config'), '#profile: p\n[global]\n[eth0]\nmasterOnly 0\n');
      writeFileSync(join(d, 'ptp4l.1.config'), 'orphan 1\n[global]\n');
      writeFileSync(join(d, 'ptp4l.2.config'), '#profile: p\n[broken\n');
      writeFileSync(join(d, 'ptp4l.x.config'), '#profile: p\n[global]\n'); // name does not match: never read
      const errors: string[] = [];
      const g = await loadPtpGeneration({
        profilePath: d,
        configDir: d,
        nodeName: 'nodeA',
        onError: (source, m) => errors.push(`${source} ${m.replace(d, 'DIR')}`),
      });
      expect(g.toJSON()).toMatchObject({ profiles: ['p'], files: ['ptp4l.0.config'], clocks: ['ptp4l/eth0'] });
      expect(errors).toEqual([
        'configFile DIR/ptp4l.1.config:1: option outside of any section',
        'configFile DIR/ptp4l.2.config:2: malformed section header',
      ]);
      const text = await g.metrics.text();
      expect(text).toContain('openshift_ptp_threshold{threshold="MaxOffsetThreshold",node="nodeA",profile="p"} 7');
      expect(text).toContain('openshift_ptp_threshold{threshold="MinOffsetThreshold",node="nodeA",profile="p"} -100');
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });

  it('treats missing files as empty config and a non-JSON ConfigMap as malformed', async () => {
    const d = mkdtempSync(join(tmpdir(), 'syncvisor-ptp-config-'));
    try {
      const errors: string[] = [];
      const g0 = await loadPtpGeneration({ profilePath: join(d, 'none'), configDir: join(d, 'none'), nodeName: 'n' });
      expect(g0.toJSON()).toMatchObject({ profiles: [], files: [] });
      writeFileSync(join(d, 'n'), '{not json');
      await loadPtpGeneration({ profilePath: d, configDir: d, nodeName: 'n', onError: (s) => errors.push(s) });
      expect(errors).toEqual(['configMap']);
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });

  // Line families and metrics derived from CEP's tests (lines in, metric values out).
  describe('CEP line families', () => {
    const text = async (g: PtpGeneration) => series(await g.metrics.text());

    it('ptp4l summary: offset = rms, max = max, freq and delay, on the SLAVE port', async () => {
      const g = await load();
      g.ingest(['ptp4l[74737.942]: [ptp4l.0.config] rms 53 max 74 freq -16642 +/- 40 delay 1089 +/- 20']);
      const t = await text(g);
      expect(t).toContain('openshift_ptp_offset_ns{from="master",process="ptp4l",node="node1",iface="ens5f1"} 53');
      expect(t).toContain('openshift_ptp_max_offset_ns{from="master",process="ptp4l",node="node1",iface="ens5f1"} 74');
      expect(t).toContain(
        'openshift_ptp_frequency_adjustment_ns{from="master",process="ptp4l",node="node1",iface="ens5f1"} -16642',
      );
      expect(t).toContain('openshift_ptp_delay_ns{from="master",process="ptp4l",node="node1",iface="ens5f1"} 1089');
    });

    it('ts2phc without "master" (newer linuxptp): offset, delay 0, range-checked verdict', async () => {
      const g = await load();
      const e = g.ingest(['ts2phc[1]: [ts2phc.0.config] ens5f1 offset 0 s2 freq -0']);
      expect(e.map((x) => `${x.key} ${x.verdict} ${x.offset}`)).toEqual(['ts2phc/ens5f1 locked 0']);
      const t = await text(g);
      expect(t).toContain('openshift_ptp_offset_ns{from="master",process="ts2phc",node="node1",iface="ens5f1"} 0');
      expect(t).toContain('openshift_ptp_delay_ns{from="master",process="ts2phc",node="node1",iface="ens5f1"} 0');
      expect(g.ingest(['ts2phc[1]: [ts2phc.0.config] ens5f1 offset 500 s2 freq -0']).map((x) => x.verdict)).toEqual([
        'outOfRange',
      ]);
    });

    it('chronyd as linuxptp-daemon writes it (`chronyd[PID][chronyd.0.config]: …`), matched anywhere', async () => {
      const g = await load();
      const e = g.ingest([
        'chronyd[4242][chronyd.0.config]: Selected source 10.0.0.1',
        "chronyd[4242][chronyd.0.config]: Can't synchronise: no selectable sources",
      ]);
      expect(e.map((x) => `${x.key} ${x.verdict}`)).toEqual([
        'chronyd/CLOCK_REALTIME locked',
        'chronyd/CLOCK_REALTIME freerun',
      ]);
    });

    it('offsets from dpll / gnss / T-BC status lines with from = the process', async () => {
      const g = await load();
      g.ingest([
        'dpll[1]:[ts2phc.0.config] ens5f1 frequency_status 3 offset 5 phase_status 3 pps_status 1 s2',
        'gnss[1]:[ts2phc.0.config] ens5f1 gnss_status 3 offset 7 s2',
        'T-BC[1]:[ptp4l.0.config] ens5f1 offset -9 T-BC-STATUS s2',
      ]);
      const t = await text(g);
      expect(t).toContain('openshift_ptp_offset_ns{from="dpll",process="dpll",node="node1",iface="ens5f1"} 5');
      expect(t).toContain('openshift_ptp_offset_ns{from="gnss",process="gnss",node="node1",iface="ens5f1"} 7');
      expect(t).toContain('openshift_ptp_offset_ns{from="T-BC",process="T-BC",node="node1",iface="ens5f1"} -9');
    });

    it('PTP_PROCESS_STATUS for a config without a file is recorded (bounded)', async () => {
      const g = await load();
      expect(g.ingest(['synce4l[1]:[synce4l.0.config] PTP_PROCESS_STATUS:1'])).toEqual([]);
      expect(await text(g)).toContain(
        'openshift_ptp_process_status{process="synce4l",node="node1",config="synce4l.0.config"} 1',
      );
      const many = Array.from({ length: 500 }, (_, i) => `ptp4l[1]:[ptp4l.${i + 100}.config] PTP_PROCESS_STATUS:1`);
      g.ingest(many);
      expect((await text(g)).filter((l) => l.startsWith('openshift_ptp_process_status')).length).toBeLessThanOrEqual(
        65,
      );
    });

    it('ptp_ha_profile <profile> state <n> → ha_profile_status; unknown profiles are dropped', async () => {
      const g = await load();
      g.ingest([
        'phc2sys[1]: [ptp4l.0.config] ptp_ha_profile profile0 state 1',
        'phc2sys[1]: [ptp4l.0.config] ptp_ha_profile nosuch state 1',
      ]);
      const t = (await text(g)).filter((l) => l.startsWith('openshift_ptp_ha_profile_status'));
      expect(t).toEqual(['openshift_ptp_ha_profile_status{process="phc2sys",node="node1",profile="profile0"} 1']);
    });

    it('process down: phc2sys → processDown for CLOCK_REALTIME (FREERUN without chronyd); ts2phc → FreeRun offset and FREERUN', async () => {
      const g = await load();
      g.ingest([
        'phc2sys[1]: [ptp4l.0.config] CLOCK_REALTIME phc offset 5 s2 freq -1 delay 1',
        'ts2phc[1]: [ts2phc.0.config] ens5f1 master offset 3 s2 freq -1',
      ]);
      const e = g.ingest([
        'phc2sys[1]:[ptp4l.0.config] PTP_PROCESS_STATUS:0',
        'ts2phc[1]:[ts2phc.0.config] PTP_PROCESS_STATUS:0',
      ]);
      expect(e.map((x) => `${x.key} ${x.verdict}`)).toEqual([
        'phc2sys/CLOCK_REALTIME processDown',
        'ts2phc/ens5f1 freerun',
      ]);
      expect(await text(g)).toContain(
        'openshift_ptp_offset_ns{from="master",process="ts2phc",node="node1",iface="ens5f1"} -10000000000000000',
      );
    });
  });

  it('finds `#profile:` on any line of an INI file, as the reference does', () => {
    const f = parseConfigFile('ptp4l.3.config', '# written by the daemon\n[global]\n#profile: late\n[eth0]\n');
    expect(typeof f === 'object' && f.profile).toBe('late');
  });

  it('clock types: T-BC from controllingProfile or external_pps, T-GM from ts2phc, OC otherwise', () => {
    const p = (raw: Record<string, unknown>) =>
      clockTypeOf({
        name: 'p',
        interface: '',
        thresholds: { maxOffset: 100, minOffset: -100, holdOverTimeout: 5 },
        raw,
      });
    expect(p({ ptpSettings: { controllingProfile: '01-tbc-tr' } })).toBe('T-BC');
    expect(p({ ts2PhcOpts: '-s generic -a --ts2phc.external_pps 1' })).toBe('T-BC');
    expect(p({ ts2PhcOpts: '-s nmea' })).toBe('T-GM');
    expect(p({ ptp4lOpts: '-2' })).toBe('OC');
  });

  it('dpll pairs in any order; the GM offset is the DPLL offset of its interface', async () => {
    const g = await load();
    const e = g.ingest([
      'dpll[1]:[ts2phc.0.config] ens5f1 phase_status 3 offset -7 frequency_status 2 pps_status 1 s2',
      'GM[1]:[ts2phc.0.config] ens5f1 T-GM-STATUS s2',
    ]);
    expect(e.map((x) => `${x.key} ${x.verdict} ${x.offset}`)).toEqual([
      'dpll/ens5f1 daemonLocked -7',
      'GM/ens5f1 daemonLocked -7',
    ]);
    const t = series(await g.metrics.text());
    expect(t).toContain('openshift_ptp_offset_ns{from="GM",process="GM",node="node1",iface="ens5f1"} -7');
    expect(t).toContain('openshift_ptp_frequency_status{from="dpll",process="dpll",node="node1",iface="ens5f1"} 2');
  });

  it('dpll and gnss value gauges, one per key, from = process', async () => {
    const g = await load();
    g.ingest([
      'dpll[1]:[ts2phc.0.config] ens5f1 frequency_status 3 offset 5 phase_status 2 pps_status 1 s2',
      'gnss[1]:[ts2phc.0.config] ens5f1 gnss_status 3 offset 7 s2',
    ]);
    const t = series(await g.metrics.text());
    expect(t).toContain('openshift_ptp_frequency_status{from="dpll",process="dpll",node="node1",iface="ens5f1"} 3');
    expect(t).toContain('openshift_ptp_phase_status{from="dpll",process="dpll",node="node1",iface="ens5f1"} 2');
    expect(t).toContain('openshift_ptp_pps_status{from="dpll",process="dpll",node="node1",iface="ens5f1"} 1');
    expect(t).toContain('openshift_ptp_gnss_status{from="gnss",process="gnss",node="node1",iface="ens5f1"} 3');
  });

  it('synce4l: EEC state per port (the daemon verdict) and clock quality (SSM, extended SSM, their sum)', async () => {
    writeFileSync(
      join(dir, 'synce4l.0.config'),
      '#profile: profile0\n[global]\nlogging_level 7\n[<synce1>]\nnetwork_option 2\n[ens7f0]\ntx_heartbeat_msec 1000\n[ens7f1]\n',
    );
    try {
      const g = await load();
      const e = g.ingest([
        'synce4l[1722458091]: [synce4l.0.config] ens7f0 device synce1 eec_state EEC_HOLDOVER network_option 2 s1',
        'synce4l[1722458092]: [synce4l.0.config] ens7f0 device synce1 eec_state EEC_LOCKED network_option 2 s2',
        'synce4l[1722458093]: [synce4l.0.config] ens7f0 clock_quality PRTC device synce1 ext_ql 0x20 network_option 2 ql 0x1 s2',
        'synce4l[1722458094]: [synce4l.0.config] ens7f1 clock_quality PRC device synce1 network_option 1 ql 0x2 s2',
        'synce4l[1722458095]: [synce4l.0.config] ens7f0 device other eec_state EEC_LOCKED network_option 2 s2',
      ]);
      expect(e.map((x) => `${x.key} ${x.verdict}`)).toEqual([
        'synce4l/ens7f0 daemonHoldover',
        'synce4l/ens7f0 daemonLocked',
      ]);
      const t = series(await g.metrics.text());
      const l = (iface: string, opt: string) =>
        `process="synce4l",node="node1",profile="synce4l.0.config",network_option="${opt}",iface="${iface}",device="synce1"`;
      expect(t).toContain(`openshift_ptp_synce_clock_quality{${l('ens7f0', '2')}} 33`); // option 2 PRTC
      expect(t).toContain(`openshift_ptp_synce_ssm_ql{${l('ens7f0', '2')},ql_type="SSM"} 1`);
      expect(t).toContain(`openshift_ptp_synce_ssm_ql{${l('ens7f0', '2')},ql_type="Extended SSM"} 32`);
      expect(t).toContain(`openshift_ptp_synce_clock_quality{${l('ens7f1', '1')}} 257`); // option 1 PRC, no ext: 0xFF
      expect(t).toContain(`openshift_ptp_synce_ssm_ql{${l('ens7f1', '1')},ql_type="Extended SSM"} 255`);
      expect(g.parser.stats.unknownClock).toBe(1); // an unconfigured device
    } finally {
      rmSync(join(dir, 'synce4l.0.config'));
    }
  });

  it('HA profile: its phc2sys config has no interfaces and its lines are accepted; T-BC state imposed on ts2phc', async () => {
    const d = mkdtempSync(join(tmpdir(), 'syncvisor-ptp-ha-'));
    try {
      writeFileSync(
        join(d, 'node1'),
        JSON.stringify([
          { name: 'ha', ptpSettings: { haProfiles: 'tbc1,tbc2' } },
          { name: 'tbc1', ptpSettings: { controllingProfile: 'tr1' } },
        ]),
      );
      writeFileSync(join(d, 'phc2sys.2.config'), '#profile: ha\n[global]\nfirst_step_threshold 0.0\n');
      writeFileSync(join(d, 'ptp4l.1.config'), '#profile: tbc1\n[global]\n[ens1f0]\nmasterOnly 0\n');
      const g = await loadPtpGeneration({ profilePath: d, configDir: d, nodeName: 'node1' });
      expect(g.clockTypes).toEqual({ ha: 'OC', tbc1: 'T-BC' });
      const e = g.ingest([
        'phc2sys[1]: [phc2sys.2.config] CLOCK_REALTIME phc offset 5 s2 freq -1 delay 1',
        'phc2sys[1]: [phc2sys.2.config] ptp_ha_profile tbc1 state 1',
        'ts2phc[1]: [ts2phc.1.config] ens1f0 master offset 3 s2 freq -1',
        'T-BC[1]:[ptp4l.1.config] ens1f0 offset 10 T-BC-STATUS s1',
      ]);
      expect(e.map((x) => `${x.key} ${x.verdict}`)).toEqual([
        'phc2sys/CLOCK_REALTIME locked',
        'ts2phc/ens1f0 locked',
        'T-BC/ens1f0 daemonHoldover',
        'ts2phc/ens1f0 daemonHoldover',
      ]);
      const t = series(await g.metrics.text());
      expect(t).toContain('openshift_ptp_ha_profile_status{process="phc2sys",node="node1",profile="tbc1"} 1');
      expect(t).toContain(
        'openshift_ptp_offset_ns{from="phc",process="phc2sys",node="node1",iface="CLOCK_REALTIME"} 5',
      );
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });

  describe('bounded state', () => {
    it('100,000 distinct interface and process names create no clock and no series; each is counted', async () => {
      const g = await load();
      const lines: string[] = [];
      for (let i = 0; i < 50_000; i++) lines.push(`ts2phc[1]: [ts2phc.0.config] x${i} master offset 1 s2 freq 1`);
      for (let i = 0; i < 50_000; i++) lines.push(`p${i}[1]:[ptp4l.0.config] ens5f1 T-GM-STATUS s2`);
      const before = series(await g.metrics.text()).length;
      expect(g.ingest(lines)).toEqual([]);
      expect(g.parser.stats.unknownClock).toBe(100_000);
      expect(g.parser.lastUnknownClock).toBe('p49999/ens5f1');
      expect(series(await g.metrics.text()).length).toBe(before);
    });
  });
});
