import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, configKeys, loadConfig } from '../../src/config/load.js';

const dir = mkdtempSync(join(tmpdir(), 'syncvisor-config-'));
function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}
function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('configuration', () => {
  it('has defaults for every key', () => {
    const c = loadConfig();
    expect(c.services).toEqual(['portsync', 'ptp']);
    expect(c.http.listen).toBe('127.0.0.1:9101');
    expect(c.ptp.socketPath).toBe('/cloud-native/events.sock');
    expect(c.warmRestart.timeoutSecs).toBe(10);
    expect(c.stateFile.maxAgeDays).toBe(7);
    expect(c.portsync.portPattern).toBe('^(Ethernet|PortChannel)');
  });

  it('layers defaults < file < environment < flags', () => {
    const f = file(
      'layers.yaml',
      'ptp:\n  socketPath: /from/file\n  nodeName: fileNode\nwarmRestart:\n  timeoutSecs: 20\n',
    );
    const c = loadConfig({
      file: f,
      env: { NODE_NAME: 'envNode', SYNCVISOR_WARM_RESTART_TIMEOUT_SECS: '30' },
      flags: { 'warmRestart.timeoutSecs': '40' },
    });
    expect(c.ptp.socketPath).toBe('/from/file');
    expect(c.ptp.nodeName).toBe('envNode');
    expect(c.warmRestart.timeoutSecs).toBe(40);
  });

  it('reads JSON files, nested or dotted', () => {
    const f = file('c.json', JSON.stringify({ ptp: { socketPath: '/a' }, 'stateFile.path': '/b' }));
    const c = loadConfig({ file: f });
    expect(c.ptp.socketPath).toBe('/a');
    expect(c.stateFile.path).toBe('/b');
  });

  it('knows the environment names users already know, and SYNCVISOR_* wins over them', () => {
    const c = loadConfig({
      env: {
        PORTSYNCD_EOIU_TIMEOUT_SECS: '3',
        PORTSYNCD_STATE_MAX_AGE_DAYS: '2',
        PTP_PROFILE_PATH: '/etc/p',
        SYNCVISOR_PTP_PROFILE_PATH: '/etc/q',
        SYNCVISOR_SERVICES: 'ptp',
        SYNCVISOR_SONIC_CHECK_ENABLE_TABLE: 'true',
      },
    });
    expect(c.warmRestart.timeoutSecs).toBe(3);
    expect(c.stateFile.maxAgeDays).toBe(2);
    expect(c.ptp.profilePath).toBe('/etc/q');
    expect(c.services).toEqual(['ptp']);
    expect(c.sonic.checkEnableTable).toBe(true);
  });

  it('rejects unknown keys, naming them', () => {
    expect(errorOf(() => loadConfig({ file: file('u.yaml', 'ptp:\n  sockPath: /x\n') }))).toContain(
      '"ptp.sockPath": unknown key',
    );
    expect(errorOf(() => loadConfig({ file: file('v.yaml', 'bogus: 1\n') }))).toContain('"bogus": unknown key');
    expect(errorOf(() => loadConfig({ flags: { 'x.y': '1' } }))).toContain('"x.y": unknown key');
  });

  it('names the key, the source and the reason of an invalid value', () => {
    const m = errorOf(() => loadConfig({ env: { PORTSYNCD_EOIU_TIMEOUT_SECS: 'soon' } }));
    expect(m).toContain('config key "warmRestart.timeoutSecs" (from environment PORTSYNCD_EOIU_TIMEOUT_SECS)');
    expect(m).toMatch(/expected number/);
    expect(errorOf(() => loadConfig({ flags: { services: 'portsync,ntp' } }))).toContain('config key "services"');
    expect(errorOf(() => loadConfig({ flags: { 'http.listen': 'localhost' } }))).toContain('expected HOST:PORT');
    expect(errorOf(() => loadConfig({ flags: { 'portsync.portPattern': '(' } }))).toContain(
      'not a valid regular expression',
    );
    expect(errorOf(() => loadConfig({ file: file('bad.json', '{') }))).toContain('not valid JSON');
    expect(errorOf(() => loadConfig({ file: join(dir, 'missing.yaml') }))).toContain('cannot read it (ENOENT)');
  });

  it('lists every key with its environment names for the docs', () => {
    const keys = configKeys.map((k) => k.key);
    expect(keys).toContain('ptp.restart.mode');
    expect(configKeys.find((k) => k.key === 'ptp.nodeName')!.env).toEqual(['SYNCVISOR_PTP_NODE_NAME', 'NODE_NAME']);
    expect(configKeys.every((k) => k.description.length > 0)).toBe(true);
  });
});
