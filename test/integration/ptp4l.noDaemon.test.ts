// The sidecar without a linuxptp-daemon that answers: nothing listens on its port, or it accepts and never answers.
// Readiness still comes (the calls are bounded), each call logs one warning and is then only counted, also across
// CMD RESTART loads, and lines are parsed with the real interface names.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { metric, node, openSocket, slave, startSidecar, until, type Sidecar } from './ptp4l.harness.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function listen(server: Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

const warnings = (s: Sidecar, call: string): number =>
  s
    .stderr()
    .split('\n')
    .filter((l) => l.includes('"level":"warn"') && l.includes(`"call":"${call}"`)).length;

async function restartAndWait(s: Sidecar, load: number): Promise<void> {
  const c = await openSocket(s.socket);
  c.end('CMD RESTART\n');
  await until(
    `load ${load}`,
    () => s.stderr().includes(`"load":${load},`),
    Boolean,
    15_000,
    () => s.stderr().slice(-2000),
  );
  await until(
    'ready',
    async () => (await fetch(`${s.base}/readyz`)).status,
    (st) => st === 200,
  );
}

describe('no linuxptp-daemon answering', () => {
  it('nothing listens: ready, one warning per call, then only the counter; real interface names', async () => {
    const probe = createServer();
    const port = await listen(probe);
    await new Promise((r) => probe.close(r));
    const dir = mkdtempSync(join(tmpdir(), 'syncvisor-nod-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const s = await startSidecar(dir, `http://127.0.0.1:${port}`);
    cleanups.push(() => s.stop());
    await restartAndWait(s, 2);
    await restartAndWait(s, 3);
    const text = await s.metrics();
    expect(metric(text, 'syncvisor_ptp_daemon_requests_total', { call: 'portAliases', result: 'error' })).toBe(3);
    expect(metric(text, 'syncvisor_ptp_daemon_requests_total', { call: 'portAliases', result: 'ok' })).toBe(0);
    // The first load's call (with its retries) is still running when the two restarts come: the second load gets one
    // follow-up call, the third is covered by it.
    await expect
      .poll(async () =>
        metric(await s.metrics(), 'syncvisor_ptp_daemon_requests_total', { call: 'emitLogs', result: 'error' }),
      )
      .toBeGreaterThanOrEqual(2);
    expect(warnings(s, 'portAliases')).toBe(1);
    expect(warnings(s, 'emitLogs')).toBe(1);
    expect(s.stderr()).toContain('ECONNREFUSED');
    const c = await openSocket(s.socket);
    c.end(`ptp4l[1.0]: [${slave.config}] master offset -9 s0 freq +1 path delay 1500\n`);
    await expect
      .poll(async () =>
        metric(await s.metrics(), 'openshift_ptp_offset_ns', {
          from: 'master',
          process: 'ptp4l',
          node,
          iface: slave.iface,
        }),
      )
      .toBe(-9);
  });

  it('a daemon that never answers: readiness within the bounded wait (timeout × attempts)', async () => {
    const hung = createServer(() => {});
    const port = await listen(hung);
    cleanups.push(
      () =>
        new Promise<void>((r) => {
          hung.closeAllConnections();
          hung.close(() => r());
        }),
    );
    const dir = mkdtempSync(join(tmpdir(), 'syncvisor-nod-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const s = await startSidecar(dir, `http://127.0.0.1:${port}`, [
      'ptp.portAliasesTimeoutMs=300',
      'ptp.emitLogsTimeoutMs=300',
      'ptp.daemonRetries=1',
      'ptp.daemonRetryDelayMs=50',
    ]);
    cleanups.push(() => s.stop());
    expect(s.stderr()).toContain('no answer within 300 ms');
    const text = await s.metrics();
    expect(metric(text, 'syncvisor_ptp_daemon_requests_total', { call: 'portAliases', result: 'error' })).toBe(1);
    expect(warnings(s, 'portAliases')).toBe(1);
    await expect
      .poll(async () =>
        metric(await s.metrics(), 'syncvisor_ptp_daemon_requests_total', { call: 'emitLogs', result: 'error' }),
      )
      .toBe(1);
  });
});
