// Lock files that say which process owns a path (a listening socket, the embedded Redis socket): `<path>.lock`,
// held with an exclusive flock(2) for the owner's lifetime. The kernel drops the lock when the holder exits, however
// it exits (kill -9 included), so a lock that can be taken means no live owner. The lock file itself is never
// removed: removing it would let two processes lock two different inodes of the same name.
import { closeSync, constants, fstatSync, ftruncateSync, openSync, readFileSync, writeSync } from 'node:fs';
import { fsAddon } from './native.js';

const EWOULDBLOCK = 11;

export class LockBusyError extends Error {
  override name = 'LockBusyError';
  constructor(
    readonly lockPath: string,
    readonly holderPid: number | undefined,
  ) {
    super(
      `${lockPath} is held by another running instance${holderPid !== undefined ? ` (pid ${holderPid})` : ''}; ` +
        'not touching what it owns',
    );
  }
}

export interface HeldLock {
  readonly path: string;
  /** Releases the lock (closes the descriptor). Idempotent. */
  release(): void;
}

export function lockPathOf(path: string): string {
  return `${path}.lock`;
}

/** Takes `<path>.lock` exclusively without waiting; throws LockBusyError when another process holds it. */
export function acquireLock(path: string): HeldLock {
  const lockPath = lockPathOf(path);
  const fd = openSync(lockPath, constants.O_RDWR | constants.O_CREAT | constants.O_NOFOLLOW, 0o600);
  try {
    if (!fstatSync(fd).isFile()) throw new Error(`${lockPath} is not a regular file`);
    const rc = fsAddon().flock(fd, true, true);
    if (rc === EWOULDBLOCK) {
      let pid: number | undefined;
      try {
        const n = Number.parseInt(readFileSync(lockPath, 'utf8').trim(), 10);
        if (Number.isSafeInteger(n) && n > 0) pid = n;
      } catch {
        // the holder's pid is a courtesy
      }
      throw new LockBusyError(lockPath, pid);
    }
    if (rc !== 0) throw new Error(`flock(${lockPath}) failed: errno ${rc}`);
    ftruncateSync(fd, 0);
    writeSync(fd, `${process.pid}\n`, 0);
  } catch (err) {
    closeSync(fd);
    throw err;
  }
  let held = true;
  return {
    path: lockPath,
    release() {
      if (!held) return;
      held = false;
      closeSync(fd);
    },
  };
}
