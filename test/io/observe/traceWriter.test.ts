// The snapshot file beside a trace is written whole, and never through whatever was planted at its temp name.
import { existsSync, lstatSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeFileAtomic } from '../../../src/io/observe/traceWriter.js';

const dir = mkdtempSync(join(tmpdir(), 'syncvisor-tracewriter-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('trace snapshot file', () => {
  it('replaces the file whole; a leftover temp file or a planted symlink at the temp name is removed, not followed', () => {
    const path = join(dir, 'trace.jsonl.snapshot.json');
    writeFileAtomic(path, 'one');
    expect(readFileSync(path, 'utf8')).toBe('one');
    writeFileSync(`${path}.tmp`, 'leftover');
    writeFileAtomic(path, 'two');
    expect(readFileSync(path, 'utf8')).toBe('two');
    const victim = join(dir, 'victim');
    writeFileSync(victim, 'precious');
    symlinkSync(victim, `${path}.tmp`);
    writeFileAtomic(path, 'three');
    expect(readFileSync(victim, 'utf8')).toBe('precious');
    expect(readFileSync(path, 'utf8')).toBe('three');
    expect(lstatSync(path).isFile()).toBe(true);
    expect(existsSync(`${path}.tmp`)).toBe(false);
  });
});
