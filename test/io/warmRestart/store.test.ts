// The state file on a real file system: atomic save with rotation, the load chain, stale cleanup, and the failures
// (corrupted files, an unwritable directory, a path below a regular file).
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import type { StateFileError } from '../../../src/io/warmRestart/stateFileCodec.js';
import type { PersistedPort } from '../../../src/io/warmRestart/stateFileCodec.js';
import { encodeStateFile } from '../../../src/io/warmRestart/stateFileEncoder.js';
import {
  backupPathOf,
  cleanupStaleStateFiles,
  loadStateFile,
  loadStateFileChain,
  saveStateFile,
} from '../../../src/io/warmRestart/stateFileStore.js';

const root = mkdtempSync(join(tmpdir(), 'syncvisor-h4-statefile-'));
let dir: string;
let path: string;
let n = 0;

afterAll(() => {
  chmodSync(root, 0o700);
  rmSync(root, { recursive: true, force: true });
});

beforeEach(() => {
  n += 1;
  dir = join(root, `case${n}`);
  mkdirSync(dir);
  path = join(dir, 'portsyncd.json');
});

const dayMs = 86_400_000;
const now = 1_750_000_000_000;

function ports(mtu: number): Record<string, PersistedPort> {
  return { Ethernet0: { name: 'Ethernet0', adminState: 'up', operState: 'up', flags: 0x11043, mtu, ifindex: 7 } };
}

async function rejection(p: Promise<unknown>): Promise<StateFileError> {
  try {
    await p;
  } catch (err) {
    return err as StateFileError;
  }
  throw new Error('expected a rejection');
}

describe('saveStateFile', () => {
  it('writes the current file and leaves no .tmp behind', async () => {
    await saveStateFile(path, ports(9100), { now });
    expect(readdirSync(dir).sort()).toEqual(['portsyncd.json']);
    expect((await loadStateFile(path)).ports).toEqual(ports(9100));
  });

  it('rotates the previous save to .backup, over several cycles', async () => {
    for (let mtu = 1; mtu <= 5; mtu += 1) {
      await saveStateFile(path, ports(mtu), { now: now + mtu });
      expect((await loadStateFile(path, 'current')).ports.Ethernet0?.mtu).toBe(mtu);
      if (mtu > 1) expect((await loadStateFile(path, 'backup')).ports.Ethernet0?.mtu).toBe(mtu - 1);
    }
    expect(readdirSync(dir).sort()).toEqual(['portsyncd.json', 'portsyncd.json.backup']);
  });

  it('rotate: false keeps the backup', async () => {
    await saveStateFile(path, ports(1), { now });
    await saveStateFile(path, ports(2), { now });
    await saveStateFile(path, ports(3), { now, rotate: false });
    expect((await loadStateFile(path, 'backup')).ports.Ethernet0?.mtu).toBe(1);
    expect((await loadStateFile(path, 'current')).ports.Ethernet0?.mtu).toBe(3);
  });

  it('creates a missing directory', async () => {
    const deep = join(dir, 'a', 'b', 'state.json');
    await saveStateFile(deep, ports(1), { now });
    expect(existsSync(deep)).toBe(true);
  });

  it('fails with an error (no crash) below a regular file, even for root', async () => {
    writeFileSync(join(dir, 'file'), 'x');
    await expect(saveStateFile(join(dir, 'file', 'state.json'), ports(1), { now })).rejects.toThrow(/ENOTDIR|EEXIST/);
  });

  it('fails with an error in a read-only directory when not root, and never leaves a partial current file', async () => {
    await saveStateFile(path, ports(1), { now });
    chmodSync(dir, 0o500);
    try {
      const result = await saveStateFile(path, ports(2), { now }).then(
        () => 'saved',
        (err: Error) => err.message,
      );
      // root ignores directory modes; what matters is that the current file is complete either way.
      if (process.getuid?.() !== 0) expect(result).toMatch(/EACCES/);
      const mtu = (await loadStateFile(path)).ports.Ethernet0?.mtu;
      expect([1, 2]).toContain(mtu);
    } finally {
      chmodSync(dir, 0o700);
    }
  });
});

describe('loadStateFile / loadStateFileChain', () => {
  it('missing file → reason missing', async () => {
    expect((await rejection(loadStateFile(path))).reason).toBe('missing');
    expect((await rejection(loadStateFile(join(dir, 'nodir', 'x.json')))).reason).toBe('missing');
  });

  it('a directory in place of the file → reason unreadable', async () => {
    mkdirSync(path);
    expect((await rejection(loadStateFile(path))).reason).toBe('unreadable');
  });

  it('corrupted current → the backup, with the current error reported', async () => {
    await saveStateFile(path, ports(1), { now });
    await saveStateFile(path, ports(2), { now });
    writeFileSync(path, readFileSync(path, 'utf8').slice(0, 40));
    const r = await loadStateFileChain(path);
    expect(r.slot).toBe('backup');
    expect(r.content.ports.Ethernet0?.mtu).toBe(1);
    expect(r.currentError?.reason).toBe('parse');
  });

  it('corrupted current and backup → rejected with the backup error, the current one as cause', async () => {
    writeFileSync(path, encodeStateFile(ports(1), now).replace('"mtu":1', '"mtu":2'));
    writeFileSync(backupPathOf(path), '{"version":1');
    const err = await rejection(loadStateFileChain(path));
    expect(err.reason).toBe('parse');
    expect((err.cause as StateFileError).reason).toBe('checksum');
  });

  it('a future version stops the chain', async () => {
    writeFileSync(path, JSON.stringify({ version: 7 }));
    await saveStateFile(join(dir, 'other.json'), ports(1), { now });
    writeFileSync(backupPathOf(path), readFileSync(join(dir, 'other.json')));
    const err = await rejection(loadStateFileChain(path));
    expect(err.isFutureVersion).toBe(true);
  });
});

describe('cleanupStaleStateFiles', () => {
  it('keeps recent files', async () => {
    await saveStateFile(path, ports(1), { now: now - 6 * dayMs });
    const r = await cleanupStaleStateFiles(path, 7, now);
    expect(r.deleted).toEqual([]);
    expect(r.currentAgeDays).toBeCloseTo(6);
    expect(existsSync(path)).toBe(true);
  });

  it('deletes files older than maxAgeDays (by savedAt)', async () => {
    await saveStateFile(path, ports(1), { now: now - 9 * dayMs });
    await saveStateFile(path, ports(2), { now: now - 8 * dayMs });
    const r = await cleanupStaleStateFiles(path, 7, now);
    expect(r.deleted).toEqual(['current', 'backup']);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('uses mtime for a file that does not decode', async () => {
    writeFileSync(path, 'garbage');
    const old = (now - 30 * dayMs) / 1000;
    utimesSync(path, old, old);
    expect((await cleanupStaleStateFiles(path, 7, now)).deleted).toEqual(['current']);
  });

  it('no files: nothing to do', async () => {
    expect(await cleanupStaleStateFiles(path, 7, now)).toEqual({ deleted: [], currentAgeDays: undefined });
  });
});
