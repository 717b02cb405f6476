// loadConfigFiles reads the INI files with the synchronous guarded read; its result must be what the simple version
// gives (the asynchronous guarded read, one file after another): the same files and the same errors, in file order
// (process, then number), whatever mix of good, malformed, oversized, special and look-alike files the directory holds.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import {
  configFileName,
  loadConfigFiles,
  parseConfigFile,
  type PtpConfigFile,
} from '../../../src/io/ptp/configFiles.js';
import { readGuarded, type GuardedReadError } from '../../../src/io/fs/guardedRead.js';

const base = mkdtempSync(join(tmpdir(), 'syncvisor-cfgfiles-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));

const maxBytes = 1024 * 1024;

/** The simple version: list, sort by process then number, read and parse each file in turn. */
async function oneByOne(dir: string): Promise<{ files: PtpConfigFile[]; errors: string[] }> {
  const key = (n: string) => {
    const m = configFileName.exec(n)!;
    return [m[1]!, Number(m[2])] as const;
  };
  const names = readdirSync(dir)
    .filter((n) => configFileName.test(n))
    .sort((a, b) => {
      const [pa, na] = key(a);
      const [pb, nb] = key(b);
      return pa !== pb ? (pa < pb ? -1 : 1) : na - nb;
    });
  const files: PtpConfigFile[] = [];
  const errors: string[] = [];
  for (const name of names) {
    const path = join(dir, name);
    let text: string;
    try {
      text = (await readGuarded(path, { maxBytes })).data.toString('utf8');
    } catch (err) {
      const reason = (err as GuardedReadError).reason;
      if (reason === 'missing') continue;
      if (reason === 'symlink') errors.push(`${path}: a symbolic link, skipped`);
      else if (reason === 'not-regular') errors.push(`${path}: not a regular file, skipped`);
      else if (reason === 'too-large') errors.push(`${path}: larger than ${maxBytes} bytes, skipped`);
      else errors.push((err as Error).message);
      continue;
    }
    const parsed = parseConfigFile(name, text);
    if (typeof parsed === 'string') errors.push(`${dir}/${parsed}`);
    else files.push(parsed);
  }
  return { files, errors };
}

type Kind = 'good' | 'malformed' | 'outside' | 'symlink' | 'dir' | 'fifo' | 'large' | 'lookalike';
const processes = ['ptp4l', 'phc2sys', 'ts2phc', 'synce4l', 'chronyd'] as const;

let dirs = 0;
function makeDir(entries: { process: number; n: number; kind: Kind; ifaces: number }[]): string {
  const dir = join(base, `d${dirs++}`);
  mkdirSync(dir);
  const used = new Set<string>();
  for (const e of entries) {
    const name = `${processes[e.process]!}.${e.n}.config`;
    if (used.has(name)) continue;
    used.add(name);
    const path = join(dir, name);
    const sections = Array.from({ length: e.ifaces }, (_, i) => `[ens${e.n}f${i}]\nmasterOnly ${i === 0 ? 0 : 1}\n`);
    const good = `#profile: profile${e.n}\n[global]\ndomainNumber 24\n${sections.join('')}`;
    if (e.kind === 'good') writeFileSync(path, good);
    else if (e.kind === 'malformed') writeFileSync(path, `[global\n${sections.join('')}`);
    else if (e.kind === 'outside') writeFileSync(path, `masterOnly 1\n${good}`);
    else if (e.kind === 'symlink') symlinkSync('/dev/zero', path);
    else if (e.kind === 'dir') mkdirSync(path);
    else if (e.kind === 'fifo') execFileSync('mkfifo', [path]);
    else if (e.kind === 'large') writeFileSync(path, `${good}# ${'x'.repeat(maxBytes)}\n`);
    else writeFileSync(join(dir, `${name}.bak`), good);
  }
  return dir;
}

describe('loadConfigFiles', () => {
  it('equals reading the files one by one: same files, same errors, same order', async () => {
    const kind = fc.constantFrom<Kind>(
      'good',
      'good',
      'good',
      'malformed',
      'outside',
      'symlink',
      'dir',
      'fifo',
      'large',
      'lookalike',
    );
    const entry = fc.record({
      process: fc.integer({ min: 0, max: processes.length - 1 }),
      n: fc.integer({ min: 0, max: 99 }),
      kind,
      ifaces: fc.integer({ min: 0, max: 4 }),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(entry, { maxLength: 60 }), async (entries) => {
        const dir = makeDir(entries);
        const want = await oneByOne(dir);
        const got = await loadConfigFiles(dir);
        expect(got).toEqual(want);
        rmSync(dir, { recursive: true, force: true });
      }),
      { numRuns: 40 },
    );
  });

  it('reads 200 files in numeric order (ptp4l.0 … ptp4l.199, not ptp4l.0, ptp4l.1, ptp4l.10 …)', async () => {
    const dir = makeDir(Array.from({ length: 200 }, (_, n) => ({ process: 0, n, kind: 'good' as const, ifaces: 1 })));
    const got = await loadConfigFiles(dir);
    expect(got.errors).toEqual([]);
    expect(got.files.map((f) => f.name)).toEqual(Array.from({ length: 200 }, (_, n) => `ptp4l.${n}.config`));
    expect(got.files[123]?.interfaces.map((s) => s.name)).toEqual(['ens123f0']);
  });
});
