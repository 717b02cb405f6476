// P1: PTP ingest. Lines/s from a real Unix socket through the daemon (line server → socketServer → the serving
// generation's parser by the direct path while the sidecar serves, src/actors/ptp/lineChannel.ts →
// openshift_ptp_* metrics), vs a hand-tuned JS server doing the same work on the same lines over
// the same kind of socket (bytes → lines → parse → 4 gauges per clock, no framework), with the same client in the
// same process. A raw line split (no parsing) is measured too, as context.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { createConnection, createServer, type Socket } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PtpGeneration } from '../src/io/ptp/generation.js';
import type { RunningDaemon } from '../src/daemon/main.js';
import { startBenchDaemon, stopBenchDaemon } from './daemon.js';
import { fmt, median, now, waitFor, type Figure } from './measure.js';
import { exampleLines, scaleLines, writeExampleConfig, writeScaleConfig } from './ptpSetup.js';

export function currentGeneration(daemon: RunningDaemon): PtpGeneration {
  const ptp = daemon.root.system.get('ptp');
  const g = (ptp?.getSnapshot() as { context?: { generation?: unknown } } | undefined)?.context?.generation;
  if (!g) throw new Error('benchmark: the ptp sidecar has no generation');
  return g as PtpGeneration;
}

const seen = (g: PtpGeneration): number => g.parser.stats.parsed + g.parser.stats.ignored;

