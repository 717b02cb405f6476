// Security defaults asserted on the real daemon (both services, embedded Redis, no HTTP/inspector options), run
// under `ip netns exec` in a namespace of its own so its default ports are free and its listeners are the only ones:
// the PTP socket is 0660, HTTP listens on 127.0.0.1 only (not on another address of the host), no inspector port
// without --inspect, and with --inspect the inspector is on 127.0.0.1 only.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canUseNetns, createNetns, type Netns } from '../support/netns.js';
import { startDaemon, type Daemon } from './support/daemon.js';

const netnsOk = canUseNetns();
if (netnsOk !== true) console.warn(`skipping security default tests: ${netnsOk}`);

/** The real daemon inside `ns`, with only paths set (every security knob at its default). */
function daemonIn(ns: Netns, dir: string, extra: string[]): Daemon & { dir: string } {
  const args = [
    '--set',
    `ptp.socketPath=${join(dir, 'events.sock')}`,
    '--set',
    `ptp.configDir=${dir}`,
    '--set',
    `ptp.profilePath=${dir}`,
    '--set',
    `redis.runtimeDir=${join(dir, 'run')}`,
    '--set',
    `stateFile.path=${join(dir, 'state', 'portsyncd.json')}`,
    ...extra,
  ];
  return { ...startDaemon(args, { netns: ns.name }), dir };
}

/** TCP listeners inside the namespace as `address:port` (from `ss -Htln`). */
function tcpListeners(ns: Netns): string[] {
  return ns
    .exec('ss', ['-Htln'])
    .split('\n')
    .filter(Boolean)
    .map((l) => l.trim().split(/\s+/)[3]!)
    .sort();
}

/** curl's HTTP code, or '000' when nothing answers (connection refused). */
function httpCode(ns: Netns, url: string): string {
  try {
    return ns.exec('curl', ['-s', '-o', '/dev/null', '-m', '3', '-w', '%{http_code}', url]);
  } catch (err) {
    return (err as { stdout?: string }).stdout?.toString() || '000';
  }
}

describe.skipIf(netnsOk !== true)('security defaults of the real daemon (own network namespace)', () => {
  let ns: Netns | undefined;
  const daemons: (Daemon & { dir: string })[] = [];

  beforeAll(() => {
    ns = createNetns('svsec');
    // A second, non-loopback address of the "host" and a second loopback address.
    ns.addVethPair('sec0', 'sec1');
    ns.ip(['addr', 'add', '10.99.0.1/24', 'dev', 'sec0']);
    ns.set('sec0', 'up');
    ns.set('sec1', 'up');
    ns.ip(['addr', 'add', '127.0.0.2/8', 'dev', 'lo']);
  });

  afterAll(async () => {
    for (const d of daemons) {
      await d.stop();
      if (process.env.SYNCVISOR_KEEP_LOGS) console.log(d.log());
      rmSync(d.dir, { recursive: true, force: true });
    }
    ns?.destroy();
  });

  it('defaults: socket 0660, HTTP on 127.0.0.1:9101 and the events API on 127.0.0.1:9043 only, no inspector, no other TCP listener', async () => {
    const d = daemonIn(ns!, mkdtempSync(join(tmpdir(), 'syncvisor-sec-')), []);
    daemons.push(d);
    const [, address] = await d.waitLog(/"address":"([^"]+)","msg":"http listening"/);
    expect(address).toBe('127.0.0.1:9101');
    await d.waitLog(/"msg":"ptp socket listening"/);
    const st = statSync(join(d.dir, 'events.sock'));
    expect(st.isSocket()).toBe(true);
    expect((st.mode & 0o777).toString(8)).toBe('660');
    // The embedded Redis: a Unix socket only (port 0), 0660 as well.
    expect((statSync(join(d.dir, 'run', 'redis.sock')).mode & 0o777).toString(8)).toBe('660');

    await d.waitLog(/"msg":"events API listening"/);
    expect(tcpListeners(ns!)).toEqual(['127.0.0.1:9043', '127.0.0.1:9101']);
    expect(httpCode(ns!, 'http://127.0.0.1:9101/healthz')).toBe('200');
    expect(httpCode(ns!, 'http://127.0.0.1:9043/api/ocloudNotifications/v2/health')).toBe('200');
    expect(httpCode(ns!, 'http://10.99.0.1:9043/api/ocloudNotifications/v2/health')).toBe('000');
    expect(httpCode(ns!, 'http://10.99.0.1:9101/healthz')).toBe('000');
    expect(httpCode(ns!, 'http://127.0.0.2:9101/healthz')).toBe('000');
    expect(httpCode(ns!, 'http://127.0.0.1:9102/')).toBe('000');
    expect(d.log()).not.toMatch(/inspector/i);
    expect(await d.stop()).toEqual({ code: 0, signal: null });
  }, 60_000);

  it('--inspect serves the inspector on 127.0.0.1:9102 only', async () => {
    const d = daemonIn(ns!, mkdtempSync(join(tmpdir(), 'syncvisor-sec-')), ['--inspect']);
    daemons.push(d);
    await d.waitLog(/"msg":"http listening"/);
    const [, url] = await d.waitLog(/"url":"([^"]+)","msg":"inspector: serving"/);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:9102\/?/);
    await d.waitLog(/"msg":"events API listening"/);
    expect(tcpListeners(ns!)).toEqual(['127.0.0.1:9043', '127.0.0.1:9101', '127.0.0.1:9102']);
    expect(httpCode(ns!, 'http://127.0.0.1:9102/')).toBe('200');
    expect(httpCode(ns!, 'http://10.99.0.1:9102/')).toBe('000');
    expect(httpCode(ns!, 'http://127.0.0.2:9102/')).toBe('000');
    await d.stop();
  }, 60_000);
});
