// `npm run demo -- --duration 10`: the demo starts the daemon (in a network namespace when root), replays PTP lines,
// stops after 10 s, exits 0, and leaves nothing behind: no namespace, no temp dir (socket, Redis, state file).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');
const leftovers: { netns?: string; tmp?: string } = {};

afterAll(() => {
  // Only on failure is there anything to remove; the demo's own cleanup is what the test checks.
  if (leftovers.netns) spawnSync('ip', ['netns', 'del', leftovers.netns], { timeout: 10_000 });
  if (leftovers.tmp) rmSync(leftovers.tmp, { recursive: true, force: true });
});

function runDemo(args: string[], timeoutMs: number): Promise<{ code: number | null; out: string }> {
  return new Promise((done) => {
    const child = spawn(join(root, 'node_modules/.bin/tsx'), [join(root, 'scripts/demo.ts'), ...args], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
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
});
