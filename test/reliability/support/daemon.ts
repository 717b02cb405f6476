// The real binary (bin/syncvisor.js → dist, `npm run build` first) for the hardening tests, started through
// test/support/spawnDaemon.ts (so every daemon is stopped in the file's afterAll, also when a test fails): optionally
// under `ip netns exec` (its own ports: 9229 and 9101 are then the namespace's), stdout and stderr captured, a clean
// environment.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanEnv, repoRoot, spawnSyncvisor, type SpawnedDaemon } from '../../support/spawnDaemon.js';

export { cleanEnv };
export const repo = repoRoot;
/** HARDENING_BIN runs the same attacks against another build (how the before figures of docs/reliability.md were taken). */
export const bin = process.env['HARDENING_BIN'] ?? join(repo, 'bin/syncvisor.js');

export interface Daemon {
  proc: SpawnedDaemon['process'];
  pid: number;
  exited: SpawnedDaemon['exited'];
  /** stdout and stderr so far. */
  log(): string;
  waitLog(what: RegExp, ms?: number): Promise<RegExpExecArray>;
  /** SIGTERM (unless it has exited) and the exit; SIGKILL after 15 s. */
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `syncvisor run ...args`; `netns`: run inside that namespace; `detached`: the daemon leads its own process group. */
export function startDaemon(
  args: string[],
  opts: { netns?: string; env?: Record<string, string>; detached?: boolean } = {},
): Daemon {
  // `ip netns exec` execs the command: the pid is the daemon's.
  const d = spawnSyncvisor(['run', ...args], {
    ...(opts.netns ? { wrapper: ['ip', 'netns', 'exec', opts.netns] } : {}),
    wrapperBin: bin,
    cleanEnv: true,
    env: opts.env ?? {},
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: opts.detached ?? false,
  });
  return {
    proc: d.process,
    pid: d.pid,
    exited: d.exited,
    log: d.output,
    waitLog: (what, ms) => d.waitForText(what, ms),
    stop: () => d.stop(),
  };
}

/** An HTTP GET with curl inside namespace `netns` (where the daemon's ports are): status (0: no answer) and body. */
export function httpInNetns(netns: string, url: string): { status: number; body: string } {
  const r = spawnSync('ip', ['netns', 'exec', netns, 'curl', '-s', '-m', '3', '-o', '-', '-w', '\n%{http_code}', url], {
    encoding: 'utf8',
    timeout: 10_000,
  });
  const out = r.stdout ?? '';
  const i = out.lastIndexOf('\n');
  return { status: Number(out.slice(i + 1)) || 0, body: i < 0 ? '' : out.slice(0, i) };
}

/** Resident set size and its peak (VmRSS, VmHWM) of a pid, in MB. */
export function rssMb(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
}

/** Bounded poll. */
export async function until<T>(
  what: string,
  get: () => T | Promise<T>,
  ok: (v: T) => boolean,
  ms = 15_000,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await get();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The process exists and is not a zombie (an orphan's zombie may wait long for a reaper in a container). */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Process group id (field 5 of /proc/PID/stat). */
export function pgidOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
}