export function connect(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = createConnection(path);
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

/** A server that only frames lines (carry the partial tail, split on \n) and counts them: the ceiling. */
async function rawLineServer(path: string): Promise<{ count: () => number; close: () => Promise<void> }> {
  let lines = 0;
  const server = createServer((sock) => {
    let carry = '';
    sock.on('data', (chunk: Buffer) => {
      const parts = (carry + chunk.toString('utf8')).split('\n');
      carry = parts.pop() ?? '';
      for (const p of parts) if (p.length > 0) lines++;
    });
    sock.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  return {
    count: () => lines,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Parses a signed decimal integer at s[i…] (after spaces, an optional +/-); NaN when there is none. */
function intAt(s: string, i: number): number {
  while (s.charCodeAt(i) === 32) i++;
  let sign = 1;
  const c0 = s.charCodeAt(i);
  if (c0 === 45 || c0 === 43) {
    if (c0 === 45) sign = -1;
    i++;
  }
  let n = 0;
  let digits = 0;
  for (let c = s.charCodeAt(i); c >= 48 && c <= 57; c = s.charCodeAt(++i)) {
    n = n * 10 + (c - 48);
    digits++;
  }
  return digits === 0 ? Number.NaN : sign * n;
}

/** The 4 gauges a clock line updates, per process and config tag (and interface for ts2phc). */
interface TunedClock {
  offset: number;
  state: number;
  freq: number;
  delay: number;
  clockClass: number;
}

/**
 * The reference for P1: a hand-tuned JS line server doing the daemon's work without any framework. Per read chunk
 * one string (latin1) and a carry; per line: the process name and config tag found by indexOf (the `:N` level cut),
 * a Map lookup of the clock record, the offset/rms/CLOCK_CLASS_CHANGE forms parsed in place into 4 number fields.
 * Lines of no known form are counted as ignored. No per-line arrays, no regex.
 */
async function tunedJsServer(path: string): Promise<{ count: () => number; close: () => Promise<void> }> {
  let lines = 0;
  const clocks = new Map<string, TunedClock>();
  const clockOf = (key: string): TunedClock => {
    let c = clocks.get(key);
    if (!c) clocks.set(key, (c = { offset: 0, state: 0, freq: 0, delay: 0, clockClass: 0 }));
    return c;
  };
  const parse = (s: string, a: number, b: number): void => {
    const open = s.indexOf('[', a);
    const tagOpen = s.indexOf('[', open + 1);
    if (open < 0 || tagOpen < 0 || tagOpen > b) return;
    let tagEnd = s.indexOf(']', tagOpen);
    if (tagEnd < 0 || tagEnd > b) return;
    const colon = s.indexOf(':', tagOpen);
    const key = s.slice(a, open) + s.slice(tagOpen, colon > 0 && colon < tagEnd ? colon : tagEnd);
    tagEnd++;
    const offset = s.indexOf(' offset ', tagEnd);
    if (offset > 0 && offset < b) {
      // ts2phc: the interface is the token after the tag.
      const c = clockOf(s.charCodeAt(a) === 116 ? key + s.slice(tagEnd, s.indexOf(' ', tagEnd + 1)) : key);
      c.offset = intAt(s, offset + 8);
      const st = s.indexOf(' s', offset + 8);
      c.state = st > 0 && st < b ? s.charCodeAt(st + 2) - 48 : c.state;
      const freq = s.indexOf(' freq ', offset);
      if (freq > 0 && freq < b) c.freq = intAt(s, freq + 6);
      const delay = s.indexOf('delay ', offset);
      if (delay > 0 && delay < b) c.delay = intAt(s, delay + 6);
      return;
    }
    const rms = s.indexOf(' rms ', tagEnd);
    if (rms > 0 && rms < b) {
      const c = clockOf(key);
      c.offset = intAt(s, rms + 5);
      const freq = s.indexOf(' freq ', rms);
      if (freq > 0 && freq < b) c.freq = intAt(s, freq + 6);
      const delay = s.indexOf(' delay ', rms);
      if (delay > 0 && delay < b) c.delay = intAt(s, delay + 7);
      return;
    }
    const cc = s.indexOf('CLOCK_CLASS_CHANGE ', tagEnd);
    if (cc > 0 && cc < b) clockOf(key).clockClass = intAt(s, cc + 19);
  };
  const server = createServer((sock) => {
    let carry = '';
    sock.on('data', (chunk: Buffer) => {
      const s = carry + chunk.toString('latin1');
      let a = 0;
      for (let nl = s.indexOf('\n'); nl >= 0; nl = s.indexOf('\n', a)) {
        if (nl > a) {
          parse(s, a, nl);
          lines++;
        }
        a = nl + 1;
      }
      carry = a < s.length ? s.slice(a) : '';
    });
    sock.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  return {
    count: () => lines,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const goPeerSource = 'bench/goPeer/main.go';
const goCache = 'node_modules/.cache/syncvisor-bench';

/**
 * Builds bench/goPeer (Go, the prometheus Go client from Debian's golang-github-prometheus-client-golang-dev in
 * /usr/share/gocode, GOPATH mode: no network). Missing toolchain or client: installs them with apt-get when root.
 */
export function buildGoPeer(log: (s: string) => void = () => {}): { path: string } | { skipped: string } {
  const out = join(goCache, 'goPeer');
  if (existsSync(out) && statSync(out).mtimeMs > statSync(goPeerSource).mtimeMs) return { path: out };
  mkdirSync(goCache, { recursive: true });
  const env = {
    ...process.env,
    GO111MODULE: 'off',
    GOPATH: '/usr/share/gocode',
    GOCACHE: join(process.cwd(), goCache, 'gocache'),
    GOFLAGS: '',
  };
  const build = () =>
    spawnSync('go', ['build', '-o', out, './bench/goPeer'], {
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
      timeout: 300_000,
    });
  let r = build();
  if (r.status === 0) return { path: out };
  if (process.getuid?.() !== 0)
    return {
      skipped:
        'cannot build bench/goPeer: install Debian packages golang-go golang-github-prometheus-client-golang-dev',
    };
  log('bench: P1: building the Go peer failed: installing golang-go and the prometheus Go client with apt-get');
  spawnSync(
    'apt-get',
    ['install', '-y', '-qq', '--no-install-recommends', 'golang-go', 'golang-github-prometheus-client-golang-dev'],
    {
      stdio: 'ignore',
      timeout: 600_000,
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    },
  );
  r = build();
  if (r.status === 0) return { path: out };
  return { skipped: `bench/goPeer did not build: ${String(r.stderr ?? r.error ?? '').slice(0, 300)}` };
}

/** The Go peer listening on `path`; lines/s = lines over the time until it answers `CMD COUNT` with their count. */
async function goPeerServer(
  bin: string,
  path: string,
  node: string,
): Promise<{ proc: ChildProcess; runtime: string; close: () => void }> {
  // Go's defaults: no runtime settings inherited from the environment.
  const env = { ...process.env };
  for (const k of ['GOMAXPROCS', 'GOGC', 'GOMEMLIMIT', 'GODEBUG']) delete env[k];
  const proc = spawn(bin, [path, node], { stdio: ['ignore', 'pipe', 'inherit'], env });
  const runtime = await new Promise<string>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('P1: the Go peer did not start listening in 10 s')), 10_000);
    proc.stdout!.once('data', (b: Buffer) => {
      clearTimeout(t);
      resolve(
        b
          .toString('utf8')
          .replace(/^listening\s*/, '')
          .trim(),
      );
    });
    proc.once('exit', (code) => reject(new Error(`P1: the Go peer exited (${code})`)));
  });
  return { proc, runtime, close: () => proc.kill('SIGTERM') };
}

export type IngestMix = 'cycled' | 'steady' | { interfaces: number };

export async function benchPtpIngest(opts: {
  runs: number;
  lines: number;
  mix: IngestMix;
  /** Also measure the Go peer (bench/goPeer) in the same runs: a second row, 'P1 peer'. */
  goPeer?: { path: string } | { skipped: string };
  /**
   * P1 peer: blocks per run, each ours and the Go peer in turn (the order swapped every other block) on the same
   * payload as a P1 run (`lines` lines); the ratio is the median of the per-block ratios. Default 2.
   */
  peerBlocks?: number;
}): Promise<Figure[]> {
  const dir = await mkdtemp(join(tmpdir(), 'syncvisor-bench-p1-'));
  let daemon: RunningDaemon | undefined;
  const servers: Awaited<ReturnType<typeof rawLineServer>>[] = [];
  const clients: Socket[] = [];
  let go: Awaited<ReturnType<typeof goPeerServer>> | undefined;
  try {
    const scale = typeof opts.mix === 'object' ? opts.mix.interfaces : undefined;
    // Scaled: interfaces/8 profiles of 8 interfaces, offset lines over the profiles in turn.
    const profiles = scale === undefined ? 0 : Math.max(1, scale / 8);
    const cfg =
      scale === undefined ? await writeExampleConfig(dir) : await writeScaleConfig(dir, profiles, scale / profiles);
    const mixLines = typeof opts.mix === 'object' ? undefined : opts.mix;
    const payload = mixLines ? await exampleLines(opts.lines, mixLines) : scaleLines(profiles, opts.lines);
    const socketPath = join(dir, 'events.sock');
    daemon = await startBenchDaemon({
      services: 'ptp',
      'ptp.socketPath': socketPath,
      'ptp.profilePath': cfg.profilePath,
      'ptp.configDir': cfg.configDir,
      'ptp.nodeName': cfg.nodeName,
    });
    const d = daemon;
    const tuned = await tunedJsServer(join(dir, 'tuned.sock'));
    const raw = await rawLineServer(join(dir, 'raw.sock'));
    servers.push(tuned, raw);
    const toDaemon = await connect(socketPath);
    const toTuned = await connect(join(dir, 'tuned.sock'));
    const toRaw = await connect(join(dir, 'raw.sock'));
    clients.push(toDaemon, toTuned, toRaw);
    const peer = opts.goPeer && 'path' in opts.goPeer ? opts.goPeer.path : undefined;
    let toGo: Socket | undefined;
    if (peer) {
      go = await goPeerServer(peer, join(dir, 'go.sock'), cfg.nodeName);
      toGo = await connect(join(dir, 'go.sock'));
      clients.push(toGo);
    }
    /** Lines/s through the Go peer: the payload, then `CMD COUNT`; done when it answers (lines read in order). */
    const throughGo = async (): Promise<number> => {
      const sock = toGo!;
      const t = now();
      const answered = new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('P1: the Go peer did not answer in 60 s')), 60_000);
        sock.once('data', () => {
          clearTimeout(timer);
          resolve();
        });
      });
      sock.write(payload);
      sock.write('CMD COUNT\n');
      await answered;
      return (opts.lines / (now() - t)) * 1000;
    };

    // Wall time is the figure; the process CPU time of each run (client and server share the process, the same
    // client for both) is kept beside it: on a loaded machine it moves far less than the wall time.
    let lastCpu = 0;
    const cpuMs = (c: NodeJS.CpuUsage): number => (c.user + c.system) / 1000;
    const throughDaemon = async (): Promise<number> => {
      const g = currentGeneration(d);
      const target = seen(g) + opts.lines;
      const t = now();
      const c = process.cpuUsage();
      toDaemon.write(payload);
      await waitFor('the sidecar to parse every line', () => seen(g) >= target, 60_000);
      lastCpu = cpuMs(process.cpuUsage(c));
      return (opts.lines / (now() - t)) * 1000;
    };
    const through = (server: typeof raw, client: Socket, what: string) => async (): Promise<number> => {
      const target = server.count() + opts.lines;
      const t = now();
      const c = process.cpuUsage();
      client.write(payload);
      await waitFor(what, () => server.count() >= target, 60_000);
      lastCpu = cpuMs(process.cpuUsage(c));
      return (opts.lines / (now() - t)) * 1000;
    };
    const throughTuned = through(tuned, toTuned, 'the hand-tuned JS server to parse every line');
    const throughRaw = through(raw, toRaw, 'the raw server to split every line');

    // P1 peer: ours and the Go peer in blocks of the same payload as a P1 run.
    const peerBlocks = Math.max(1, opts.peerBlocks ?? 2);
    const blockLines = opts.lines;
    await throughDaemon(); // warm-up: JIT, metric series created
    await throughTuned();
    await throughRaw();
    if (toGo) await throughGo();
    const blockOurs: number[] = [];
    const blockGo: number[] = [];
    let block = 0;
    const fig: number[] = [];
    const ceil: number[] = [];
    const split: number[] = [];
    const cpuRatio: number[] = [];
    for (let i = 0; i < opts.runs; i++) {
      fig.push(await throughDaemon());
      const ourCpu = lastCpu;
      ceil.push(await throughTuned());
      cpuRatio.push(lastCpu / ourCpu);
      split.push(await throughRaw());
      if (toGo)
        for (let b = 0; b < peerBlocks; b++, block++) {
          // Alternating: ours first in even blocks, the Go peer first in odd ones.
          if (block % 2 === 0) {
            blockOurs.push(await throughDaemon());
            blockGo.push(await throughGo());
          } else {
            blockGo.push(await throughGo());
            blockOurs.push(await throughDaemon());
          }
        }
    }
    const g = currentGeneration(d);
    const metrics = await g.metrics.text();
    const want =
      scale === undefined
        ? /openshift_ptp_offset_ns\{[^}]*iface="ens5f1"[^}]*\} -?\d+$/m
        : new RegExp(`openshift_ptp_offset_ns\\{[^}]*iface="ens${profiles - 1}f0"[^}]*\\} -?\\d+$`, 'm');
    if (!want.test(metrics)) throw new Error('P1: the lines did not reach the openshift_ptp_offset_ns metric');
    const figure = median(fig);
    const ceiling = median(ceil);
    const ratio = figure / ceiling;
    const what =
      scale !== undefined
        ? `${scale} interfaces (${profiles} profiles × ${scale / profiles}), offset lines`
        : opts.mix === 'steady'
          ? 'steady lines'
          : 'lines.txt cycled, edge-heavy';
    const rows: Figure[] = [];
    rows.push({
      id: scale !== undefined ? `P1/${scale}` : opts.mix === 'steady' ? 'P1' : 'P1b',
      title: `PTP ingest (${what}), ${opts.lines.toLocaleString('en-US')} lines (${(payload.length / 1048576).toFixed(1)} MiB) per run`,
      figure,
      unit: 'lines/s',
      ceiling,
      ceilingLabel: 'hand-tuned JS: same socket kind and lines, split → parse → 4 gauges (lines/s)',
      ratio,
      target: 'ratio >= 0.9',
      met: ratio >= 0.9,
      runs: opts.runs,
      samples: { figure: fig, ceiling: ceil },
      notes: [
        `Lines: ${scale !== undefined ? `generated offset lines (locked, in range) over the ${profiles} profiles in turn` : opts.mix === 'steady' ? 'the lines of the shared PTP lines.txt that change no clock state, cycled' : 'all of the shared PTP lines.txt cycled: about 6 of every 14 lines change a clock state (an XState event to a clockState actor)'}; ${g.parser.stats.parsed} parsed, ${g.parser.stats.ignored} ignored (not recognised, as in the reference) over all runs.`,
        'The time runs from the client write to the moment the parser has seen the last line (polled every 1 ms).',
        `Context: a raw line split of the same bytes (no parsing) runs at ${fmt(median(split))} lines/s (ours: ${fmt(figure / median(split))} of it).`,
        `CPU time (process, per run; less sensitive to other work on the machine): the reference's CPU time over ours, median ${fmt(median(cpuRatio))} (runs ${cpuRatio.map((v) => fmt(v)).join(', ')}).`,
      ],
    });
    if (opts.goPeer) {
      const goTitle = 'PTP ingest vs the reference sidecar (Go, prometheus client), same lines and socket kind';
      if ('skipped' in opts.goPeer) {
        rows.push({
          id: 'P1 peer',
          title: goTitle,
          figure: Number.NaN,
          unit: '',
          ceiling: Number.NaN,
          ceilingLabel: '',
          ratio: Number.NaN,
          target: 'keep >= 5× faster',
          met: undefined,
          runs: 0,
          notes: [`Not measured: ${opts.goPeer.skipped}.`],
        });
      } else {
        const ratios = blockOurs.map((f, i) => f / blockGo[i]!);
        const peerRatio = median(ratios);
        const runMedians = Array.from({ length: opts.runs }, (_, r) =>
          median(ratios.slice(r * peerBlocks, (r + 1) * peerBlocks)),
        );
        rows.push({
          id: 'P1 peer',
          title: goTitle,
          figure: median(blockOurs),
          unit: 'lines/s',
          ceiling: median(blockGo),
          ceilingLabel: 'bench/goPeer: Go shaped on the reference ingest, prometheus Go client (lines/s)',
          ratio: peerRatio,
          target: 'ratio >= 5 (keep >= 5× faster)',
          met: peerRatio >= 5,
          runs: opts.runs,
          samples: { figure: blockOurs, ceiling: blockGo },
          notes: [
            "The Go peer (bench/goPeer/main.go, built here with Debian's golang-go and golang-github-prometheus-client-golang-dev, GOPATH mode, no network) does what the reference sidecar does per line: `[`, `]`, `:` replaced by spaces, the config name found by a regular expression, strings.Fields, strconv.ParseFloat, a per-clock stats record behind a mutex, and the four offset gauges set through `GaugeVec.With(prometheus.Labels{…}).Set` (a label map per line, as the reference builds it). It is written for this benchmark, not the reference code, and leaves out the reference's event publishing and logging (so it is, if anything, faster than the reference).",
            `Go runtime at its defaults (GOMAXPROCS, GOGC, GOMEMLIMIT and GODEBUG removed from its environment): ${go?.runtime ?? '?'}.`,
            `Same-run ratio: ${opts.runs} runs × ${peerBlocks} blocks of ${blockLines.toLocaleString('en-US')} steady lines, the payload of a P1 run (the same bytes to both, same socket kind, same client), ours and the Go peer in turn in each block (ours first in even blocks, the Go peer first in odd ones), so that other work on the machine falls on both alike; the ratio is the median of the ${ratios.length} per-block ratios (ours / Go; min ${fmt(Math.min(...ratios))}, max ${fmt(Math.max(...ratios))}; per-run medians ${runMedians.map((v) => fmt(v)).join(', ')}). The figures are the medians of the block rates.`,
            "Each side's time runs from the client write to the end: for ours the parser has seen the last line (polled every 1 ms), for the Go peer its answer to a `CMD COUNT` sent after the lines (it reads them in order).",
          ],
        });
      }
    }
    return rows;
  } finally {
    go?.close();
    for (const c of clients) c.destroy();
    for (const srv of servers) await srv.close();
    if (daemon) await stopBenchDaemon(daemon);
    await rm(dir, { recursive: true, force: true });
  }
}
