// The embedded redis-server under attack, on the real binary with both services in a network namespace of its own:
// it runs in its own process group (a terminal's Ctrl-C reaches only the daemon), a kill -9 of it is supervised (a
// new server, ready again), a second Ctrl-C does not orphan it, an orphan left by a kill -9 of the daemon does not
// block the next start, and a second instance on the same runtime directory is refused without touching it.
// SIGHUP tells that portsync has nothing to reload.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { canUseNetns, createNetns, type Netns } from '../support/netns.js';
import { alive, httpInNetns, pgidOf, startDaemon, until, type Daemon } from './support/daemon.js';

const netnsOk = canUseNetns();
const dir = mkdtempSync(join(tmpdir(), 'syncvisor-harden-emb-'));
let ns: Netns;
const running: Daemon[] = [];
const strays: number[] = [];

beforeAll(() => {
  if (netnsOk !== true) return;
  ns = createNetns('svhe');
  ns.addVethPair('Ethernet0', 'peer0');
  ns.set('Ethernet0', 'up');
  ns.set('peer0', 'up');
  mkdirSync(join(dir, 'cfg'));
  mkdirSync(join(dir, 'profiles'));
});
// Each test's daemons end with it, even when it fails (they hold the namespace's ports).
afterEach(async () => {
  for (const d of running.splice(0)) await d.stop();
});
afterAll(async () => {
  for (const d of running) await d.stop();
  for (const pid of strays) if (alive(pid)) process.kill(pid, 'SIGKILL');
  ns?.destroy();
  rmSync(dir, { recursive: true, force: true });
});

function daemon(port: number, sock = join(dir, 'events.sock')): Daemon {
  const args = ['--http', `127.0.0.1:${port}`];
  for (const kv of [
    `ptp.socketPath=${sock}`,
    `ptp.configDir=${dir}/cfg`,
    `ptp.profilePath=${dir}/profiles`,
    `redis.runtimeDir=${dir}/run`,
    `stateFile.path=${dir}/state/portsyncd.json`,
    'supervisor.shutdownTimeoutMs=3000',
  ])
    args.push('--set', kv);
  const d = startDaemon(args, { netns: ns.name });
  running.push(d);
  return d;
}

const status = (path: string, port = 9101): number => httpInNetns(ns.name, `http://127.0.0.1:${port}${path}`).status;

/** Waits until /readyz answers 200. */
const ready = (): Promise<number> =>
  until(
    'ready',
    () => status('/readyz'),
    (s) => s === 200,
    20_000,
  );

const redisPids = (d: Daemon): number[] =>
  [...d.log().matchAll(/"pid":(\d+)[^\n]*"msg":"embedded redis-server (?:started|restarted)"/g)].map((m) =>
    Number(m[1]),
  );

describe.skipIf(netnsOk !== true)('hardening: the embedded redis-server', () => {
  it('runs in its own process group, is restarted after a kill -9, a stall makes /readyz 503, and portsync says SIGHUP has nothing to reload', async () => {
    const d = daemon(9101);
    await ready();
    const [pid] = redisPids(d);
    expect(pid).toBeGreaterThan(0);
    expect(pgidOf(pid!)).not.toBe(pgidOf(d.pid));

    d.proc.kill('SIGHUP');
    await d.waitLog(/SIGHUP: portsync has nothing to reload/);

    const t0 = Date.now();
    process.kill(pid!, 'SIGKILL');
    await d.waitLog(/embedded redis-server died/);
    await d.waitLog(/"msg":"embedded redis-server restarted"/);
    await until(
      'ready again',
      () => status('/readyz'),
      (s) => s === 200,
      20_000,
    );
    const readyAgainMs = Date.now() - t0;
    const pids = redisPids(d);
    expect(pids).toHaveLength(2);
    expect(alive(pids[1]!)).toBe(true);
    console.log(`redis-server kill -9: ready again after ${readyAgainMs} ms`);

    // A stalled Redis (every client paused, PING included) makes /readyz 503, and it is 200 again afterwards.
    const t1 = Date.now();
    spawnSync('redis-cli', ['-s', join(dir, 'run/redis.sock'), 'CLIENT', 'PAUSE', '6000', 'ALL'], { timeout: 5_000 });
    await until(
      'unready during the stall',
      () => status('/readyz'),
      (s) => s === 503,
      5_500,
    );
    const unreadyMs = Date.now() - t1;
    await until(
      'ready after the stall',
      () => status('/readyz'),
      (s) => s === 200,
      10_000,
    );
    console.log(
      `redis stall (CLIENT PAUSE 6 s): /readyz 503 after ${unreadyMs} ms, 200 again after ${Date.now() - t1} ms`,
    );

    // A second instance on the same runtime dir is refused at once and leaves the first one's server alone.
    const second = daemon(9102, join(dir, 'events2.sock'));
    expect((await second.exited).code).not.toBe(0);
    expect(second.log()).toMatch(/another syncvisor instance runs its embedded Redis/);
    expect(alive(pids[1]!)).toBe(true);
    expect(status('/readyz')).toBe(200);

    // Two Ctrl-C: the second exits at once, and the server does not outlive the daemon.
    d.proc.kill('SIGINT');
    await d.waitLog(/"msg":"graceful shutdown"/);
    d.proc.kill('SIGINT');
    const exit = await d.exited;
    // The second signal exits at once with 128 + SIGINT, unless the drain had already finished (a fast shutdown
    // wins the race and exits 0); either way no redis-server may outlive the daemon (below).
    if (exit.code !== 0) {
      expect(exit.code, '128 + SIGINT').toBe(130);
      expect(d.log()).toMatch(/second signal: exiting now/);
    }
    await until(
      'no orphaned redis-server',
      () => alive(pids[1]!),
      (a) => !a,
      3_000,
    );
  });

  it('a redis-server orphaned by a kill -9 of the daemon does not block the next start', async () => {
    const d = daemon(9101);
    await ready();
    const [orphan] = redisPids(d);
    strays.push(orphan!);
    d.proc.kill('SIGKILL');
    await d.exited;
    expect(alive(orphan!)).toBe(true); // nothing can stop it when the daemon dies by SIGKILL

    const next = daemon(9101);
    await until(
      'the next start is ready',
      () => status('/readyz'),
      (s) => s === 200,
      20_000,
    );
    expect(alive(orphan!)).toBe(false); // shut down by the next owner of the lock
    expect(await next.stop()).toEqual({ code: 0, signal: null });
    const [own] = redisPids(next);
    await until(
      'its server stopped too',
      () => alive(own!),
      (a) => !a,
      3_000,
    );
  });
});
