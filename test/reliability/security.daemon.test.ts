// Security defaults asserted on the real daemon (both services, embedded Redis, no HTTP/inspector options), run
// under `ip netns exec` in a namespace of its own so its default ports are free and its listeners are the only ones:
// the PTP socket is 0660, HTTP listens on 127.0.0.1 only (not on another address of the host), no inspector port
// without --inspect, and with --inspect the inspector is on 127.0.0.1 only.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canUseNetns, createNetns, type Netns } from '../support/netns.js';

const root = resolve(import.meta.dirname, '../..');
const netnsOk = canUseNetns();
if (netnsOk !== true) console.warn(`skipping security default tests: ${netnsOk}`);

interface Daemon {
  proc: ChildProcess;
  exited: Promise<number | null>;
  log: string;
  dir: string;
}

/** The real CLI from the sources through tsx, inside `ns`, with only paths set (every security knob at default). */
function startDaemon(ns: Netns, dir: string, extra: string[]): Daemon {
  const entry = `const { main } = await import(${JSON.stringify(pathToFileURL(join(root, 'src/cli/main.ts')).href)});
const code = await main(process.argv.slice(1)); process.exitCode = code; setImmediate(() => process.exit(code));`;
  const log = join(dir, 'daemon.log');
  const fd = openSync(log, 'a');
  const args = [
    'run',
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
  const proc = spawn(
    'ip',
    ['netns', 'exec', ns.name, process.execPath, '--import', 'tsx', '--input-type=module', '-e', entry, ...args],
    { cwd: root, stdio: ['ignore', fd, fd], env: cleanEnv() },
  );
  return { proc, exited: new Promise((r) => proc.once('exit', (c) => r(c))), log, dir };
}

function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) => !k.startsWith('SYNCVISOR_') && !['NODE_NAME', 'PTP_PROFILE_PATH'].includes(k),
    ),
  );
}

async function waitForLog(d: Daemon, what: RegExp, ms = 20_000): Promise<RegExpExecArray> {
  for (let i = 0; i < ms / 50; i++) {
    const text = existsSync(d.log) ? readFileSync(d.log, 'utf8') : '';
    const m = what.exec(text);
    if (m) return m;
    if (d.proc.exitCode !== null) throw new Error(`daemon exited ${d.proc.exitCode}: ${text}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no ${what} in the daemon log: ${readFileSync(d.log, 'utf8')}`);
}

async function stop(d: Daemon | undefined): Promise<void> {
  if (!d || d.proc.exitCode !== null) return;
  d.proc.kill('SIGTERM');
  const t = setTimeout(() => d.proc.kill('SIGKILL'), 10_000);
  await d.exited;
  clearTimeout(t);
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
  const daemons: Daemon[] = [];

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
      await stop(d);
      if (process.env.SYNCVISOR_KEEP_LOGS) console.log(readFileSync(d.log, 'utf8'));
      rmSync(d.dir, { recursive: true, force: true });
    }
    ns?.destroy();
  });

  it('defaults: socket 0660, HTTP on 127.0.0.1:9101 and the events API on 127.0.0.1:9043 only, no inspector, no other TCP listener', async () => {
    const d = startDaemon(ns!, mkdtempSync(join(tmpdir(), 'syncvisor-sec-')), []);
    daemons.push(d);
    const [, address] = await waitForLog(d, /"address":"([^"]+)","msg":"http listening"/);
    expect(address).toBe('127.0.0.1:9101');
    await waitForLog(d, /"msg":"ptp socket listening"/);
    const st = statSync(join(d.dir, 'events.sock'));
    expect(st.isSocket()).toBe(true);
    expect((st.mode & 0o777).toString(8)).toBe('660');
    // The embedded Redis: a Unix socket only (port 0), 0660 as well.
    expect((statSync(join(d.dir, 'run', 'redis.sock')).mode & 0o777).toString(8)).toBe('660');

    await waitForLog(d, /"msg":"events API listening"/);
    expect(tcpListeners(ns!)).toEqual(['127.0.0.1:9043', '127.0.0.1:9101']);
    expect(httpCode(ns!, 'http://127.0.0.1:9101/healthz')).toBe('200');
    expect(httpCode(ns!, 'http://127.0.0.1:9043/api/ocloudNotifications/v2/health')).toBe('200');
    expect(httpCode(ns!, 'http://10.99.0.1:9043/api/ocloudNotifications/v2/health')).toBe('000');
    expect(httpCode(ns!, 'http://10.99.0.1:9101/healthz')).toBe('000');
    expect(httpCode(ns!, 'http://127.0.0.2:9101/healthz')).toBe('000');
    expect(httpCode(ns!, 'http://127.0.0.1:9102/')).toBe('000');
    expect(readFileSync(d.log, 'utf8')).not.toMatch(/inspector/i);
    await stop(d);
    expect(await d.exited).toBe(0);
  }, 60_000);

  it('--inspect serves the inspector on 127.0.0.1:9102 only', async () => {
    const d = startDaemon(ns!, mkdtempSync(join(tmpdir(), 'syncvisor-sec-')), ['--inspect']);
    daemons.push(d);
    await waitForLog(d, /"msg":"http listening"/);
    const [, url] = await waitForLog(d, /"url":"([^"]+)","msg":"inspector: serving"/);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:9102\/?/);
    await waitForLog(d, /"msg":"events API listening"/);
    expect(tcpListeners(ns!)).toEqual(['127.0.0.1:9043', '127.0.0.1:9101', '127.0.0.1:9102']);
    expect(httpCode(ns!, 'http://127.0.0.1:9102/')).toBe('200');
    expect(httpCode(ns!, 'http://10.99.0.1:9102/')).toBe('000');
    expect(httpCode(ns!, 'http://127.0.0.2:9102/')).toBe('000');
    await stop(d);
  }, 60_000);
});
