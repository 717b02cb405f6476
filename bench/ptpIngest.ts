// P1: PTP ingest. Lines/s from a real Unix socket through the daemon (line server → supervisor → ptp sidecar →
// generation parser → openshift_ptp_* metrics), vs a raw Node server that only splits the same bytes into lines,
// over the same kind of socket, with the same client in the same process.
import { createConnection, createServer, type Socket } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PtpGeneration } from '../src/io/ptp/generation.js';
import type { RunningDaemon } from '../src/daemon/main.js';
import { startBenchDaemon, stopBenchDaemon } from './daemon.js';
import { median, now, waitFor, type Figure } from './measure.js';
import { exampleLines, writeExampleConfig } from './ptpSetup.js';

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

export async function benchPtpIngest(opts: { runs: number; lines: number; mix: 'cycled' | 'steady' }): Promise<Figure> {
  const dir = await mkdtemp(join(tmpdir(), 'syncvisor-bench-p1-'));
  let daemon: RunningDaemon | undefined;
  let raw: Awaited<ReturnType<typeof rawLineServer>> | undefined;
  const clients: Socket[] = [];
  try {
    const cfg = await writeExampleConfig(dir);
    const payload = await exampleLines(opts.lines, opts.mix);
    const socketPath = join(dir, 'events.sock');
    daemon = await startBenchDaemon({
      services: 'ptp',
      'ptp.socketPath': socketPath,
      'ptp.profilePath': cfg.profilePath,
      'ptp.configDir': cfg.configDir,
      'ptp.nodeName': cfg.nodeName,
    });
    const d = daemon;
    raw = await rawLineServer(join(dir, 'raw.sock'));
    const r = raw;
    const toDaemon = await connect(socketPath);
    const toRaw = await connect(join(dir, 'raw.sock'));
    clients.push(toDaemon, toRaw);

    const throughDaemon = async (): Promise<number> => {
      const g = currentGeneration(d);
      const target = seen(g) + opts.lines;
      const t = now();
      toDaemon.write(payload);
      await waitFor('the sidecar to parse every line', () => seen(g) >= target, 60_000);
      return (opts.lines / (now() - t)) * 1000;
    };
    const throughRaw = async (): Promise<number> => {
      const target = r.count() + opts.lines;
      const t = now();
      toRaw.write(payload);
      await waitFor('the raw server to split every line', () => r.count() >= target, 60_000);
      return (opts.lines / (now() - t)) * 1000;
    };

    await throughDaemon(); // warm-up: JIT, metric series created
    await throughRaw();
    const fig: number[] = [];
    const ceil: number[] = [];
    for (let i = 0; i < opts.runs; i++) {
      fig.push(await throughDaemon());
      ceil.push(await throughRaw());
    }
    const g = currentGeneration(d);
    const metrics = await g.metrics.text();
    if (!/openshift_ptp_offset_ns\{[^}]*iface="ens5f1"[^}]*\} -1$/m.test(metrics))
      throw new Error('P1: the lines did not reach the openshift_ptp_offset_ns metric');
    const figure = median(fig);
    const ceiling = median(ceil);
    const ratio = figure / ceiling;
    return {
      id: opts.mix === 'steady' ? 'P1' : 'P1b',
      title: `PTP ingest (${opts.mix === 'steady' ? 'steady lines' : 'lines.txt cycled, edge-heavy'}), ${opts.lines.toLocaleString('en-US')} lines (${(payload.length / 1048576).toFixed(1)} MiB) per run`,
      figure,
      unit: 'lines/s',
      ceiling,
      ceilingLabel: 'raw Node line split of the same bytes, same kind of socket (lines/s)',
      ratio,
      target: 'ratio >= 0.5',
      met: ratio >= 0.5,
      runs: opts.runs,
      samples: { figure: fig, ceiling: ceil },
      notes: [
        `Lines: ${opts.mix === 'steady' ? 'the lines of shared/ptp/lines.txt that change no clock state, cycled' : 'all of shared/ptp/lines.txt cycled: about 6 of every 14 lines change a clock state (an XState event to a clockState actor)'}; configuration: shared/ptp/examples; ${g.parser.stats.parsed} parsed, ${g.parser.stats.ignored} ignored (not recognised, as in the reference) over all runs.`,
        'The time runs from the client write to the moment the parser has seen the last line (polled every 1 ms).',
      ],
    };
  } finally {
    for (const c of clients) c.destroy();
    await raw?.close();
    if (daemon) await stopBenchDaemon(daemon);
    await rm(dir, { recursive: true, force: true });
  }
}
