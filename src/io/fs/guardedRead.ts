// One guarded way to read a file that matters (the ConfigMap, the INI files, the warm-restart state file): open it
// non-blocking (a FIFO or a device never blocks the thread pool), optionally without following a symlink, judge the
// opened file itself with fstat (regular files only, size ≤ the limit), then read at most the limit from the handle.
// A symlink to /dev/zero, a FIFO or a 600 MB file is refused with a clear error before any byte is buffered.
import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';
import { open } from 'node:fs/promises';

export type GuardedReadReason = 'missing' | 'symlink' | 'not-regular' | 'too-large' | 'io';

export class GuardedReadError extends Error {
  override name = 'GuardedReadError';
  constructor(
    readonly reason: GuardedReadReason,
    readonly path: string,
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

export interface GuardedReadOptions {
  /** Files larger than this are refused (fstat size, and again while reading: a growing file is cut off). */
  maxBytes: number;
  /** Follow a symlink at the last path component (default false: O_NOFOLLOW, a symlink is refused). */
  followSymlinks?: boolean;
}

export interface GuardedReadResult {
  data: Buffer;
  /** fstat of the opened handle (dev, ino, size, mtime identify what was read). */
  stat: Stats;
}

const flagsOf = (opts: GuardedReadOptions): number =>
  constants.O_RDONLY | constants.O_NONBLOCK | (opts.followSymlinks ? 0 : constants.O_NOFOLLOW);

/** The GuardedReadError for a failed open. */
function openFailure(err: unknown, path: string, opts: GuardedReadOptions): GuardedReadError {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return new GuardedReadError('missing', path, `${path} does not exist`, code);
  if (code === 'ELOOP' && !opts.followSymlinks)
    return new GuardedReadError('symlink', path, `${path} is a symbolic link; not following it`, code);
  return new GuardedReadError('io', path, `${path}: ${(err as Error).message}`, code);
}

/** Throws unless the opened file is a regular file within the limit. */
function checkStat(stat: Stats, path: string, opts: GuardedReadOptions): void {
  if (!stat.isFile())
    throw new GuardedReadError('not-regular', path, `${path} is not a regular file (${kindOf(stat)}); not reading it`);
  if (stat.size > opts.maxBytes)
    throw new GuardedReadError(
      'too-large',
      path,
      `${path} is ${stat.size} bytes, larger than the limit of ${opts.maxBytes} bytes; not reading it`,
    );
}

const grewError = (path: string, opts: GuardedReadOptions): GuardedReadError =>
  new GuardedReadError(
    'too-large',
    path,
    `${path} grew beyond the limit of ${opts.maxBytes} bytes while being read; not using it`,
  );

const ioFailure = (err: unknown, path: string): GuardedReadError => {
  if (err instanceof GuardedReadError) return err;
  const code = (err as NodeJS.ErrnoException).code;
  return new GuardedReadError('io', path, `${path}: ${(err as Error).message}`, code);
};

/**
 * A full buffer of a read: twice its size, capped at maxBytes + 1 (one byte more than allowed, to notice a file that
 * grew after its fstat); a buffer already past maxBytes is a file that grew beyond the limit.
 */
function grown(buf: Buffer, path: string, opts: GuardedReadOptions): Buffer {
  if (buf.length > opts.maxBytes) throw grewError(path, opts);
  const bigger = Buffer.allocUnsafe(Math.min(buf.length * 2, opts.maxBytes + 1));
  buf.copy(bigger, 0, 0, buf.length);
  return bigger;
}

/** Reads `path` as described above; rejects only with a GuardedReadError. */
export async function readGuarded(path: string, opts: GuardedReadOptions): Promise<GuardedReadResult> {
  let handle;
  try {
    handle = await open(path, flagsOf(opts));
  } catch (err) {
    throw openFailure(err, path, opts);
  }
  try {
    const stat = await handle.stat();
    checkStat(stat, path, opts);
    // Read at most maxBytes + 1 bytes (to notice a file that grew after the fstat), never more.
    let buf: Buffer = Buffer.allocUnsafe(Math.min(stat.size, opts.maxBytes) + 1);
    let len = 0;
    for (;;) {
      if (len === buf.length) buf = grown(buf, path, opts);
      const { bytesRead } = await handle.read(buf, len, buf.length - len, len);
      if (bytesRead === 0) break;
      len += bytesRead;
    }
    if (len > opts.maxBytes) throw grewError(path, opts);
    return { data: buf.subarray(0, len), stat };
  } catch (err) {
    throw ioFailure(err, path);
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/**
 * The same guarded read, synchronous: for a batch of small files read in one go (the INI files of a PTP load), where
 * the thread-pool round trips of open, fstat, read and close per file cost far more than the reads. The open is
 * non-blocking, so a FIFO still never blocks; the limits are the same. Throws only a GuardedReadError.
 */
export function readGuardedSync(path: string, opts: GuardedReadOptions): GuardedReadResult {
  let fd: number;
  try {
    fd = openSync(path, flagsOf(opts));
  } catch (err) {
    throw openFailure(err, path, opts);
  }
  try {
    const stat = fstatSync(fd);
    checkStat(stat, path, opts);
    let buf: Buffer = Buffer.allocUnsafe(Math.min(stat.size, opts.maxBytes) + 1);
    let len = 0;
    for (;;) {
      if (len === buf.length) buf = grown(buf, path, opts);
      const asked = buf.length - len;
      const bytesRead = readSync(fd, buf, len, asked, len);
      len += bytesRead;
      // A regular file (fstat above) reads short only at its end: no extra read to see the 0. The buffer has one
      // byte more than fstat's size, so a file that grew since is still noticed (a full read, then the limit check).
      if (bytesRead < asked) break;
    }
    if (len > opts.maxBytes) throw grewError(path, opts);
    return { data: buf.subarray(0, len), stat };
  } catch (err) {
    throw ioFailure(err, path);
  } finally {
    try {
      closeSync(fd);
    } catch {
      // Closing a read-only descriptor cannot lose data.
    }
  }
}

function kindOf(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a file';
}
