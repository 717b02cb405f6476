// Real ptp4l (Debian linuxptp) end to end: a master and a slave in two network namespaces over a veth pair, software
// timestamps, L2 transport, free_running 1 and kernel_leap 0 (nothing adjusts this machine's clock; no phc2sys, no
// servo on CLOCK_REALTIME). Their stdout is forwarded into the sidecar's socket as linuxptp-daemon does, the sidecar is
// the real `syncvisor run --services ptp` with a real HTTP server on loopback as linuxptp-daemon's port-aliases and
// emit-logs, and everything is asserted through /metrics, sampled every 100 ms while ptp4l runs.
// SYNCVISOR_RECORD_PTP4L=1 also writes the forwarded log and the observed metrics to test/fixtures/ptp/ for the replay
// test (ptp4l.replay.test.ts).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canUseNetns, createNetns, type Netns } from '../support/netns.js';
import {
  fixtureExpected,
  fixtureLog,
  forwardProcess,
  master,
  metric,
  node,
  seriesWith,
  slave,
  startFakeLinuxptpDaemon,
  startSidecar,
  until,
  type FakeLinuxptpDaemon,
  type Forwarded,
  type Sidecar,
} from './ptp4l.harness.js';

const netns = canUseNetns();
if (netns !== true) console.warn(`ptp4l.netns.test skipped: ${netns}`);

