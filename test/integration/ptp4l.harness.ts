// Shared by the real-ptp4l test and its replay: the sidecar's configuration for a ptp4l master ("gm", ptp4l.1.config,
// port ens2f0) and slave ("oc", ptp4l.0.config, port ens1f0), a real HTTP server on loopback standing in for
// linuxptp-daemon's port-aliases and emit-logs, the `syncvisor run --services ptp` daemon, a forwarder that writes a
// process's stdout into the sidecar's socket as linuxptp-daemon does, and /metrics parsing.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const repo = join(import.meta.dirname, '../..');
export const bin = join(repo, 'bin/syncvisor.js');
export const fixtureLog = join(repo, 'test/fixtures/ptp/ptp4l-netns.log');
export const fixtureExpected = join(repo, 'test/fixtures/ptp/ptp4l-netns.expected.json');

export const slave = { config: 'ptp4l.0.config', profile: 'oc', iface: 'ens1f0', alias: 'ens1fx' } as const;
export const master = { config: 'ptp4l.1.config', profile: 'gm', iface: 'ens2f0', alias: 'ens2fx' } as const;
export const node = 'node1';

/**
 * A ptp4l config as linuxptp-daemon writes it (`#profile:` first), for software timestamps on a veth: nothing in it
 * adjusts the host clock (free_running 1, kernel_leap 0). Sync 8/s, one offset line per second (freq_est_interval 0,
 * summary_interval = logSyncInterval), a fast announce timeout, a private UDS path, no syslog.
 */
export function ptp4lConfig(p: typeof slave | typeof master, udsPath: string, role: 'slave' | 'master'): string {
  return [
    `#profile: ${p.profile}`,
    '[global]',
    'free_running 1',
    'kernel_leap 0',
    'time_stamping software',
    'network_transport L2',
    role === 'slave' ? 'slaveOnly 1' : 'priority1 10',
    'logSyncInterval -3',
    'logAnnounceInterval -2',
    'logMinDelayReqInterval -3',
    'announceReceiptTimeout 3',
    'freq_est_interval 0',
    'summary_interval -3',
    'use_syslog 0',
    'verbose 1',
    `uds_address ${udsPath}`,
    `message_tag [${p.config}:{level}]`,
    `[${p.iface}]`,
    ...(role === 'master' ? ['masterOnly 1'] : []),
    '',
  ].join('\n');
}

/** The ConfigMap and both INI files under `dir` (profiles/, cfg/). Returns the directories. */
export function writeSidecarConfig(dir: string): { profiles: string; cfg: string } {
  const profiles = join(dir, 'profiles');
  const cfg = join(dir, 'cfg');
  mkdirSync(profiles, { recursive: true });
  mkdirSync(cfg, { recursive: true });
  const threshold = { holdOverTimeout: 1, maxOffsetThreshold: 100_000, minOffsetThreshold: -100_000 };
  writeFileSync(
    join(profiles, node),
    JSON.stringify([
      { name: slave.profile, interface: slave.iface, ptp4lOpts: '-2 -S', ptpClockThreshold: threshold },
      { name: master.profile, interface: master.iface, ptp4lOpts: '-2 -S', ptpClockThreshold: threshold },
    ]),
  );
  writeFileSync(join(cfg, slave.config), ptp4lConfig(slave, join(dir, 'ptp4l.0.uds'), 'slave'));
  writeFileSync(join(cfg, master.config), ptp4lConfig(master, join(dir, 'ptp4l.1.uds'), 'master'));
  return { profiles, cfg };
}

/** A real HTTP server on 127.0.0.1 answering as linuxptp-daemon: /port-aliases (JSON) and /emit-logs (200). */
export interface FakeLinuxptpDaemon {
  base: string;
  emitLogsCalls: number;
  aliasCalls: number;
  /** What /port-aliases answers from now on. */
  setAliases(aliases: Record<string, string>): void;
  close(): Promise<void>;
}

