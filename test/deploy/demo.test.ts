// `npm run demo -- --duration 10`: the demo starts the daemon (in a network namespace when root), replays PTP lines,
// stops after 10 s, exits 0, and leaves nothing behind: no namespace, no temp dir (socket, Redis, state file).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');
const leftovers: { netns?: string; tmp?: string } = {};

/** Processes whose command line names `text` (the demo's temp dir: the daemon, its Redis, the bridge). */
function processesNaming(text: string): number[] {
  const out: number[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(text)) out.push(Number(pid));
    } catch {
      // gone
    }
  }
  return out;
}

afterAll(() => {
  // Only on failure is there anything to remove; the demo's own cleanup is what the test checks.
  if (leftovers.netns) spawnSync('ip', ['netns', 'del', leftovers.netns], { timeout: 10_000 });
  if (leftovers.tmp) rmSync(leftovers.tmp, { recursive: true, force: true });
});

const children = new Set<ChildProcess>();
afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

/** As `npm run demo` runs it (node --import tsx, no signal relay); `onOutput` sees the output as it comes. */
function runDemo(
  args: string[],
  timeoutMs: number,
  onOutput?: (out: string, child: ChildProcess) => void,
): Promise<{ code: number | null; out: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'scripts/demo.ts'), ...args], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.add(child);
    let out = '';
    const add = (d: Buffer): void => {
      out += d.toString();
      onOutput?.(out, child);
    };
    child.stdout.on('data', add);
    child.stderr.on('data', add);
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code, out });
    });
  });
}

describe('npm run demo', () => {
  it('runs for 10 s, exits 0 and removes the namespace and its temp dir', { timeout: 120_000 }, async () => {
    // Ports 0: the test must not depend on 9101/9102 being free on this machine.
    const { code, out } = await runDemo(['--duration', '10', '--http-port', '0', '--inspect-port', '0'], 100_000);
    const tmp = /temp dir: (\S+)/.exec(out)?.[1];
    const netns = /namespace: (svdemo\d+)/.exec(out)?.[1];
    leftovers.tmp = tmp;
    leftovers.netns = netns;

    expect(out, out).toContain('syncvisor is running');
    expect(out).toMatch(/metrics\s+http:\/\/127\.0\.0\.1:\d+\/metrics/);
    expect(out).toContain('sent CMD RESTART');
    expect(out).toContain('10 s elapsed');
    expect(out).toContain('daemon exited with code 0');
    expect(code, out).toBe(0);

    expect(tmp).toBeDefined();
    expect(existsSync(tmp!)).toBe(false);
    if (process.getuid?.() === 0) {
      expect(netns).toBeDefined();
      const list = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout;
      expect(list).not.toContain(netns!);
    } else {
      expect(out).toContain('not root');
    }
  });

  it(
    'two quick Ctrl-C (SIGINT twice) mid-run still leave no namespace, temp dir or process',
    { timeout: 120_000 },
    async () => {
      let sent = false;
      const { out } = await runDemo(['--http-port', '0', '--inspect-port', '0'], 100_000, (text, child) => {
        if (sent || !text.includes('syncvisor is running')) return;
        sent = true;
        child.kill('SIGINT');
        setTimeout(() => child.kill('SIGINT'), 50);
      });
      const tmp = /temp dir: (\S+)/.exec(out)?.[1];
      const netns = /namespace: (svdemo\d+)/.exec(out)?.[1];
      leftovers.tmp = tmp;
      leftovers.netns = netns;
      expect(sent, out).toBe(true);
      expect(tmp).toBeDefined();
      expect(existsSync(tmp!)).toBe(false);
      expect(processesNaming(tmp!)).toEqual([]);
      if (process.getuid?.() === 0) {
        expect(spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout).not.toContain(netns!);
      }
    },
  );
});
