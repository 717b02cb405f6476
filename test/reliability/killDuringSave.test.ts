// kill -9 at random points during continuous state saves. A real process saves the state file in a
// loop through src/io/warmRestart/stateFileStore.ts and gets SIGKILL after a random delay; the next process loads through the
// real load chain. Each load must give the newest completed save (or the one in flight when its rename had already
// happened), or, when the kill fell between the two renames, the backup = the newest completed save; the content
// must be exactly what that generation saved. An invalid file is never accepted.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digest, portsFor } from './support/statePorts.js';

const dir = mkdtempSync(join(tmpdir(), 'syncvisor-kill9-'));
const bundle = join(dir, 'saveLoop.mjs');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

beforeAll(async () => {
  await build({
    entryPoints: [join(import.meta.dirname, 'support/saveLoop.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile: bundle,
    logLevel: 'silent',
  });
});

interface Loaded {
  loaded: number | null;
  slot?: 'current' | 'backup';
  digest?: string;
  currentError?: string;
  reason?: string;
}

interface Trial {
  loaded: Loaded;
  /** Newest save the previous process reported as complete (0 = none yet). */
  lastCompleted: number;
  /** Saves this process completed before it was killed. */
  completed: number;
  verdict: string | undefined;
}

/** One process: start, read its load report, let it complete `afterSaves` saves, wait `delayMs`, SIGKILL it. */
function runOnce(
  path: string,
  afterSaves: number,
  delayMs: number,
): Promise<{ loaded: Loaded; lastSaved: number | undefined }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [bundle, path], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    let loaded: Loaded | undefined;
    let timer: NodeJS.Timeout | undefined;
    p.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (!loaded && out.includes('\n')) loaded = JSON.parse(out.slice(0, out.indexOf('\n'))) as Loaded;
      if (loaded && !timer && (out.match(/^saved /gm)?.length ?? 0) >= afterSaves) {
        timer = setTimeout(() => p.kill('SIGKILL'), delayMs);
      }
    });
    const guard = setTimeout(() => p.kill('SIGKILL'), 10_000);
    p.once('error', reject);
    p.once('exit', (code, signal) => {
      clearTimeout(guard);
      clearTimeout(timer);
      if (!loaded) return reject(new Error(`child exited ${code ?? signal} before reporting its load: ${out}`));
      const saves = [...out.matchAll(/^saved (\d+)$/gm)].map((m) => Number(m[1]));
      resolve({ loaded, lastSaved: saves.at(-1) });
    });
  });
}

/** The rule of 2a for one load; undefined = fine, else what is wrong. */
function judge(t: Omit<Trial, 'verdict' | 'completed'>): string | undefined {
  const { loaded: l, lastCompleted: last } = t;
  if (l.loaded === null) return last === 0 ? undefined : `no file loaded (${l.reason}) after save ${last} completed`;
  if (l.digest !== digest(portsFor(l.loaded))) return `content of generation ${l.loaded} is not what it saved`;
  if (l.slot === 'current' && (l.loaded === last || l.loaded === last + 1)) return undefined;
  if (l.slot === 'backup' && l.loaded === last && l.currentError === 'missing') return undefined;
  return `loaded generation ${l.loaded} from ${l.slot} (current: ${l.currentError ?? 'ok'}) after save ${last} completed`;
}

describe('kill -9 during continuous state saves', () => {
  it('>= 200 trials: every restart loads the newest complete file or the backup, never an invalid file', async () => {
    const chains = 8;
    const perChain = 25;
    const trials: Trial[] = [];
    // Independent chains in parallel (each its own directory, one process at a time). A fixed number of trials, not a
    // time budget: a loaded machine makes the run slower, never smaller.
    await Promise.all(
      Array.from({ length: chains }, async (_, c) => {
        const chainDir = join(dir, `chain${c}`);
        mkdirSync(chainDir);
        const path = join(chainDir, 'portsyncd.json');
        let lastCompleted = 0;
        for (let i = 0; i < perChain; i++) {
          // A save takes a few ms (two fsyncs): after 0-3 completed saves, the kill lands inside or between saves.
          const { loaded, lastSaved } = await runOnce(path, Math.floor(Math.random() * 4), Math.random() * 12);
          const verdict = judge({ loaded, lastCompleted });
          const base = loaded.loaded ?? 0;
          trials.push({ loaded, lastCompleted, completed: lastSaved === undefined ? 0 : lastSaved - base, verdict });
          // What this process completed; when it completed nothing, what it loaded is the newest complete save.
          lastCompleted = lastSaved ?? Math.max(lastCompleted, base);
        }
        expect(existsSync(path) || existsSync(`${path}.backup`)).toBe(true);
      }),
    );
    const bad = trials.filter((t) => t.verdict !== undefined);
    const summary = {
      trials: trials.length,
      bad: bad.length,
      fromCurrent: trials.filter((t) => t.loaded.slot === 'current').length,
      fromBackup: trials.filter((t) => t.loaded.slot === 'backup').length,
      inFlightSaveFound: trials.filter((t) => t.loaded.slot === 'current' && t.loaded.loaded === t.lastCompleted + 1)
        .length,
      killedBeforeFirstSave: trials.filter((t) => t.completed === 0).length,
      savesCompleted: trials.reduce((a, t) => a + t.completed, 0),
    };
    console.log(`kill -9 trials: ${JSON.stringify(summary)}`);
    expect(bad.map((t) => t.verdict)).toEqual([]);
    expect(trials.length).toBeGreaterThanOrEqual(200);
  }, 300_000);
});
