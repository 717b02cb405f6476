// The hardening attacks on the real binary with the ptp service (docs/reliability.md, section "Hardening"):
// signals, hostile ConfigMap files (a symlink to /dev/zero, a FIFO, a 3,000-deep value under --trace), idle socket
// clients at the connection cap, a second instance against a stalled first one, HTTP pipelining and idle
// connections, and permanent listen errors. Each daemon runs under `ip netns exec` in a namespace of its own, so its
// ports (9101, 9229) are its own and nothing else on the machine can answer for it.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import {
  copyFileSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { canUseNetns, createNetns, type Netns } from '../support/netns.js';
import { ptpServiceArgs } from '../support/spawnDaemon.js';
import { alive, bin, cleanEnv, httpInNetns, repo, rssMb, startDaemon, until, type Daemon } from './support/daemon.js';

const netnsOk = canUseNetns();
const fixtures = join(repo, 'test/fixtures/ptp');
const base = mkdtempSync(join(tmpdir(), 'syncvisor-harden-ptp-'));
let ns: Netns;
const running: Daemon[] = [];

beforeAll(() => {
  if (netnsOk === true) ns = createNetns('svh');
});
// Each test's daemons end with it, even when it fails (they hold the namespace's ports).
afterEach(async () => {
  for (const d of running.splice(0)) await d.stop();
});
afterAll(async () => {
  for (const d of running) await d.stop();
  ns?.destroy();
  rmSync(base, { recursive: true, force: true });
});

let n = 0;
/** A fresh ptp setup: ConfigMap profiles/node1 and two INI files; returns the dir and the socket path. */
function setup(): { dir: string; sock: string } {
  const dir = join(base, `d${n++}`);
  mkdirSync(join(dir, 'profiles'), { recursive: true });
  mkdirSync(join(dir, 'cfg'));
  copyFileSync(join(fixtures, 'examples/node1.json'), join(dir, 'profiles/node1'));
  copyFileSync(join(fixtures, 'examples/ptp4l.0.config'), join(dir, 'cfg/ptp4l.0.config'));
  copyFileSync(join(fixtures, 'examples/ptp4l.1.config'), join(dir, 'cfg/ptp4l.1.config'));
  return { dir, sock: join(dir, 'events.sock') };
}

function ptpArgs(dir: string, sock: string, extra: string[] = []): string[] {
  const ptp = { socketPath: sock, http: '127.0.0.1:9101', configDir: `${dir}/cfg`, profilePath: `${dir}/profiles` };
  return [...ptpServiceArgs(ptp), ...extra];
}

function ptpDaemon(dir: string, sock: string, extra: string[] = []): Daemon {
  const d = startDaemon(ptpArgs(dir, sock, extra), { netns: ns.name, env: { NODE_NAME: 'node1' } });
  running.push(d);
  return d;
}

/** HTTP inside the namespace (curl): status code and body. */
const curl = (path: string, port = 9101): { status: number; body: string } =>
  httpInNetns(ns.name, `http://127.0.0.1:${port}${path}`);

/** TCP listeners inside the namespace, from `ss -ltnH`. */
/** A node script inside the namespace, run asynchronously (the test keeps reading the daemon's log); its stdout. */
function nodeInNs(script: string, ms = 30_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn('ip', ['netns', 'exec', ns.name, process.execPath, '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    p.stdout.on('data', (b: Buffer) => (out += b.toString()));
    const t = setTimeout(() => p.kill('SIGKILL'), ms);
    p.once('exit', () => {
      clearTimeout(t);
      resolve(out);
    });
    p.once('error', reject);
  });
}

function listeners(): string[] {
  return ns
    .exec('ss', ['-ltnH'])
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => l.trim().split(/\s+/)[3] ?? '');
}

function openUnix(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const c = connect(path, () => resolve(c));
    c.once('error', reject);
  });
}

