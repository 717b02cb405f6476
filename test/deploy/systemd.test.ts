// deploy/systemd/syncvisor.service: `systemd-analyze verify` accepts it, and the restart policy and hardening keys
// are what docs/operations.md promises.
//
// systemd-analyze verify checks that ExecStart's binary exists. Rather than editing the unit, the test builds a
// throw-away root (--root) holding the unit byte for byte at /etc/systemd/system, a stub /usr/bin/syncvisor, and a
// copy of the distribution's unit directory (for sysinit.target etc.), and verifies the real file there.
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { configDefaults } from '../../src/config/load.js';

const root = resolve(import.meta.dirname, '../..');
const unitPath = join(root, 'deploy/systemd/syncvisor.service');
const unitText = readFileSync(unitPath, 'utf8');
const tmp = mkdtempSync(join(tmpdir(), 'syncvisor-systemd-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** section → key → every value assigned (in order); comments and blank lines skipped. */
function parseUnit(text: string): Map<string, Map<string, string[]>> {
  const out = new Map<string, Map<string, string[]>>();
  let section = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const m = /^\[(.+)\]$/.exec(line);
    if (m) {
      section = m[1]!;
      out.set(section, new Map());
      continue;
    }
    const eq = line.indexOf('=');
    const key = line.slice(0, eq).trim();
    const values = out.get(section)!;
    values.set(key, [...(values.get(key) ?? []), line.slice(eq + 1).trim()]);
  }
  return out;
}

const unit = parseUnit(unitText);
const service = unit.get('Service')!;
const one = (key: string, section = service): string => {
  const v = section.get(key);
  expect(v, key).toBeDefined();
  return v![v!.length - 1]!;
};
const words = (key: string): string[] => one(key).split(/\s+/);
const seconds = (v: string): number => {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|min)?$/.exec(v);
  expect(m, `time span ${v}`).not.toBeNull();
  return Number(m![1]) * ({ ms: 0.001, s: 1, min: 60 } as Record<string, number>)[m![2] ?? 's']!;
};

function systemdAnalyze(): string {
  const which = spawnSync('sh', ['-c', 'command -v systemd-analyze'], { encoding: 'utf8' });
  const bin = which.stdout.trim();
  if (which.status !== 0 || !bin) {
    throw new Error('systemd-analyze is missing: install the Debian package "systemd" (apt-get install -y systemd)');
  }
  return bin;
}

