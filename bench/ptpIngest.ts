// P1: PTP ingest. Lines/s from a real Unix socket through the daemon (line server → supervisor → ptp sidecar →
// generation parser → openshift_ptp_* metrics), vs a hand-tuned JS server doing the same work on the same lines over
// the same kind of socket (bytes → lines → parse → 4 gauges per clock, no framework), with the same client in the
// same process. A raw line split (no parsing) is measured too, as context.
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

export type IngestMix = 'cycled' | 'steady' | { interfaces: number };

export async function benchPtpIngest(opts: { runs: number; lines: number; mix: IngestMix }): Promise<Figure> {
  const dir = await mkdtemp(join(tmpdir(), 'syncvisor-bench-p1-'));
  let daemon: RunningDaemon | undefined;
  const servers: Awaited<ReturnType<typeof rawLineServer>>[] = [];
  const clients: Socket[] = [];
  try {
    const scale = typeof opts.mix === 'object' ? opts.mix.interfaces : undefined;
    // Scaled: interfaces/8 profiles of 8 interfaces, offset lines over the profiles in turn.
    const profiles = scale === undefined ? 0 : Math.max(1, scale / 8);
    const cfg =
      scale === undefined ? await writeExampleConfig(dir) : await writeScaleConfig(dir, profiles, scale / profiles);
    const payload =
      typeof opts.mix === 'object' ? scaleLines(profiles, opts.lines) : await exampleLines(opts.lines, opts.mix);
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

    await throughDaemon(); // warm-up: JIT, metric series created
    await throughTuned();
    await throughRaw();
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
    return {
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
    };
  } finally {
    for (const c of clients) c.destroy();
    for (const srv of servers) await srv.close();
    if (daemon) await stopBenchDaemon(daemon);
    await rm(dir, { recursive: true, force: true });
  }
}
