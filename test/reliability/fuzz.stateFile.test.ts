// Fuzzing of the warm-restart state-file loader: random bytes, and every kind of damage to a valid file (byte
// flips, truncation, insertions, edited fields), through the codec and through the real load chain on disk. A file
// is accepted only when its checksum matches, and then it is exactly what was saved.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import {
  decodeStateFile,
  StateFileError,
  stateFileChecksum,
  type PersistedPort,
} from '../../src/io/warmRestart/stateFileCodec.js';
import { encodeStateFile } from '../../src/io/warmRestart/stateFileEncoder.js';
import { backupPathOf, loadStateFileChain, saveStateFile } from '../../src/io/warmRestart/stateFileStore.js';

const dir = mkdtempSync(join(tmpdir(), 'syncvisor-fuzz-state-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const port = (name: string): fc.Arbitrary<PersistedPort> =>
  fc.record({
    name: fc.constant(name),
    adminState: fc.constantFrom('up' as const, 'down' as const),
    operState: fc.constantFrom('up' as const, 'down' as const),
    flags: fc.nat(),
    mtu: fc.nat({ max: 65_535 }),
    ifindex: fc.nat(),
  });
const ports: fc.Arbitrary<Record<string, PersistedPort>> = fc
  .uniqueArray(
    fc.oneof(
      fc.integer({ min: 0, max: 512 }).map((i) => `Ethernet${i}`),
      fc.string({ maxLength: 8 }),
    ),
    {
      maxLength: 12,
    },
  )
  .chain((names) => fc.tuple(...names.map(port)))
  .map((ps) => Object.fromEntries(ps.map((p) => [p.name, p])));
const savedAt = fc.nat({ max: 2 ** 45 });

type Damage =
  | { kind: 'flip'; at: number; value: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'insert'; at: number; text: string }
  | { kind: 'delete'; at: number; len: number };
const damage: fc.Arbitrary<Damage> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), text: fc.string({ maxLength: 6 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 8 }) }),
);
function apply(bytes: Buffer, ds: Damage[]): Buffer {
  let b = bytes;
  for (const d of ds) {
    const at = d.at % (b.length + 1);
    if (d.kind === 'flip' && b.length > 0) {
      b = Buffer.from(b);
      b[d.at % b.length] = d.value;
    } else if (d.kind === 'truncate') b = b.subarray(0, at);
    else if (d.kind === 'insert') b = Buffer.concat([b.subarray(0, at), Buffer.from(d.text), b.subarray(at)]);
    else if (d.kind === 'delete')
      b = Buffer.concat([b.subarray(0, at), b.subarray(at + 1 + ((d as { len: number }).len - 1))]);
  }
  return b;
}

describe('state-file codec under fuzzing', () => {
  it('random text is never accepted and never throws', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: 'binary', maxLength: 400 }),
          fc.jsonValue().map((v) => JSON.stringify(v)),
        ),
        (t) => {
          const r = decodeStateFile(t);
          expect(r.ok).toBe(false);
          if (!r.ok) expect(r.error).toBeInstanceOf(StateFileError);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('a damaged file is rejected unless its checksum still matches, and then it is exactly what was saved', () => {
    let accepted = 0;
    let rejected = 0;
    fc.assert(
      fc.property(ports, savedAt, fc.array(damage, { minLength: 1, maxLength: 4 }), (ps, at, ds) => {
        const original = Buffer.from(encodeStateFile(ps, at));
        const damaged = apply(original, ds);
        const r = decodeStateFile(damaged.toString('utf8'));
        if (!r.ok) {
          rejected++;
          expect(['parse', 'checksum', 'version', 'shape']).toContain(r.error.reason);
          return;
        }
        accepted++;
        // Only damage that leaves the content intact (whitespace, or nothing) may pass.
        expect(r.value).toEqual({ version: 1, savedAt: at, ports: ps });
        expect(stateFileChecksum(r.value)).toBe(
          (JSON.parse(damaged.toString('utf8')) as { checksum: string }).checksum,
        );
      }),
      { numRuns: 4000 },
    );
    expect(rejected).toBeGreaterThan(accepted);
  });

  it('an edited field with the old checksum is rejected as a checksum mismatch', () => {
    fc.assert(
      fc.property(
        ports.filter((p) => Object.keys(p).length > 0),
        savedAt,
        fc.constantFrom('mtu', 'flags', 'ifindex', 'adminState', 'extra'),
        (ps, at, field) => {
          const file = JSON.parse(encodeStateFile(ps, at)) as { ports: Record<string, Record<string, unknown>> };
          const first = Object.values(file.ports)[0]!;
          if (field === 'adminState') first.adminState = first.adminState === 'up' ? 'down' : 'up';
          else if (field === 'extra') first.extra = 1;
          else first[field] = (first[field] as number) + 1;
          const r = decodeStateFile(JSON.stringify(file));
          expect(r.ok).toBe(false);
          if (!r.ok) expect(r.error.reason).toBe('checksum');
        },
      ),
      { numRuns: 1000 },
    );
  });
});

describe('state-file load chain on disk under fuzzing', () => {
  it('loads the current file if valid, else the backup if valid, else rejects with a StateFileError', async () => {
    const path = join(dir, 'portsyncd.json');
    await fc.assert(
      fc.asyncProperty(
        ports,
        ports,
        fc.option(fc.array(damage, { minLength: 1, maxLength: 3 }), { nil: undefined }),
        fc.option(fc.array(damage, { minLength: 1, maxLength: 3 }), { nil: undefined }),
        async (older, newer, damageBackup, damageCurrent) => {
          rmSync(path, { force: true });
          rmSync(backupPathOf(path), { force: true });
          await saveStateFile(path, older, { now: 1000 });
          await saveStateFile(path, newer, { now: 2000 });
          const cur = Buffer.from(encodeStateFile(newer, 2000));
          const bak = Buffer.from(encodeStateFile(older, 1000));
          const curBytes = damageCurrent ? apply(cur, damageCurrent) : cur;
          const bakBytes = damageBackup ? apply(bak, damageBackup) : bak;
          writeFileSync(path, curBytes);
          writeFileSync(backupPathOf(path), bakBytes);
          const curResult = decodeStateFile(curBytes.toString('utf8'));
          const curOk = curResult.ok;
          // A file claiming a newer version stops the chain (documented): the backup is not tried.
          const future = !curResult.ok && curResult.error.isFutureVersion;
          const bakOk = decodeStateFile(bakBytes.toString('utf8')).ok;
          try {
            const r = await loadStateFileChain(path);
            if (curOk) expect(r).toMatchObject({ slot: 'current', content: { savedAt: 2000, ports: newer } });
            else expect(r).toMatchObject({ slot: 'backup', content: { savedAt: 1000, ports: older } });
            expect(curOk || (bakOk && !future)).toBe(true);
          } catch (err) {
            expect(err).toBeInstanceOf(StateFileError);
            expect(curOk || (bakOk && !future)).toBe(false);
          }
        },
      ),
      { numRuns: 400 },
    );
  });
});
