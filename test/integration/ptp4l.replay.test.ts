// The recorded real ptp4l log (test/fixtures/ptp/ptp4l-netns.log, see its README) replayed fast through the socket of
// the real `syncvisor run --services ptp`, with a real HTTP server on loopback as linuxptp-daemon: the same metrics as
// the live run (ptp4l-netns.expected.json). No namespaces, no ptp4l: it runs everywhere. Also the daemon-facing side:
// port-aliases at load, emit-logs after the load and on an accepted connection, coalesced for a second one.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  fixtureExpected,
  fixtureLog,
  master,
  metric,
  node,
  openSocket,
  seriesWith,
  slave,
  startFakeLinuxptpDaemon,
  startSidecar,
  until,
  type FakeLinuxptpDaemon,
  type Sidecar,
} from './ptp4l.harness.js';

interface Expected {
  slaveRole: number[];
  masterRole: number[];
  clockState: number[];
  lastOffset: number;
  lastDelay: number;
}

const expected = JSON.parse(readFileSync(fixtureExpected, 'utf8')) as Expected;
const log = readFileSync(fixtureLog, 'utf8').split('\n').filter(Boolean);
const dir = mkdtempSync(join(tmpdir(), 'syncvisor-ptp4lr-'));
let daemon: FakeLinuxptpDaemon;
let sidecar: Sidecar;
const ptp4l = { process: 'ptp4l', node };

beforeAll(async () => {
  daemon = await startFakeLinuxptpDaemon({ [slave.iface]: slave.alias, [master.iface]: master.alias });
  sidecar = await startSidecar(dir, daemon.base);
});

afterAll(async () => {
  await sidecar?.stop();
  await daemon?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the recorded real ptp4l log, replayed', () => {
  let conn: Socket;

  it('emit-logs after the load and on an accepted connection; a second connection right after is coalesced', async () => {
    await until(
      'port-aliases and emit-logs at load',
      () => daemon.aliasCalls >= 1 && daemon.emitLogsCalls >= 1,
      Boolean,
    );
    expect(daemon.emitLogsCalls).toBe(1);
    // Past the coalescing window (ptp.emitLogsCoalesceMs, 1 s) of the load's call.
    await new Promise((r) => setTimeout(r, 1_300));
    conn = await openSocket(sidecar.socket);
    await until(
      'emit-logs for the connection',
      () => daemon.emitLogsCalls,
      (n) => n === 2,
      5_000,
      sidecar.stderr,
    );
    const second = await openSocket(sidecar.socket);
    await expect
      .poll(async () =>
        metric(await sidecar.metrics(), 'syncvisor_ptp_daemon_requests_total', {
          call: 'emitLogs',
          result: 'coalesced',
        }),
      )
      .toBe(1);
    expect(daemon.emitLogsCalls).toBe(2);
    second.end();
    const text = await sidecar.metrics();
    expect(metric(text, 'syncvisor_ptp_daemon_requests_total', { call: 'emitLogs', result: 'ok' })).toBe(2);
    expect(metric(text, 'syncvisor_ptp_daemon_requests_total', { call: 'portAliases', result: 'ok' })).toBe(1);
    expect(metric(text, 'syncvisor_ptp_daemon_requests_total', { call: 'emitLogs', result: 'error' })).toBe(0);
  });

  it('gives the role sequences, offsets, delays, clock state and process status of the live run', async () => {
    const roles = { slave: [] as number[], master: [] as number[] };
    const push = (seq: number[], v: number | undefined): void => {
      if (v !== undefined && seq.at(-1) !== v) seq.push(v);
    };
    const sampleRoles = async (): Promise<string> => {
      const text = await sidecar.metrics();
      push(roles.slave, metric(text, 'openshift_ptp_interface_role', { ...ptp4l, iface: slave.iface }));
      push(roles.master, metric(text, 'openshift_ptp_interface_role', { ...ptp4l, iface: master.iface }));
      return text;
    };
    const linesRead = async (): Promise<number> =>
      metric(await sidecar.metrics(), 'syncvisor_socket_lines_total', {}) ?? NaN;
    const base = await linesRead();
    await sampleRoles();
    // One segment per port transition, so every role the live run showed is seen here too.
    let sent = 0;
    let segment: string[] = [];
    const flush = async (): Promise<void> => {
      if (segment.length === 0) return;
      conn.write(`${segment.join('\n')}\n`);
      sent += segment.filter((l) => !l.startsWith('CMD ')).length;
      segment = [];
      await until('the segment read', linesRead, (n) => n >= base + sent, 5_000, sidecar.stderr);
      await new Promise((r) => setTimeout(r, 30));
      await sampleRoles();
    };
    for (const line of log) {
      segment.push(line);
      if (/\] port 1: \w+ to \w+ on /.test(line)) await flush();
    }
    await flush();

    expect(roles.slave).toEqual(expected.slaveRole);
    expect(roles.master).toEqual(expected.masterRole);
    await expect
      .poll(async () => metric(await sidecar.metrics(), 'openshift_ptp_clock_state', { ...ptp4l, iface: slave.alias }))
      .toBe(expected.clockState.at(-1));
    const text = await sidecar.metrics();
    const off = { from: 'master', ...ptp4l, iface: slave.alias };
    expect(metric(text, 'openshift_ptp_offset_ns', off)).toBe(expected.lastOffset);
    expect(metric(text, 'openshift_ptp_max_offset_ns', off)).toBe(expected.lastOffset);
    expect(metric(text, 'openshift_ptp_delay_ns', off)).toBe(expected.lastDelay);
    expect(seriesWith(text, 'openshift_ptp_offset_ns', 'iface', slave.iface)).toEqual([]);
    for (const config of [slave.config, master.config]) {
      expect(metric(text, 'openshift_ptp_process_status', { ...ptp4l, config })).toBe(0);
      expect(metric(text, 'openshift_ptp_process_restart_count', { ...ptp4l, config })).toBe(1);
    }
  });

  it('refreshes the aliases at each load: after CMD RESTART the labels use the new alias', async () => {
    const calls = daemon.aliasCalls;
    daemon.setAliases({ [slave.iface]: 'ens1f-new' });
    conn.write('CMD RESTART\n');
    await until(
      'the reload',
      () => daemon.aliasCalls,
      (n) => n === calls + 1,
      5_000,
      sidecar.stderr,
    );
    await until(
      'ready again',
      async () => (await fetch(`${sidecar.base}/readyz`)).status,
      (s) => s === 200,
    );
    conn.write(`ptp4l[2000.000]: [${slave.config}] master offset -7 s0 freq +10 path delay 1700\n`);
    await expect
      .poll(async () =>
        metric(await sidecar.metrics(), 'openshift_ptp_offset_ns', { from: 'master', ...ptp4l, iface: 'ens1f-new' }),
      )
      .toBe(-7);
    const text = await sidecar.metrics();
    expect(seriesWith(text, 'openshift_ptp_offset_ns', 'iface', slave.alias)).toEqual([]);
    expect(metric(text, 'openshift_ptp_interface_role', { ...ptp4l, iface: slave.iface })).toBe(1);
    conn.end();
  });
});
