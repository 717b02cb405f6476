// docs/configuration.md is generated from the schema; CI runs `npm run docs:config:check`. These tests run the real
// script (through tsx, as npm does) against the committed file and against temporary copies.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { configKeys } from '../../src/config/load.js';

const root = resolve(import.meta.dirname, '../..');
const script = join(root, 'scripts/gen-config-docs.ts');
const tsx = join(root, 'node_modules/.bin/tsx');
const committed = join(root, 'docs/configuration.md');
const tmp = mkdtempSync(join(tmpdir(), 'syncvisor-docs-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function gen(...args: string[]): { status: number | null; out: string } {
  const r = spawnSync(tsx, [script, ...args], { cwd: root, encoding: 'utf8', timeout: 20_000 });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

describe('docs/configuration.md', () => {
  it('is current with the schema (the CI check passes)', () => {
    const r = gen('--check');
    expect(r.out).toContain('is current');
    expect(r.status).toBe(0);
  });

  it('documents every key with its default and environment variables', () => {
    const text = readFileSync(committed, 'utf8');
    for (const k of configKeys) {
      const row = text.split('\n').find((l) => l.startsWith(`| \`${k.key}\` |`));
      expect(row, k.key).toBeDefined();
      for (const env of k.env) expect(row).toContain(`\`${env}\``);
    }
    expect(text).toContain('PORTSYNCD_EOIU_TIMEOUT_SECS');
    expect(text).toMatch(/defaults.*\n.*configuration file[\s\S]*environment[\s\S]*command-line flags/);
    expect(text).toContain('```yaml');
    expect(text).toContain('```json');
  });

  it('the check fails on a modified copy and passes again after regenerating it', () => {
    const copy = join(tmp, 'configuration.md');
    copyFileSync(committed, copy);
    expect(gen('--check', '--out', copy).status).toBe(0);

    writeFileSync(copy, readFileSync(copy, 'utf8').replace('`127.0.0.1:9101`', '`127.0.0.1:9999`'));
    const stale = gen('--check', '--out', copy);
    expect(stale.status).toBe(1);
    expect(stale.out).toContain('stale');

    expect(gen('--out', copy).status).toBe(0);
    expect(readFileSync(copy, 'utf8')).toBe(readFileSync(committed, 'utf8'));
    expect(gen('--check', '--out', copy).status).toBe(0);
  });

  it('the check fails when the file is missing', () => {
    const r = gen('--check', '--out', join(tmp, 'nope.md'));
    expect(r.status).toBe(1);
    expect(r.out).toContain('missing');
  });
});
