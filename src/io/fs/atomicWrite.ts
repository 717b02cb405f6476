// The durable replace of a file that matters: write a temp file beside it and fsync it, optionally keep the previous
// file as a backup, rename the temp file over the name, fsync the directory. The temp file is created exclusively and
// never through a symlink (whatever sits at its predictable name is unlinked first; a symlink's target is untouched).
// All of it runs as one job on libuv's thread pool (the syncvisor_fs addon): the system calls of the durable minimum
// plus the backup rename, without an event-loop turn between them.
import { mkdir } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { fsAddon } from './native.js';

export interface AtomicWriteOptions {
  /** The temp file; must be in the same directory as the target. */
  tmpPath: string;
  /** Rename the current file to this path first (same directory); a missing current file is fine. */
  backupPath?: string | undefined;
  /** Mode of a new file (before the umask); default 0o644. */
  mode?: number;
  /** Create the directory (and its parents) when it is missing; default false. */
  createDir?: boolean;
  /** Mode of a directory created (before the umask); default 0o777. */
  dirMode?: number;
}

function nameIn(dir: string, path: string, what: string): string {
  if (dirname(path) !== dir) throw new Error(`${what} ${path} is not in the directory of the target (${dir})`);
  return basename(path);
}

/** Rejects with a Node-style fs error (code, syscall, path) when a step fails; the target is then untouched or whole. */
export async function writeFileAtomic(path: string, data: Uint8Array, opts: AtomicWriteOptions): Promise<void> {
  const dir = dirname(path);
  const name = basename(path);
  const tmp = nameIn(dir, opts.tmpPath, 'the temp file');
  const backup = opts.backupPath === undefined ? null : nameIn(dir, opts.backupPath, 'the backup');
  const mode = opts.mode ?? 0o644;
  const addon = fsAddon();
  try {
    await addon.writeFileAtomic(dir, tmp, name, backup, data, mode);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    // Only a missing directory itself (its open failed) is created; anything else is the caller's error.
    if (!opts.createDir || e.code !== 'ENOENT' || e.syscall !== 'open' || e.path !== dir) throw err;
    await mkdir(dir, { recursive: true, mode: opts.dirMode ?? 0o777 });
    await addon.writeFileAtomic(dir, tmp, name, backup, data, mode);
  }
}