function findPtp4l(): string | undefined {
  for (const p of ['/usr/sbin/ptp4l', '/sbin/ptp4l', '/usr/bin/ptp4l']) if (existsSync(p)) return p;
  const r = spawnSync('sh', ['-c', 'command -v ptp4l'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

const dir = mkdtempSync(join(tmpdir(), 'syncvisor-ptp4l-'));
let masterNs: Netns | undefined;
let slaveNs: Netns | undefined;
let daemon: FakeLinuxptpDaemon | undefined;
let sidecar: Sidecar | undefined;
const forwarded: Forwarded[] = [];
/** Every line written to the socket, in order, across both connections. */
const log: string[] = [];

/** Distinct consecutive values of a series, sampled from /metrics. */
class Track {
  readonly seq: number[] = [];
  readonly values = new Set<number>();
  add(v: number | undefined): void {
    if (v === undefined) return;
    this.values.add(v);
    if (this.seq[this.seq.length - 1] !== v) this.seq.push(v);
  }
}

const ptp4l = { process: 'ptp4l', node };
const tracks = {
  slaveRole: new Track(),
  masterRole: new Track(),
  clockState: new Track(),
  offset: new Track(),
  delay: new Track(),
  slaveStatus: new Track(),
  masterStatus: new Track(),
};
let sampling = false;
let sampler: Promise<void> | undefined;

function sample(text: string): void {
  tracks.slaveRole.add(metric(text, 'openshift_ptp_interface_role', { ...ptp4l, iface: slave.iface }));
  tracks.masterRole.add(metric(text, 'openshift_ptp_interface_role', { ...ptp4l, iface: master.iface }));
  tracks.clockState.add(metric(text, 'openshift_ptp_clock_state', { ...ptp4l, iface: slave.alias }));
  const off = { from: 'master', ...ptp4l, iface: slave.alias };
  tracks.offset.add(metric(text, 'openshift_ptp_offset_ns', off));
  tracks.delay.add(metric(text, 'openshift_ptp_delay_ns', off));
  tracks.slaveStatus.add(metric(text, 'openshift_ptp_process_status', { ...ptp4l, config: slave.config }));
  tracks.masterStatus.add(metric(text, 'openshift_ptp_process_status', { ...ptp4l, config: master.config }));
}

const offsetLines = (): number => log.filter((l) => l.includes(`[${slave.config}] master offset`)).length;

describe.skipIf(netns !== true)('real ptp4l master and slave in two namespaces', () => {
  const bin = findPtp4l();

  beforeAll(async () => {
    if (!bin) throw new Error('ptp4l not found: install Debian linuxptp (scripts/ensure-deps.sh test does)');
    daemon = await startFakeLinuxptpDaemon({ [slave.iface]: slave.alias, [master.iface]: master.alias });
    sidecar = await startSidecar(dir, daemon.base);
    slaveNs = createNetns('svps');
    masterNs = createNetns('svpm');
    slaveNs.ip(['link', 'add', slave.iface, 'type', 'veth', 'peer', 'name', master.iface, 'netns', masterNs.name]);
    slaveNs.set(slave.iface, 'up');
    masterNs.set(master.iface, 'up');
    sampling = true;
    const s = sidecar;
    sampler = (async () => {
      while (sampling) {
        sample(await s.metrics());
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
  });

  afterAll(async () => {
    sampling = false;
    await sampler?.catch(() => {});
    for (const f of forwarded) {
      if (f.proc.exitCode === null && f.proc.signalCode === null) f.proc.kill('SIGKILL');
      await f.exited;
    }
    slaveNs?.destroy();
    masterNs?.destroy();
    await sidecar?.stop();
    await daemon?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('roles, offsets, delays, a port fault and process status come through /metrics', async () => {
    const s = sidecar!;
    const run = (ns: Netns, config: string): Promise<Forwarded> =>
      forwardProcess(
        s.socket,
        config,
        'ip',
        ['netns', 'exec', ns.name, bin!, '-f', join(dir, 'cfg', config), '-S', '-2', '-m'],
        (l) => log.push(l),
      );
    const gm = await run(masterNs!, master.config);
    const oc = await run(slaveNs!, slave.config);
    forwarded.push(gm, oc);
    const detail = (): string =>
      `${JSON.stringify(Object.fromEntries(Object.entries(tracks).map(([k, t]) => [k, t.seq])))}\n${log.slice(-15).join('\n')}`;

    // The slave hears the master, its port goes UNCALIBRATED and it reports offsets (s0: free_running).
    await until(
      'three offset lines and three distinct offsets',
      () => offsetLines() >= 3 && tracks.offset.values.size >= 3,
      Boolean,
      20_000,
      detail,
    );

    // A port fault: the veth goes down, both ports go FAULTY; then up again.
    slaveNs!.set(slave.iface, 'down');
    await until('the master port FAULTY', () => tracks.masterRole.seq.at(-1) === 3, Boolean, 10_000, detail);
    await until(
      'the slave FAULT_DETECTED line',
      () => log.some((l) => l.includes('FAULT_DETECTED') && l.includes(slave.config)),
      Boolean,
      10_000,
      detail,
    );
    await new Promise((r) => setTimeout(r, 1_000));
    slaveNs!.set(slave.iface, 'up');
    const before = offsetLines();
    await until('two offset lines after link up', () => offsetLines() >= before + 2, Boolean, 20_000, detail);

    // ptp4l stops: the daemon's PTP_PROCESS_STATUS:0 for each config.
    oc.proc.kill('SIGTERM');
    await oc.exited;
    await until('slave process status 0', () => tracks.slaveStatus.seq.at(-1) === 0, Boolean, 10_000, detail);
    gm.proc.kill('SIGTERM');
    await gm.exited;
    await until('master process status 0', () => tracks.masterStatus.seq.at(-1) === 0, Boolean, 10_000, detail);
    // The holdover timer (1 s in this profile) has run out.
    await until('clock state FREERUN', () => tracks.clockState.seq.at(-1) === 0, Boolean, 10_000, detail);
    const text = await s.metrics();
    sample(text);
    sampling = false;
    await sampler;
    console.log(JSON.stringify(Object.fromEntries(Object.entries(tracks).map(([k, t]) => [k, [...t.seq]]))));

    // Roles (0 PASSIVE, 1 SLAVE, 2 MASTER, 3 FAULTY, 5 LISTENING), from config at load, then as ptp4l reported:
    // slave: SLAVE (slaveOnly config) → LISTENING (INITIALIZING to LISTENING) → FAULTY (LISTENING to UNCALIBRATED on
    // RS_SLAVE; free_running never locks, so the port stays UNCALIBRATED) → [UNCALIBRATED to FAULTY on
    // FAULT_DETECTED: still FAULTY] → LISTENING (FAULTY to LISTENING after link up) → FAULTY (RS_SLAVE again).
    expect(tracks.slaveRole.seq).toEqual([1, 5, 3, 5, 3]);
    // master: MASTER (masterOnly config) → LISTENING → MASTER (ANNOUNCE_RECEIPT_TIMEOUT_EXPIRES) → FAULTY (link down,
    // FAULT_DETECTED) → LISTENING (link up) → MASTER.
    expect(tracks.masterRole.seq).toEqual([2, 5, 2, 3, 5, 2]);
    expect(log.some((l) => l.includes(`[${master.config}] port 1: MASTER to FAULTY on FAULT_DETECTED`))).toBe(true);

    // Offsets and delays move; labels carry the alias served by the daemon, roles the real name.
    expect(tracks.offset.values.size).toBeGreaterThanOrEqual(3);
    expect(tracks.delay.values.size).toBeGreaterThanOrEqual(2);
    for (const d of tracks.delay.values) expect(d > 0 && d < 1_000_000).toBe(true);
    for (const o of tracks.offset.values) expect(Math.abs(o)).toBeLessThan(1_000_000);
    expect(seriesWith(text, 'openshift_ptp_offset_ns', 'iface', slave.iface)).toEqual([]);
    expect(seriesWith(text, 'openshift_ptp_interface_role', 'iface', slave.alias)).toEqual([]);
    // The last offset line is what /metrics shows.
    const last = log.filter((l) => l.includes(`[${slave.config}] master offset`)).at(-1)!;
    const [, lastOffset, lastDelay] = /master offset\s+(-?\d+)\s+s\d.*path delay\s+(-?\d+)/.exec(last)!;
    expect(metric(text, 'openshift_ptp_offset_ns', { from: 'master', ...ptp4l, iface: slave.alias })).toBe(
      Number(lastOffset),
    );
    expect(metric(text, 'openshift_ptp_delay_ns', { from: 'master', ...ptp4l, iface: slave.alias })).toBe(
      Number(lastDelay),
    );
    // s0 only (free_running): never LOCKED; FREERUN at the end.
    expect(tracks.clockState.values.has(1)).toBe(false);
    expect(tracks.clockState.seq.at(-1)).toBe(0);

    // Process status 1 → 0, one UP each.
    expect(tracks.slaveStatus.seq).toEqual([1, 0]);
    expect(tracks.masterStatus.seq).toEqual([1, 0]);
    for (const config of [slave.config, master.config])
      expect(metric(text, 'openshift_ptp_process_restart_count', { ...ptp4l, config })).toBe(1);

    // linuxptp-daemon's HTTP side was used: aliases at load, emit-logs at load / on the connections (coalesced).
    expect(daemon!.aliasCalls).toBeGreaterThanOrEqual(1);
    expect(daemon!.emitLogsCalls).toBeGreaterThanOrEqual(1);
    expect(daemon!.emitLogsCalls).toBeLessThanOrEqual(3);

    if (process.env['SYNCVISOR_RECORD_PTP4L']) {
      writeFileSync(fixtureLog, `${log.join('\n')}\n`);
      writeFileSync(
        fixtureExpected,
        `${JSON.stringify(
          {
            slaveRole: tracks.slaveRole.seq,
            masterRole: tracks.masterRole.seq,
            clockState: tracks.clockState.seq,
            offsets: [...tracks.offset.values],
            delays: [...tracks.delay.values],
            lastOffset: Number(lastOffset),
            lastDelay: Number(lastDelay),
          },
          null,
          2,
        )}\n`,
      );
    }
  }, 60_000);
});
