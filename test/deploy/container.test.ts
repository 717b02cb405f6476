// deploy/Dockerfile: cache-friendly layers and one build, checked on the file; and the runtime image's dependency set
// (production dependencies only, no optional @statelyai/inspect) checked by running the real daemon on exactly that
// set: a throw-away /app with dist/, bin/, the addons and a node_modules holding only what `npm prune --omit=dev
// --omit=optional` keeps.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot, spawnSyncvisor } from '../support/spawnDaemon.js';

const dockerfile = readFileSync(join(repoRoot, 'deploy/Dockerfile'), 'utf8');
const instructions = dockerfile
  .replace(/\\\n/g, ' ')
  .split('\n')
  .filter((l) => l.trim() && !l.trim().startsWith('#'));
const tmp = mkdtempSync(join(tmpdir(), 'syncvisor-image-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('deploy/Dockerfile', () => {
  it('installs dependencies from package.json and the lock before copying any source (a cached layer)', () => {
    const ci = instructions.findIndex((l) => /RUN npm ci\b/.test(l));
    expect(ci).toBeGreaterThan(0);
    const copies = instructions.slice(0, ci).filter((l) => l.startsWith('COPY'));
    expect(copies).toEqual(['COPY package.json package-lock.json ./']);
    expect(instructions.some((l) => /^COPY \. /.test(l))).toBe(false);
  });

  it('compiles TypeScript once and prunes dev and optional dependencies', () => {
    expect(instructions.filter((l) => /npm run build|\btsc\b|npm ci(?!.*--ignore-scripts)/.test(l))).toEqual([
      'RUN npm run build',
    ]);
    expect(instructions.find((l) => l.includes('npm prune'))).toMatch(/--omit=dev --omit=optional/);
  });

  it('is based on a supported Node LTS (even major >= 22) and ships every addon binding.gyp builds', () => {
    const image = /^ARG NODE_IMAGE=node:(\d+)-/m.exec(dockerfile);
    expect(image).not.toBeNull();
    const major = Number(image![1]);
    expect(major).toBeGreaterThanOrEqual(22);
    expect(major % 2).toBe(0);
    const targets = (
      JSON.parse(readFileSync(join(repoRoot, 'binding.gyp'), 'utf8')) as {
        targets: Array<{ target_name: string }>;
      }
    ).targets.map((t) => t.target_name);
    for (const t of targets) expect(dockerfile).toContain(`build/Release/${t}.node`);
  });

  it('runs on the runtime dependency set: --inspect works, --stately-inspect says what to install', async () => {
    const app = join(tmp, 'app');
    mkdirSync(join(app, 'node_modules'), { recursive: true });
    // Copies, not links: Node resolves a module from its real path, which would find the checkout's node_modules.
    for (const d of ['dist', 'bin']) cpSync(join(repoRoot, d), join(app, d), { recursive: true });
    for (const d of ['build/Release', 'src/io/observe/inspector']) {
      mkdirSync(dirname(join(app, d)), { recursive: true });
      symlinkSync(join(repoRoot, d), join(app, d));
    }
    cpSync(join(repoRoot, 'package.json'), join(app, 'package.json'));
    const kept = execFileSync('npm', ['ls', '--omit=dev', '--omit=optional', '--all', '--parseable'], {
      cwd: repoRoot,
      encoding: 'utf8',
    })
      .split('\n')
      .map((p) => p.slice(repoRoot.length + 1))
      .filter((p) => p.startsWith('node_modules/'))
      .map((p) =>
        p
          .split('/')
          .slice(0, p.split('/')[1]!.startsWith('@') ? 3 : 2)
          .join('/'),
      );
    const top = [...new Set(kept)];
    expect(top).not.toContain('node_modules/@statelyai/inspect');
    expect(top).not.toContain('node_modules/typescript');
    for (const p of top) {
      mkdirSync(dirname(join(app, p)), { recursive: true });
      symlinkSync(join(repoRoot, p), join(app, p));
    }
    writeFileSync(join(tmp, 'profile'), '[]');
    const base = ['run', '--services', 'ptp', '--http', '127.0.0.1:0', '--inspect', '--inspect-port', '0'];
    const sets = ['--set', `ptp.socketPath=${join(tmp, 'ptp.sock')}`, '--set', `ptp.profilePath=${tmp}`];
    const bin = join(app, 'bin/syncvisor.js');
    const d = spawnSyncvisor([...base, ...sets], { wrapperBin: bin });
    await d.waitForLog('ptp socket listening');
    await d.waitForLog('inspector: open this page');
    expect((await d.stop()).code).toBe(0);

    const s = spawnSyncvisor([...base, '--stately-inspect', ...sets], { wrapperBin: bin });
    const r = await Promise.race([
      s.exited,
      new Promise<never>((_, rej) => setTimeout(() => rej(new Error(s.stderr())), 20_000)),
    ]);
    expect(r.code).not.toBe(0);
    expect(s.stderr()).toContain('needs the optional package @statelyai/inspect');
  }, 60_000);
});
