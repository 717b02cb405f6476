// scripts/ensure-deps.sh (what `npm start` and `npm test` run first) on a copy of the tree: with every stamp fresh it
// rebuilds nothing; a changed source rebuilds dist/, and a type error is shown and stops it (exit 1), not hidden.
// node_modules is a directory of links into the checkout's (with its own lock stamp), so npm ci never runs here.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  appendFileSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../support/spawnDaemon.js';

const tree = mkdtempSync(join(tmpdir(), 'syncvisor-ensure-'));
afterAll(() => rmSync(tree, { recursive: true, force: true }));

for (const p of [
  'src',
  'scripts',
  'native',
  'bin',
  'dist',
  'build',
  'binding.gyp',
  'package.json',
  'package-lock.json',
])
  cpSync(join(repoRoot, p), join(tree, p), { recursive: true });
for (const p of ['tsconfig.json', 'tsconfig.build.json']) cpSync(join(repoRoot, p), join(tree, p));
mkdirSync(join(tree, 'node_modules'));
for (const e of readdirSync(join(repoRoot, 'node_modules')))
  if (!e.startsWith('.syncvisor')) symlinkSync(join(repoRoot, 'node_modules', e), join(tree, 'node_modules', e));
const lock = createHash('sha256')
  .update(readFileSync(join(tree, 'package-lock.json')))
  .digest('hex');
writeFileSync(join(tree, 'node_modules/.syncvisor-lock.sha'), `${lock}\n`);
// Stamps newer than every source: the state after a complete first run.
const later = new Date(Date.now() + 60_000);
for (const s of ['build/.syncvisor-built', 'dist/.syncvisor-built']) {
  writeFileSync(join(tree, s), '');
  utimesSync(join(tree, s), later, later);
}

const ensure = (): { status: number | null; out: string } => {
  const r = spawnSync('bash', ['scripts/ensure-deps.sh', 'run'], { cwd: tree, encoding: 'utf8', timeout: 300_000 });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
};

describe('scripts/ensure-deps.sh', () => {
  it('rebuilds nothing when every stamp is fresh (an interrupted first run resumes, a warm start is quick)', () => {
    const r = ensure();
    expect(r.out).not.toMatch(/npm ci|native addons|compiling TypeScript/);
    expect(r.status).toBe(0);
  });

  it('a changed source with a type error: the compiler errors are shown, the start stops with exit 1', () => {
    appendFileSync(join(tree, 'src/io/log.ts'), '\nexport const broken: number = "not a number";\n');
    const edited = new Date(later.getTime() + 60_000); // after the stamps
    utimesSync(join(tree, 'src/io/log.ts'), edited, edited);
    const r = ensure();
    expect(r.out).toContain('compiling TypeScript (sources changed)');
    expect(r.out).toMatch(/src\/io\/log\.ts\(\d+,\d+\): error TS2322/);
    expect(r.out).toContain('the TypeScript build failed');
    expect(r.out).not.toContain('npm ci');
    expect(r.status).toBe(1);
  }, 300_000);
});