describe('deploy/systemd/syncvisor.service', () => {
  it('passes systemd-analyze verify without warnings', () => {
    const bin = systemdAnalyze();
    const fakeRoot = join(tmp, 'root');
    mkdirSync(join(fakeRoot, 'etc/systemd/system'), { recursive: true });
    mkdirSync(join(fakeRoot, 'usr/bin'), { recursive: true });
    mkdirSync(join(fakeRoot, 'usr/lib/systemd'), { recursive: true });
    writeFileSync(join(fakeRoot, 'etc/systemd/system/syncvisor.service'), unitText);
    // The real program: the package's bin run by this Node, as an installed /usr/bin/syncvisor would be.
    const exec = join(fakeRoot, 'usr/bin/syncvisor');
    writeFileSync(exec, `#!/bin/sh\nexec ${process.execPath} ${join(root, 'bin/syncvisor.js')} "$@"\n`);
    chmodSync(exec, 0o755);
    // ExecStart's arguments are ones the program accepts (run --config FILE is valid syntax: --help answers 0).
    const execStart = one('ExecStart').split(/\s+/);
    const help = spawnSync(exec, [...execStart.slice(1), '--help'], { encoding: 'utf8', timeout: 20_000 });
    expect(help.stdout).toContain('Usage: syncvisor run');
    expect(help.status).toBe(0);
    expect(existsSync('/usr/lib/systemd/system/sysinit.target'), 'the systemd package ships sysinit.target').toBe(true);
    cpSync('/usr/lib/systemd/system', join(fakeRoot, 'usr/lib/systemd/system'), {
      recursive: true,
      verbatimSymlinks: true,
    });

    const r = spawnSync(bin, ['verify', '--man=no', `--root=${fakeRoot}`, '/etc/systemd/system/syncvisor.service'], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    const diagnostics = `${r.stdout}${r.stderr}`.trim();
    // Unknown keys and unparsable values are only warnings (exit 0), so the output must be empty too.
    expect(diagnostics).toBe('');
    expect(r.status).toBe(0);
  });

  it('the verification really checks ExecStart (fails without the binary)', () => {
    const bin = systemdAnalyze();
    const bare = join(tmp, 'bare');
    mkdirSync(join(bare, 'etc/systemd/system'), { recursive: true });
    mkdirSync(join(bare, 'usr/lib/systemd'), { recursive: true });
    writeFileSync(join(bare, 'etc/systemd/system/syncvisor.service'), unitText);
    cpSync('/usr/lib/systemd/system', join(bare, 'usr/lib/systemd/system'), {
      recursive: true,
      verbatimSymlinks: true,
    });
    const r = spawnSync(bin, ['verify', '--man=no', `--root=${bare}`, '/etc/systemd/system/syncvisor.service'], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('/usr/bin/syncvisor');
  });

  it('runs the daemon with the system configuration file, Type=notify with a watchdog', () => {
    expect(one('Type')).toBe('notify');
    expect(one('NotifyAccess')).toBe('main');
    expect(seconds(one('WatchdogSec'))).toBeGreaterThan(0);
    expect(one('ExecStart')).toBe('/usr/bin/syncvisor run --config /etc/syncvisor/syncvisor.yaml');
  });

  it('restarts on failure, rate-limited, but not after a configuration error', () => {
    expect(one('Restart')).toBe('on-failure');
    expect(seconds(one('RestartSec'))).toBeGreaterThan(0);
    const unitSection = unit.get('Unit')!;
    expect(seconds(one('StartLimitIntervalSec', unitSection))).toBeGreaterThan(0);
    expect(Number(one('StartLimitBurst', unitSection))).toBeGreaterThan(0);
    expect(words('RestartPreventExitStatus')).toContain('2');
    // 70 (restart intensity) and 75 (ptp restart.mode=process) must restart the process.
    expect(words('RestartPreventExitStatus')).not.toContain('70');
    expect(words('RestartPreventExitStatus')).not.toContain('75');
  });

  it('stops with SIGTERM and gives the children longer than shutdownTimeoutMs to drain', () => {
    expect(one('KillSignal')).toBe('SIGTERM');
    expect(seconds(one('TimeoutStopSec')) * 1000).toBeGreaterThan(configDefaults().supervisor.shutdownTimeoutMs);
  });

  it('is hardened: read-only system, only its own paths writable, CAP_NET_ADMIN only', () => {
    expect(one('ProtectSystem')).toBe('strict');
    const rw = words('ReadWritePaths').map((p) => p.replace(/^-/, ''));
    expect(rw).toEqual(expect.arrayContaining(['/var/lib/syncvisor', '/run/syncvisor', '/cloud-native']));
    expect(one('StateDirectory')).toBe('syncvisor');
    expect(one('RuntimeDirectory')).toBe('syncvisor');
    expect(one('NoNewPrivileges')).toBe('yes');
    expect(one('ProtectHome')).toBe('yes');
    expect(one('PrivateTmp')).toBe('yes');
    expect(words('RestrictAddressFamilies').sort()).toEqual(['AF_INET', 'AF_INET6', 'AF_NETLINK', 'AF_UNIX']);
    expect(words('CapabilityBoundingSet')).toEqual(['CAP_NET_ADMIN']);
    expect(words('AmbientCapabilities')).toEqual(['CAP_NET_ADMIN']);
    expect(one('SystemCallArchitectures')).toBe('native');
    for (const key of ['ProtectKernelModules', 'ProtectKernelTunables', 'ProtectControlGroups', 'RestrictSUIDSGID']) {
      expect(one(key), key).toBe('yes');
    }
  });

  it('orders after network.target without pulling it in; the SONiC drop-in orders after database.service', () => {
    const unitSection = unit.get('Unit')!;
    expect(unitSection.get('Wants') ?? []).not.toContain('network.target');
    expect(one('After', unitSection)).toContain('network.target');
    const sonic = parseUnit(readFileSync(join(root, 'deploy/systemd/syncvisor.service.d/sonic.conf'), 'utf8')).get(
      'Unit',
    )!;
    expect(one('Requires', sonic)).toBe('database.service');
    expect(one('After', sonic)).toBe('database.service');
  });

  it('is enabled for the multi-user target', () => {
    expect(one('WantedBy', unit.get('Install')!)).toBe('multi-user.target');
  });
});
