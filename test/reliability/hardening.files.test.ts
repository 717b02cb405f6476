// File attacks on the real modules (docs/reliability.md, "Hardening"): a 600 MB state file is refused with a clear
// error at bounded RSS (measured in a child process that loads it through the real load chain, the way a start does);
// a symlink planted at `<stateFile>.tmp` does not make the save overwrite its target; the guarded read refuses a
// FIFO at once and /dev/zero unread.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { GuardedReadError } from '../../src/io/fs/guardedRead.js';
import { readGuarded, readGuardedSync } from '../../src/io/fs/guardedRead.js';
import {
  cleanupStaleStateFiles,
  loadStateFile,
  loadStateFileChain,
  saveStateFile,
  StateFileReadCache,
  tmpPathOf,
} from '../../src/io/warmRestart/stateFileStore.js';
import { repo } from './support/daemon.js';

const dir = mkdtempSync(join(tmpdir(), 'syncvisor-harden-files-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const port = { name: 'Ethernet0', adminState: 'up', operState: 'up', flags: 0x11043, mtu: 9100, ifindex: 1 } as const;

describe('hardening: files', () => {
  it('a 600 MB state file is refused with a clear error, RSS stays bounded', () => {
    const path = join(dir, 'big', 'portsyncd.json');
    execFileSync('mkdir', ['-p', join(dir, 'big')]);
    writeFileSync(path, '');
    truncateSync(path, 600 * 1024 * 1024); // sparse: 600 MB of NUL bytes
    // HARDENING_SRC points at another source tree (how the before figure was taken).
    const src = process.env['HARDENING_SRC'] ?? repo;
    const script = `
      const { cleanupStaleStateFiles, loadStateFileChain } = await import(${JSON.stringify(`${src}/src/io/warmRestart/stateFileStore.ts`)});
      let error = '';
      try {
        await cleanupStaleStateFiles(${JSON.stringify(path)}, 3650, Date.now());
        await loadStateFileChain(${JSON.stringify(path)});
      } catch (err) { error = err.message + ' / ' + (err.cause?.message ?? ''); }
      console.log(JSON.stringify({ error, maxRssMb: process.resourceUsage().maxRSS / 1024 }));`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: repo,
      encoding: 'utf8',
      timeout: 60_000,
    });
    const res = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { error: string; maxRssMb: number };
    console.log(`600 MB state file: peak RSS ${res.maxRssMb.toFixed(0)} MB; error: ${res.error}`);
    expect(res.error).toMatch(/portsyncd\.json is 629145600 bytes, larger than the limit of \d+ bytes/);
    expect(res.maxRssMb).toBeLessThan(200);
  });

  it('a symlink planted at <stateFile>.tmp is replaced, never followed: its target stays intact', async () => {
    const path = join(dir, 'state.json');
    const target = join(dir, 'precious');
    writeFileSync(target, 'precious content\n');
    symlinkSync(target, tmpPathOf(path));
    await saveStateFile(path, { Ethernet0: port }, { now: Date.now() });
    expect(readFileSync(target, 'utf8')).toBe('precious content\n');
    expect((await loadStateFileChain(path)).content.ports['Ethernet0']?.mtu).toBe(9100);
    // And a symlink as the state file itself is not read through.
    rmSync(path);
    symlinkSync(target, path);
    const err = (await loadStateFileChain(path).catch((e: unknown) => e)) as Error;
    expect((err.cause as Error).message).toMatch(/state\.json is a symbolic link; not following it/);
  });

  it('the guarded read refuses a FIFO at once, /dev/zero (through a symlink it follows) unread, and too-large files', async () => {
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const t0 = Date.now();
    await expect(readGuarded(fifo, { maxBytes: 1024 })).rejects.toMatchObject({ reason: 'not-regular' });
    expect(Date.now() - t0).toBeLessThan(2_000);
    const zero = join(dir, 'zero');
    symlinkSync('/dev/zero', zero);
    await expect(readGuarded(zero, { maxBytes: 1024, followSymlinks: true })).rejects.toMatchObject({
      reason: 'not-regular',
    });
    await expect(readGuarded(zero, { maxBytes: 1024 })).rejects.toMatchObject({ reason: 'symlink' });
    const big = join(dir, 'big.txt');
    writeFileSync(big, 'x'.repeat(2048));
    const err = (await readGuarded(big, { maxBytes: 1024 }).catch((e: unknown) => e)) as GuardedReadError;
    expect(err.reason).toBe('too-large');
    expect((await readGuarded(big, { maxBytes: 4096 })).data.length).toBe(2048);
  });

  it('the synchronous guarded read (the PTP INI files) refuses the same: FIFO, /dev/zero, symlinks, too-large files', () => {
    const fifo = join(dir, 'fifo-sync');
    execFileSync('mkfifo', [fifo]);
    const reason = (f: () => unknown): string | undefined => {
      try {
        f();
        return undefined;
      } catch (e) {
        return (e as GuardedReadError).reason;
      }
    };
    // Non-blocking open: a FIFO with no writer is judged by fstat, never waited on (this call would hang otherwise).
    expect(reason(() => readGuardedSync(fifo, { maxBytes: 1024 }))).toBe('not-regular');
    const zero = join(dir, 'zero-sync');
    symlinkSync('/dev/zero', zero);
    expect(reason(() => readGuardedSync(zero, { maxBytes: 1024, followSymlinks: true }))).toBe('not-regular');
    expect(reason(() => readGuardedSync(zero, { maxBytes: 1024 }))).toBe('symlink');
    expect(reason(() => readGuardedSync(join(dir, 'absent'), { maxBytes: 1024 }))).toBe('missing');
    const big = join(dir, 'big-sync.txt');
    writeFileSync(big, 'x'.repeat(2048));
    expect(reason(() => readGuardedSync(big, { maxBytes: 1024 }))).toBe('too-large');
    expect(readGuardedSync(big, { maxBytes: 4096 }).data.toString()).toBe('x'.repeat(2048));
    expect(readGuardedSync(big, { maxBytes: 2048 }).data.length).toBe(2048);
  });

  it('what the stale cleanup read is what the load uses (one read per start), only while the file is unchanged', async () => {
    const path = join(dir, 'once', 'state.json');
    await saveStateFile(path, { Ethernet0: port }, { now: Date.now() });
    const cache = new StateFileReadCache();
    await cleanupStaleStateFiles(path, 3650, Date.now(), cache);
    const cached = await cache.take(path);
    expect(cached && !(cached instanceof Error) && cached.ok).toBe(true);
    expect(await cache.take(path)).toBeUndefined(); // once
    await cleanupStaleStateFiles(path, 3650, Date.now(), cache);
    await saveStateFile(path, { Ethernet0: { ...port, mtu: 1500 } }, { now: Date.now() }); // changed after the cleanup
    expect((await loadStateFile(path, 'current', cache)).ports['Ethernet0']?.mtu).toBe(1500);
  });
});
