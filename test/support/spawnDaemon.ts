// One way for tests to run the real `syncvisor` binary (bin/syncvisor.js on dist/: `npm run build` first): its log
// lines captured and parsed, waits on a log line rather than a pause, and every child it started stopped in the
// file's afterAll (SIGTERM, then SIGKILL; at process exit SIGKILL) even when a test fails half way.
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { join, resolve } from 'node:path';
import { afterAll } from 'vitest';

export const repoRoot = resolve(import.meta.dirname, '../..');
export const binPath = join(repoRoot, 'bin/syncvisor.js');

export interface SpawnedDaemon {
  readonly process: ChildProcess;
  readonly pid: number;
  /** Everything written to stderr so far (empty when stderr is not captured). */
  stderr(): string;
  /** Everything written to stdout and stderr so far, in arrival order (what was captured of them). */
  output(): string;
  /** Resolves with the first match of `what` in output(), or rejects once the daemon exited or after timeoutMs. */
  waitForText(what: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  /** The JSON log records so far. */
  records(): Array<Record<string, unknown>>;
  /** Resolves with the first record whose msg is `msg` (and that matches `fields`), or rejects after timeoutMs. */
  waitForLog(msg: string, fields?: Record<string, unknown>, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** Resolves with the exit code (null when a signal ended it). */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Sends `signal` (SIGTERM) and waits at most timeoutMs for the exit; SIGKILL after that. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface SpawnOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Default ['ignore', 'ignore', 'pipe']: stderr captured. */
  stdio?: StdioOptions;
  /** Run through another program first (e.g. ['ip', 'netns', 'exec', NAME]); it must exec the daemon. */
  wrapper?: string[];
  /** Another copy of bin/syncvisor.js to run (default: this checkout's). */
  wrapperBin?: string;
  /** Leave out the caller's SYNCVISOR_*, NODE_NAME, PTP_PROFILE_PATH and NODE_OPTIONS (only opts.env sets them). */
  cleanEnv?: boolean;
  /** The daemon leads a process group of its own. */
  detached?: boolean;
}

/** process.env without what configures syncvisor (SYNCVISOR_*, NODE_NAME, PTP_PROFILE_PATH) or node, plus `extra`. */
export function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    ...Object.fromEntries(
      Object.entries(process.env).filter(
        ([k]) => !k.startsWith('SYNCVISOR_') && !['NODE_NAME', 'PTP_PROFILE_PATH', 'NODE_OPTIONS'].includes(k),
      ),
    ),
    ...extra,
  };
}

const running = new Set<ChildProcess>();

function killAll(): void {
  for (const p of running) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  running.clear();
}
/** SIGTERM first, so a daemon still stops its embedded redis-server; SIGKILL what is left after 5 s. */
async function stopAll(): Promise<void> {
  const left = [...running].filter((p) => p.exitCode === null && p.signalCode === null);
  for (const p of left) p.kill('SIGTERM');
  await Promise.race([
    Promise.all(
      left.map((p) => new Promise((r) => (p.exitCode !== null || p.signalCode !== null ? r(0) : p.once('exit', r)))),
    ),
    new Promise((r) => setTimeout(r, 5_000)),
  ]);
  killAll();
}
afterAll(stopAll, 10_000);
process.once('exit', killAll);

const matches = (rec: Record<string, unknown>, msg: string, fields: Record<string, unknown>): boolean =>
  rec.msg === msg && Object.entries(fields).every(([k, v]) => JSON.stringify(rec[k]) === JSON.stringify(v));

