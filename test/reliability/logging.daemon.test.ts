// Logging never hangs the daemon nor grows without bound. The real binary writes its stderr into a FIFO whose reader
// either went away (EPIPE on every write) or never reads (a stalled collector); a client floods the PTP socket with
// commands that log. The daemon must stay responsive, keep its log buffer bounded (dropping and counting lines),
// and exit on SIGTERM at once. Repetitive warnings are rate limited with a "suppressed N" summary.
import { execFileSync } from 'node:child_process';
import { closeSync, constants, copyFileSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { metricValue, ptpServiceArgs, repoRoot, spawnSyncvisor, type SpawnedDaemon } from '../support/spawnDaemon.js';

const dir = mkdtempSync(join(tmpdir(), 'syncvisor-logging-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
mkdirSync(join(dir, 'profiles'));
mkdirSync(join(dir, 'cfg'));
copyFileSync(join(repoRoot, 'deploy/demo/node1.json'), join(dir, 'profiles/node1'));
copyFileSync(join(repoRoot, 'deploy/demo/ptp4l.0.config'), join(dir, 'cfg/ptp4l.0.config'));

let port = 19400 + Math.floor(Math.random() * 500);

function ptpArgs(name: string): { args: string[]; sock: string; http: string } {
  const sock = join(dir, `${name}.sock`);
  const http = `127.0.0.1:${port++}`;
  const ptp = { socketPath: sock, http, configDir: `${dir}/cfg`, profilePath: `${dir}/profiles`, nodeName: 'node1' };
  return { args: ['run', ...ptpServiceArgs(ptp)], sock, http };
}

/** A FIFO with a reader that never reads; the writer end goes to the daemon's stderr. */
function fifo(name: string): { reader: number; writer: number; path: string } {
  const path = join(dir, name);
  execFileSync('mkfifo', [path]);
  const reader = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  const writer = openSync(path, constants.O_WRONLY);
  return { reader, writer, path };
}

async function ready(http: string, timeoutMs = 20_000): Promise<void> {
  await expect
    .poll(
      async () => {
        try {
          return (await fetch(`http://${http}/readyz`)).status;
        } catch {
          return 0;
        }
      },
      { timeout: timeoutMs, interval: 100 },
    )
    .toBe(200);
}

function connectTo(sock: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(sock, () => resolve(s));
    s.on('error', reject);
  });
}

function rssKiB(pid: number): number {
  const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? 0);
}

async function flood(sock: string, command: string, n: number): Promise<void> {
  const c = await connectTo(sock);
  const chunk = `${command}\n`.repeat(1000);
  for (let i = 0; i < n / 1000; i++) if (!c.write(chunk)) await new Promise((r) => c.once('drain', r));
  await new Promise<void>((r) => c.end(r));
}

/** SIGTERM, then how long the exit took (SIGKILL only after 30 s, so a hang shows as a long time). */
async function stopTimed(d: SpawnedDaemon): Promise<{ code: number | null; elapsed: number }> {
  const t0 = Date.now();
  const r = await d.stop('SIGTERM', 30_000);
  return { code: r.code, elapsed: Date.now() - t0 };
}

describe('logging under a hostile stderr', () => {
  it('exits on SIGTERM at once when the stderr reader is gone (EPIPE)', async () => {
    const f = fifo('gone');
    const { args, sock, http } = ptpArgs('gone');
    const d = spawnSyncvisor(args, { stdio: ['ignore', 'ignore', f.writer] });
    closeSync(f.writer);
    await ready(http);
    closeSync(f.reader); // the collector died: every further write gets EPIPE
    await flood(sock, 'CMD RESTART', 2_000);
    await flood(sock, 'CMD NOPE', 20_000);
    // Still serving while it cannot log.
    expect((await fetch(`http://${http}/healthz`)).status).toBe(200);
    const { code, elapsed } = await stopTimed(d);
    expect(code).toBe(0);
    expect(elapsed).toBeLessThan(10_000);
  }, 60_000);

  it('keeps the log buffer bounded with a stalled reader, counts the drops, stays responsive, exits on SIGTERM', async () => {
    const f = fifo('stalled');
    const { args, sock, http } = ptpArgs('stalled');
    const d = spawnSyncvisor(args, { stdio: ['ignore', 'ignore', f.writer] });
    closeSync(f.writer);
    await ready(http);
    const before = rssKiB(d.pid);
    // The demo lines walk each clock through its states: two log lines per pass, megabytes the reader never takes.
    const c = await connectTo(sock);
    const passes = readFileSync(join(repoRoot, 'deploy/demo/lines.txt'), 'utf8').repeat(100);
    for (let i = 0; i < 80; i++) if (!c.write(passes)) await new Promise((r) => c.once('drain', r));
    await new Promise<void>((r) => c.end(r));
    await flood(sock, 'CMD NOPE', 100_000);
    await expect
      .poll(
        async () =>
          metricValue(await (await fetch(`http://${http}/metrics`)).text(), 'syncvisor_log_lines_dropped_total') ?? 0,
        {
          timeout: 20_000,
          interval: 200,
        },
      )
      .toBeGreaterThan(0);
    // The event loop is not blocked on the log: HTTP answers while stderr is full.
    expect((await fetch(`http://${http}/healthz`)).status).toBe(200);
    const grown = rssKiB(d.pid) - before;
    // Mostly the 90 MB of socket input being processed (measured: +50 MiB); an unbounded log buffer adds 270 B a line.
    expect(grown).toBeLessThan(128 * 1024);
    const { code, elapsed } = await stopTimed(d);
    expect(code).toBe(0);
    expect(elapsed).toBeLessThan(10_000);
    closeSync(f.reader);
  }, 90_000);

  it('rate limits a repeated warning and reports how many were suppressed', async () => {
    const { args, sock, http } = ptpArgs('ratelimit');
    const d = spawnSyncvisor(args, { env: { SYNCVISOR_LOG_LEVEL: 'info' } });
    await d.waitForLog('ptp socket listening');
    await ready(http);
    await flood(sock, 'CMD NOPE', 10_000);
    const lines = (): Array<Record<string, unknown>> =>
      d.records().filter((r) => String(r.msg).startsWith('unknown CMD ignored'));
    // Every one of the 10,000 is accounted for: logged, or counted in a "suppressed N" (the summary comes when the
    // 10 s window ends).
    const accounted = (): number =>
      lines().reduce((n, r) => n + (r.msg === 'unknown CMD ignored' ? 1 : 0) + Number(r.suppressed ?? 0), 0);
    await expect.poll(accounted, { timeout: 25_000, interval: 200 }).toBe(10_000);
    expect(lines().length).toBeLessThanOrEqual(20);
    expect(lines().at(-1)).toMatchObject({ level: 'warn', msg: expect.stringMatching(/\(suppressed \d+\)$/) });
    expect((await d.stop()).code).toBe(0);
  }, 60_000);
});