export async function startFakeLinuxptpDaemon(initial: Record<string, string>): Promise<FakeLinuxptpDaemon> {
  const state = { emitLogsCalls: 0, aliasCalls: 0 };
  let aliases = initial;
  const server: Server = createServer((req, res) => {
    if (req.url === '/port-aliases') {
      state.aliasCalls++;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(aliases));
    } else if (req.url === '/emit-logs') {
      state.emitLogsCalls++;
      res.writeHead(200).end();
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    base: `http://127.0.0.1:${port}`,
    get emitLogsCalls() {
      return state.emitLogsCalls;
    },
    get aliasCalls() {
      return state.aliasCalls;
    },
    setAliases: (a) => {
      aliases = a;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface Sidecar {
  proc: ChildProcess;
  base: string;
  socket: string;
  stderr(): string;
  metrics(): Promise<string>;
  stop(): Promise<void>;
}

/** Bounded wait for hooks and helpers (expect.poll works only inside a test). */
export async function until<T>(
  what: string,
  get: () => T | Promise<T>,
  ok: (v: T) => boolean,
  ms = 15_000,
  detail: () => string = () => '',
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await get();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${detail() ? `: ${detail()}` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** `syncvisor run --services ptp` on the config under `dir`, with the fake daemon's URLs. Resolves when ready. */
export async function startSidecar(dir: string, daemonBase: string, extra: string[] = []): Promise<Sidecar> {
  const { profiles, cfg } = writeSidecarConfig(dir);
  const socket = join(dir, 'events.sock');
  const args = ['run', '--services', 'ptp', '--http', '127.0.0.1:0', '--log-level', 'debug'];
  for (const kv of [
    `ptp.socketPath=${socket}`,
    `ptp.configDir=${cfg}`,
    `ptp.profilePath=${profiles}`,
    `ptp.emitLogsUrl=${daemonBase}/emit-logs`,
    `ptp.portAliasesUrl=${daemonBase}/port-aliases`,
    ...extra,
  ])
    args.push('--set', kv);
  const proc = spawn(process.execPath, [bin, ...args], {
    env: { ...process.env, NODE_NAME: node },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const tail = (): string => err.slice(-3000);
  const address = await until(
    'the sidecar http address',
    () => /"address":"([^"]+)","msg":"http listening"/.exec(err)?.[1],
    Boolean,
    15_000,
    tail,
  );
  const base = `http://${address}`;
  await until(
    'sidecar readiness',
    async () => (await fetch(`${base}/readyz`)).status,
    (s) => s === 200,
    15_000,
    tail,
  );
  return {
    proc,
    base,
    socket,
    stderr: () => err,
    metrics: async () => (await fetch(`${base}/metrics`)).text(),
    stop: async () => {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    },
  };
}

/** One sample value of `name{labels…}` (the given labels must all match), or undefined. */
export function metric(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name} `) && Object.keys(labels).length === 0) return Number(line.slice(name.length + 1));
    if (!line.startsWith(`${name}{`)) continue;
    const close = line.lastIndexOf('}');
    const body = line.slice(name.length + 1, close);
    const have = new Map<string, string>();
    for (const m of body.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) have.set(m[1]!, m[2]!);
    if (Object.entries(labels).every(([k, v]) => have.get(k) === v)) return Number(line.slice(close + 1).trim());
  }
  return undefined;
}

/** Every series of `name` whose label `label` equals `value` (for "no series for the raw name" checks). */
export function seriesWith(text: string, name: string, label: string, value: string): string[] {
  return text.split('\n').filter((l) => l.startsWith(`${name}{`) && l.includes(`${label}="${value}"`));
}

/**
 * What linuxptp-daemon does to a process's stdout line before it writes it to the socket: the message tag's level
 * suffix is dropped (`[ptp4l.0.config:6]`, `[ptp4l.0.config:6:x]` and the unexpanded `[ptp4l.0.config:{level}]` all
 * become `[ptp4l.0.config]`).
 */
export function stripTagSuffix(line: string): string {
  return line.replace(
    /\[((?:ptp4l|phc2sys|ts2phc|synce4l|chronyd)\.\d+\.config)(?::(?:\{level\}|[A-Za-z0-9]+)){1,2}\]/,
    '[$1]',
  );
}

/** The daemon's process status line for a config. */
export function processStatusLine(process: string, config: string, up: boolean): string {
  return `${process}[${Math.floor(Date.now() / 1000)}]:[${config}] PTP_PROCESS_STATUS:${up ? 1 : 0}`;
}

export function openSocket(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const c = connect(path, () => resolve(c));
    c.once('error', reject);
  });
}

/**
 * Runs a process and forwards its stdout into the sidecar's socket as linuxptp-daemon's process runner does: its own
 * connection, `CMD LIVE_START`, `PTP_PROCESS_STATUS:1`, every stdout line with the tag suffix stripped, and
 * `PTP_PROCESS_STATUS:0` when the process exits. Every forwarded line is also kept (and passed to `onLine`).
 */
export interface Forwarded {
  proc: ChildProcess;
  lines: string[];
  exited: Promise<number | null>;
  stderr(): string;
}

export async function forwardProcess(
  socketPath: string,
  config: string,
  cmd: string,
  args: string[],
  onLine: (line: string) => void,
): Promise<Forwarded> {
  const conn = await openSocket(socketPath);
  conn.on('error', () => {});
  const lines: string[] = [];
  const send = (line: string): void => {
    lines.push(line);
    onLine(line);
    if (!conn.destroyed) conn.write(`${line}\n`);
  };
  send('CMD LIVE_START');
  send(processStatusLine('ptp4l', config, true));
  const proc = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const rl = createInterface({ input: proc.stdout! });
  rl.on('line', (l) => send(stripTagSuffix(l)));
  const exited = new Promise<number | null>((resolve) => {
    proc.once('close', (code) => {
      send(processStatusLine('ptp4l', config, false));
      conn.end();
      resolve(code);
    });
  });
  return { proc, lines, exited, stderr: () => err };
}