export function spawnSyncvisor(args: string[], opts: SpawnOptions = {}): SpawnedDaemon {
  const argv = [process.execPath, opts.wrapperBin ?? binPath, ...args];
  const cmd = opts.wrapper ? [...opts.wrapper, ...argv] : argv;
  const child = spawn(cmd[0]!, cmd.slice(1), {
    cwd: opts.cwd ?? repoRoot,
    env: { ...(opts.cleanEnv ? cleanEnv() : process.env), SYNCVISOR_LOG_FORMAT: 'json', ...opts.env },
    stdio: opts.stdio ?? ['ignore', 'ignore', 'pipe'],
    detached: opts.detached ?? false,
  });
  running.add(child);
  let text = '';
  let both = '';
  let parsedUpTo = 0;
  const recs: Array<Record<string, unknown>> = [];
  const waiters = new Set<() => void>();
  child.stdout?.on('data', (d: Buffer) => {
    both += d.toString();
    for (const w of waiters) w();
  });
  child.stderr?.on('data', (d: Buffer) => {
    text += d.toString();
    both += d.toString();
    const end = text.lastIndexOf('\n') + 1;
    for (const line of text.slice(parsedUpTo, end).split('\n')) {
      if (!line.startsWith('{')) continue;
      try {
        recs.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // not a log record
      }
    }
    parsedUpTo = end;
    for (const w of waiters) w();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) =>
    child.once('exit', (code, signal) => {
      running.delete(child);
      for (const w of waiters) w();
      res({ code, signal });
    }),
  );
  /** Resolves with the first value `probe` finds, checked on every output and at exit; bounded by timeoutMs. */
  function waitFor<T>(what: string, probe: () => T | undefined, timeoutMs: number): Promise<T> {
    return new Promise((res, rej) => {
      const check = (): void => {
        const hit = probe();
        if (hit !== undefined) return done(() => res(hit));
        if (child.exitCode !== null || child.signalCode !== null)
          return done(() => rej(new Error(`daemon exited before ${what}; output:\n${both.slice(-4000)}`)));
      };
      const timer = setTimeout(
        () => done(() => rej(new Error(`no ${what} within ${timeoutMs} ms; output:\n${both.slice(-4000)}`))),
        timeoutMs,
      );
      function done(f: () => void): void {
        clearTimeout(timer);
        waiters.delete(check);
        f();
      }
      waiters.add(check);
      check();
    });
  }
  const d: SpawnedDaemon = {
    process: child,
    pid: child.pid!,
    stderr: () => text,
    output: () => both,
    records: () => recs,
    exited,
    waitForLog(msg, fields = {}, timeoutMs = 15_000) {
      return waitFor(`"${msg}"`, () => recs.find((r) => matches(r, msg, fields)), timeoutMs);
    },
    waitForText(what, timeoutMs = 20_000) {
      return waitFor(String(what), () => what.exec(both) ?? undefined, timeoutMs);
    },
    async stop(signal = 'SIGTERM', timeoutMs = 15_000) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      const r = await exited;
      clearTimeout(t);
      return r;
    },
  };
  return d;
}

/** The value of one sample of `/metrics` text, e.g. metric(text, 'syncvisor_log_lines_dropped_total'). */
export function metricValue(text: string, name: string): number | undefined {
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : undefined;
}

export interface PtpServiceOptions {
  socketPath: string;
  /** --http (default 127.0.0.1:0: a free port, read from the "http listening" log line). */
  http?: string;
  configDir?: string;
  profilePath?: string;
  nodeName?: string;
  /** More `key=value` settings, each passed as --set. */
  set?: string[];
}

/** The flags of `syncvisor run` for the ptp service alone, every path the test's own: `['run', ...ptpServiceArgs(o)]`. */
export function ptpServiceArgs(o: PtpServiceOptions): string[] {
  const args = ['--services', 'ptp', '--http', o.http ?? '127.0.0.1:0'];
  const settings = [`ptp.socketPath=${o.socketPath}`];
  if (o.configDir !== undefined) settings.push(`ptp.configDir=${o.configDir}`);
  if (o.profilePath !== undefined) settings.push(`ptp.profilePath=${o.profilePath}`);
  if (o.nodeName !== undefined) settings.push(`ptp.nodeName=${o.nodeName}`);
  for (const kv of [...settings, ...(o.set ?? [])]) args.push('--set', kv);
  return args;
}