describe.skipIf(netnsOk !== true)('hardening: the real daemon (ptp)', () => {
  it('SIGUSR1 opens no debugger (nothing on 9229, daemon alive); SIGUSR2 logs the state; SIGHUP reloads ptp as CMD RESTART; SIGQUIT drains and exits 0', async () => {
    const { dir, sock } = setup();
    const d = ptpDaemon(dir, sock);
    await d.waitLog(/"msg":"http listening"/);
    await until(
      'ready',
      () => curl('/readyz').status,
      (s) => s === 200,
    );

    d.proc.kill('SIGUSR1');
    await d.waitLog(/SIGUSR1 ignored/);
    await new Promise((r) => setTimeout(r, 500)); // the inspector would be listening well within this
    expect(listeners().filter((a) => a.endsWith(':9229'))).toEqual([]);
    expect(alive(d.pid)).toBe(true);
    expect(curl('/healthz').status).toBe(200);

    d.proc.kill('SIGUSR2');
    await d.waitLog(/SIGUSR2: supervisor state/);
    expect(alive(d.pid)).toBe(true);

    d.proc.kill('SIGHUP');
    await d.waitLog(/SIGHUP: ptp reloads its configuration/);
    await d.waitLog(/ptp sidecar restarting/);
    await until(
      'ready after the reload',
      () => curl('/readyz').status,
      (s) => s === 200,
    );
    expect(alive(d.pid)).toBe(true);

    d.proc.kill('SIGQUIT');
    const exit = await d.exited;
    expect(exit).toEqual({ code: 0, signal: null });
    expect(d.log()).toMatch(/"signal":"SIGQUIT".*"msg":"graceful shutdown"/);
    expect(d.log()).toContain('supervisor stopped');
  });

  it('a ConfigMap that is a symlink to /dev/zero is refused unread (bounded RSS), and a FIFO never hangs the load or the exit', async () => {
    const { dir, sock } = setup();
    rmSync(join(dir, 'profiles/node1'));
    symlinkSync('/dev/zero', join(dir, 'profiles/node1'));
    const d = ptpDaemon(dir, sock);
    await d.waitLog(/not a regular file \(a character device\)/);
    await until(
      'live',
      () => curl('/healthz').status,
      (s) => s === 200,
    );
    const zeroRss = rssMb(d.pid);
    expect(zeroRss.peak).toBeLessThan(200);

    // Now a FIFO nobody writes: the reload (SIGHUP) must finish and SIGTERM must end the process.
    rmSync(join(dir, 'profiles/node1'));
    execFileSync('mkfifo', [join(dir, 'profiles/node1')]);
    d.proc.kill('SIGHUP');
    await d.waitLog(/not a regular file \(a FIFO\)/);
    await until(
      'ready',
      () => curl('/readyz').status,
      (s) => s === 200,
    );
    const t0 = Date.now();
    d.proc.kill('SIGTERM');
    const exit = await Promise.race([d.exited, new Promise((r) => setTimeout(() => r('hung'), 8_000))]);
    expect(exit).toEqual({ code: 0, signal: null });
    console.log(
      `ConfigMap → /dev/zero: peak RSS ${zeroRss.peak.toFixed(0)} MB; FIFO: exit ${Date.now() - t0} ms after SIGTERM`,
    );
  });

  it('--trace with a 3,000-deep ConfigMap value keeps running and writes a valid trace', async () => {
    const { dir, sock } = setup();
    let deep: unknown = 'bottom';
    for (let i = 0; i < 3_000; i++) deep = { d: deep };
    const cm = JSON.parse(readFileSync(join(dir, 'profiles/node1'), 'utf8')) as Array<Record<string, unknown>>;
    cm[0]!['ptpSettings'] = deep;
    writeFileSync(join(dir, 'profiles/node1'), JSON.stringify(cm));
    const trace = join(dir, 'trace.jsonl');
    const d = ptpDaemon(dir, sock, ['--trace', trace]);
    await until(
      'ready',
      () => curl('/readyz').status,
      (s) => s === 200,
    );
    d.proc.kill('SIGHUP'); // a second load of the same deep value
    await d.waitLog(/ptp sidecar restarting/);
    await until(
      'ready again',
      () => curl('/readyz').status,
      (s) => s === 200,
    );
    expect(alive(d.pid)).toBe(true);
    expect(await d.stop()).toEqual({ code: 0, signal: null });
    const lines = readFileSync(trace, 'utf8').trim().split('\n');
    for (const l of lines) expect(() => JSON.parse(l) as unknown).not.toThrow();
    expect(lines.join('\n')).toContain('[depth limit]');
  });

  it('256 idle PTP clients do not lock out the real client; a client beyond an all-busy cap gets ERR', async () => {
    const { dir, sock } = setup();
    const d = ptpDaemon(dir, sock);
    await until(
      'ready',
      () => curl('/readyz').status,
      (s) => s === 200,
    );
    const idle: Socket[] = [];
    for (let i = 0; i < 256; i++) {
      const s = await openUnix(sock);
      s.on('error', () => {});
      idle.push(s);
    }
    await new Promise((r) => setTimeout(r, 1_200)); // idle longer than the eviction threshold (1 s)
    const real = await openUnix(sock);
    let reset: Error | undefined;
    real.on('error', (e) => (reset = e));
    real.write(readFileSync(join(fixtures, 'lines.txt')));
    await until(
      'the real client is served',
      () => curl('/metrics').body,
      (t) => t.includes('openshift_ptp_offset_ns{from="master",process="ptp4l",node="node1",iface="ens5f1"}'),
    );
    console.log(`256 idle clients: the real client reset=${reset?.message ?? 'no'}`);
    expect(reset).toBeUndefined();
    expect(real.destroyed).toBe(false);
    const text = curl('/metrics').body;
    expect(text).toMatch(/syncvisor_socket_idle_closed_total\{reason="evicted"\} [1-9]/);

    // Every slot busy (all just wrote): the next one is answered ERR and closed, not silently reset.
    for (const s of idle) if (!s.destroyed) s.write('\n');
    await new Promise((r) => setTimeout(r, 100));
    const extra = await openUnix(sock);
    const answer = await new Promise<string>((resolve) => {
      let got = '';
      extra.on('data', (b: Buffer) => (got += b.toString()));
      extra.on('close', () => resolve(got));
      extra.on('error', () => {});
    });
    expect(answer).toMatch(/^ERR too many connections/);
    for (const s of idle) s.destroy();
    real.destroy();
    await d.stop();
  });

  it('a second instance does not steal the sockets of a stalled first one (full backlog), and leaves them intact', async () => {
    const { dir, sock } = setup();
    const a = ptpDaemon(dir, sock);
    await until(
      'A ready',
      () => curl('/readyz').status,
      (s) => s === 200,
    );
    const before = lstatSync(sock);
    a.proc.kill('SIGSTOP');
    // Fill A's accept backlog: further connects fail with EAGAIN, which the old probe took for a stale socket.
    const held: Socket[] = [];
    let eagain = 0;
    for (let i = 0; i < 4_200 && eagain === 0; i++) {
      await new Promise<void>((resolve) => {
        const c = connect(sock);
        c.on('error', () => {});
        c.once('connect', () => {
          held.push(c);
          resolve();
        });
        c.once('error', (e: NodeJS.ErrnoException) => {
          if (e.code === 'EAGAIN') eagain++;
          resolve();
        });
      });
    }
    expect(eagain).toBeGreaterThan(0);
    const b = startDaemon(ptpArgs(dir, sock, ['--http', '127.0.0.1:9111']), {
      netns: ns.name,
      env: { NODE_NAME: 'node1' },
    });
    running.push(b);
    const bExit = await Promise.race([b.exited, new Promise((r) => setTimeout(() => r('still running'), 15_000))]);
    const moved = lstatSync(sock, { throwIfNoEntry: false });
    console.log(`second instance: ${JSON.stringify(bExit)}; A's socket inode kept: ${moved?.ino === before.ino}`);
    expect(bExit).toEqual({ code: 78, signal: null });
    expect(b.log()).toMatch(/another syncvisor instance owns/);
    const after = lstatSync(sock);
    expect([after.dev, after.ino]).toEqual([before.dev, before.ino]);
    for (const c of held) c.destroy();
    a.proc.kill('SIGCONT');
    // A is still reachable on its path: a CMD RESTART reaches it (once it has worked off its backlog).
    const c = await until(
      'A accepts again',
      () => openUnix(sock).catch(() => undefined),
      (s) => s !== undefined,
    );
    c!.end('CMD RESTART\n');
    await a.waitLog(/ptp sidecar restarting/);
    expect(await a.stop()).toEqual({ code: 0, signal: null });
    expect(() => lstatSync(sock)).toThrow(); // A removed its own socket on exit
  });

  it('300,000 pipelined GET /metrics on one connection stay bounded; 70 idle HTTP connections get 503 beyond the cap and are closed when idle', async () => {
    const { dir, sock } = setup();
    const d = ptpDaemon(dir, sock, ['--set', 'http.idleTimeoutMs=1500']);
    await until(
      'ready',
      () => curl('/readyz').status,
      (s) => s === 200,
    );
    const rss0 = rssMb(d.pid);
    // The client runs inside the namespace: a child node process writes the requests and never reads.
    const client = `
      const net = require('node:net');
      const c = net.connect(9101, '127.0.0.1');
      const req = Buffer.from('GET /metrics HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n'.repeat(1000));
      let sent = 0, closed = false;
      c.on('error', () => {});
      const report = () => { console.log(JSON.stringify({ sent: sent * 1000, closed })); process.exit(0); };
      c.on('close', () => { closed = true; setTimeout(report, 200); });
      c.pause();
      const pump = () => { while (sent < 300 && !closed) { sent++; if (!c.write(req)) { c.once('drain', pump); return; } }
        setTimeout(() => { console.log(JSON.stringify({ sent: sent * 1000, closed })); process.exit(0); }, 2000); };
      c.on('connect', pump);
      setTimeout(() => { console.log(JSON.stringify({ sent: sent * 1000, closed, timeout: true })); process.exit(0); }, 20000);`;
    const res = JSON.parse((await nodeInNs(client)).trim()) as { sent: number; closed: boolean };
    expect(alive(d.pid), d.log().slice(-3000)).toBe(true);
    const rss1 = rssMb(d.pid);
    console.log(
      `pipelining: ${res.sent} requests written, closed=${res.closed}; RSS ${rss0.rss.toFixed(0)} → peak ${rss1.peak.toFixed(0)} MB`,
    );
    expect(res.closed).toBe(true);
    expect(rss1.peak - rss0.rss).toBeLessThan(100);
    expect(curl('/metrics').body).toMatch(/syncvisor_http_rejected_total\{reason="pipelined"\} [1-9]/);

    // 70 idle connections: beyond 64 they are answered 503; after the idle timeout all are closed by the daemon.
    const idle = `
      const net = require('node:net');
      const socks = []; const answers = []; let closedByServer = 0;
      for (let i = 0; i < 70; i++) {
        const s = net.connect(9101, '127.0.0.1'); let got = '';
        s.on('data', (b) => (got += b)); s.on('error', () => {});
        s.on('close', () => { closedByServer++; answers.push(got.split('\\r\\n')[0]); });
        socks.push(s);
      }
      setTimeout(() => { console.log(JSON.stringify({ closedByServer, busy: answers.filter((a) => a.includes(' 503 ')).length })); process.exit(0); }, 4000);`;
    const res2 = JSON.parse((await nodeInNs(idle)).trim()) as { closedByServer: number; busy: number };
    expect(res2.busy).toBeGreaterThanOrEqual(6);
    expect(res2.closedByServer).toBe(70);
    expect(curl('/healthz').status).toBe(200);
    await d.stop();
  });

  it('permanent listen errors exit 78 (EX_CONFIG) at once with one clear line: an invalid port, an address in use', async () => {
    const { dir, sock } = setup();
    const bad = startDaemon(ptpArgs(dir, sock, ['--http', '0.0.0.0:99999']), { netns: ns.name });
    expect(await bad.exited).toEqual({ code: 78, signal: null });
    expect(bad.log()).toMatch(/http\.listen.*port must be 0…65535/);

    // Connection caps that do not fit the open-file limit (with the reserve) are a configuration error.
    const starved = spawnSync(
      'ip',
      ['netns', 'exec', ns.name, 'prlimit', '--nofile=200:200', process.execPath, bin, 'run', ...ptpArgs(dir, sock)],
      { encoding: 'utf8', timeout: 20_000, env: cleanEnv({ NODE_NAME: 'node1' }) },
    );
    expect(starved.status).toBe(78);
    expect(starved.stderr).toMatch(/exceed the open-file limit \(200; hard 200\)/);

    const first = ptpDaemon(dir, sock);
    await until(
      'first ready',
      () => curl('/readyz').status,
      (s) => s === 200,
    );
    const { dir: dir2, sock: sock2 } = setup();
    const t0 = Date.now();
    const inUse = startDaemon(ptpArgs(dir2, sock2), { netns: ns.name, env: { NODE_NAME: 'node1' } });
    running.push(inUse);
    const exit = await Promise.race([inUse.exited, new Promise((r) => setTimeout(() => r('still running'), 10_000))]);
    const ms = Date.now() - t0;
    console.log(
      `EADDRINUSE: ${JSON.stringify(exit)} after ${ms} ms, restarts ${inUse.log().split('child restarted').length - 1}`,
    );
    expect(exit).toEqual({ code: 78, signal: null });
    const errors = inUse
      .log()
      .split('\n')
      .filter((l) => /"level":"error"/.test(l));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/http cannot listen on 127\.0\.0\.1:9101: EADDRINUSE/);
    expect(inUse.log()).not.toContain('child restarted');
    await first.stop();
  });
});
