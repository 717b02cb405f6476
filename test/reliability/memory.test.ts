// Memory stays bounded under fuzzed input: a child process (--expose-gc) runs every fuzzed parser over 100,000s of
// inputs in rounds and reports heapUsed after a full GC, after a warm-up round and after the last round.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bundleScript } from './support/bundleScript.js';

const dir = mkdtempSync(join(tmpdir(), 'syncvisor-memtest-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('memory under fuzzed input', () => {
  it('heap after GC does not grow over 5 rounds of 20,000 fuzzed inputs to every parser (bound 8 MB)', async () => {
    const bundle = await bundleScript('memoryLoop', dir);
    const out = execFileSync(
      process.execPath,
      ['--expose-gc', bundle, '6', '20000', join(import.meta.dirname, '../fixtures/ptp')],
      {
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    const r = JSON.parse(out.trim().split('\n').at(-1)!) as { before: number; after: number; lines: object };
    const growthMb = (r.after - r.before) / 2 ** 20;
    console.log(
      `memory: heap ${(r.before / 2 ** 20).toFixed(1)} MB -> ${(r.after / 2 ** 20).toFixed(1)} MB, growth ${growthMb.toFixed(2)} MB`,
    );
    expect(growthMb).toBeLessThan(8);
  }, 90_000);
});
