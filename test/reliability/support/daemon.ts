// The real binary (bin/syncvisor.js → dist, `npm run build` first) for the hardening tests: optionally under
// `ip netns exec` (its own ports: 9229 and 9101 are then the namespace's), its log captured, bounded waits.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const repo = resolve(import.meta.dirname, '../../..');
/** HARDENING_BIN runs the same attacks against another build (how the before figures of docs/reliability.md were taken). */
export const bin = process.env['HARDENING_BIN'] ?? join(repo, 'bin/syncvisor.js');

export interface Daemon {
  proc: ChildProcess;
  pid: number;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  log(): string;
  waitLog(what: RegExp, ms?: number): Promise<RegExpExecArray>;
  /** SIGTERM (unless it has exited) and the exit. */
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    ...Object.fromEntries(
      Object.entries(process.env).filter(
        ([k]) => !k.startsWith('SYNCVISOR_') && !['NODE_NAME', 'PTP_PROFILE_PATH', 'NODE_OPTIONS'].includes(k),
      ),
    ),
    ...extra,
  };
}

/** `syncvisor run ...args`; `netns`: run inside that namespace; `detached`: the daemon leads its own process group. */
export function startDaemon(
  args: string[],
  opts: { netns?: string; env?: Record<string, string>; detached?: boolean } = {},
): Daemon {
  const argv = [bin, 'run', ...args];
  // `ip netns exec` execs the command: the pid is the daemon's.
  const proc = opts.netns
    ? spawn('ip', ['netns', 'exec', opts.netns, process.execPath, ...argv], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: cleanEnv(opts.env),
        detached: opts.detached ?? false,
      })
    : spawn(process.execPath, argv, {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: cleanEnv(opts.env),
        detached: opts.detached ?? false,
      });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
    proc.once('exit', (code, signal) => r({ code, signal })),
  );
  const d: Daemon = {
    proc,
    pid: proc.pid!,
    exited,
    log: () => out,
    waitLog: async (what, ms = 20_000) => {
      const end = Date.now() + ms;
      for (;;) {
        const m = what.exec(out);
        if (m) return m;
        if (Date.now() > end || proc.exitCode !== null || proc.signalCode !== null) {
          const m2 = what.exec(out);
          if (m2) return m2;
          throw new Error(`no ${what} in the daemon log:\n${out.slice(-3000)}`);
        }
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    stop: async () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 15_000);
      const r = await exited;
      clearTimeout(t);
      return r;
    },
  };
  return d;
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
