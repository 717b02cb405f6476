// The real binary end to end: `syncvisor run --services ptp` with the example configuration, lines over a real Unix
// socket, `/metrics` over HTTP, and `syncvisor ctl restart` (a child process) after the configuration changed.
import { spawnSync, type ChildProcess } from 'node:child_process';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSyncvisor } from '../support/spawnDaemon.js';

const repo = join(import.meta.dirname, '../..');
const bin = join(repo, 'bin/syncvisor.js');
const fixtures = join(repo, 'test/fixtures/ptp');
const dir = mkdtempSync(join(tmpdir(), 'syncvisor-ptpd-'));
const sock = join(dir, 'events.sock');
let daemon: ChildProcess;
let stderr = '';
let base = '';

const metrics = async () => (await fetch(`${base}/metrics`)).text();
/** Bounded wait for hooks (expect.poll works only inside a test). */
async function until<T>(what: string, get: () => T | Promise<T>, ok: (v: T) => boolean, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await get();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${stderr.slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function open(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const c = connect(sock, () => resolve(c));
    c.on('error', reject);
  });
}

beforeAll(async () => {
  mkdirSync(join(dir, 'profiles'));
  mkdirSync(join(dir, 'cfg'));
  copyFileSync(join(fixtures, 'examples/node1.json'), join(dir, 'profiles/node1'));
  copyFileSync(join(fixtures, 'examples/ptp4l.0.config'), join(dir, 'cfg/ptp4l.0.config'));
  copyFileSync(join(fixtures, 'examples/ptp4l.1.config'), join(dir, 'cfg/ptp4l.1.config'));
  const args = ['run', '--services', 'ptp', '--http', '127.0.0.1:0'];
  for (const kv of [`ptp.socketPath=${sock}`, `ptp.configDir=${dir}/cfg`, `ptp.profilePath=${dir}/profiles`])
    args.push('--set', kv);
  daemon = spawnSyncvisor(args, { env: { NODE_NAME: 'node1' } }).process;
  daemon.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const address = await until('http', () => /"address":"([^"]+)","msg":"http listening"/.exec(stderr)?.[1], Boolean);
  base = `http://${address}`;
  await until(
    'readiness',
    async () => (await fetch(`${base}/readyz`)).status,
    (s) => s === 200,
  );
});

afterAll(async () => {
  if (daemon.exitCode === null) {
    daemon.kill('SIGTERM');
    await new Promise((r) => daemon.once('exit', r));
  }
  rmSync(dir, { recursive: true, force: true });
});

describe('ptp sidecar daemon', () => {
  it('listens with mode 0660, ready, with supervisor metrics', async () => {
    expect(statSync(sock).mode & 0o777).toBe(0o660);
    const text = await metrics();
    expect(text).toContain('syncvisor_child_up{child="ptp"} 1');
    expect(text).toContain('syncvisor_child_up{child="socketServer"} 1');
    expect(text).toContain('syncvisor_child_restarts_total{child="ptp"} 0');
    expect(text).toContain('openshift_ptp_threshold{threshold="HoldOverTimeout",node="node1",profile="bc1"} 5');
  });

  it('turns lines into openshift_ptp_* series, and ctl restart reloads the changed config while a stream stays open', async () => {
    const stream = await open();
    let closed = false;
    stream.on('close', () => (closed = true));
    stream.write(readFileSync(join(fixtures, 'lines.txt')));
    await expect
      .poll(metrics, { timeout: 5_000 })
      .toContain('openshift_ptp_offset_ns{from="master",process="ptp4l",node="node1",iface="ens5f1"} -1');
    expect(await metrics()).toContain('openshift_ptp_clock_state{process="ptp4l",node="node1",iface="ens5f1"} 1');

    // New configuration: profile bc1 removed, profile0's thresholds tightened.
    const cm = JSON.parse(readFileSync(join(dir, 'profiles/node1'), 'utf8')) as Array<{
      name: string;
      ptpClockThreshold: Record<string, number>;
    }>;
    const only = cm.filter((p) => p.name === 'profile0');
    only[0]!.ptpClockThreshold = { holdOverTimeout: 7, maxOffsetThreshold: 3, minOffsetThreshold: -3 };
    writeFileSync(join(dir, 'profiles/node1'), JSON.stringify(only));
    unlinkSync(join(dir, 'cfg/ptp4l.1.config'));

    const ctl = spawnSync(process.execPath, [bin, 'ctl', 'restart', '--socket', sock], { encoding: 'utf8' });
    expect(ctl.status).toBe(0);
    await expect
      .poll(metrics, { timeout: 5_000 })
      .toContain('openshift_ptp_threshold{threshold="HoldOverTimeout",node="node1",profile="profile0"} 7');
    const after = await metrics();
    expect(after).not.toContain('profile="bc1"');
    expect(after).not.toContain('iface="ens1f0"');
    // The streaming connection survived the restart, and its next line is judged by the new thresholds (|5| > 3).
    stream.write('ptp4l[2.0]: [ptp4l.0.config] master offset 5 s2 freq +500 path delay 89\n');
    await expect
      .poll(metrics, { timeout: 5_000 })
      .toContain('openshift_ptp_offset_ns{from="master",process="ptp4l",node="node1",iface="ens5f1"} 5');
    expect(await metrics()).toContain('openshift_ptp_clock_state{process="ptp4l",node="node1",iface="ens5f1"} 0');
    expect(closed).toBe(false);
    stream.end();
  });

  it('SIGTERM: exit 0 and the socket file is gone', async () => {
    const code = await new Promise<number | null>((resolve) => {
      daemon.once('exit', resolve);
      daemon.kill('SIGTERM');
    });
    expect(code).toBe(0);
    expect(() => statSync(sock)).toThrow();
  });
});
