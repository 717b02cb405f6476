// The syncvisor_fs addon (native/fslock.c, native/atomicWrite.c): flock(2), RLIMIT_NOFILE and the durable file
// replace in one thread-pool trip, which Node does not offer.
import { nativeAddon } from '../native.js';

export interface FsAddon {
  /** 0 on success, else the errno (EWOULDBLOCK = 11 when another process holds the lock). */
  flock(fd: number, exclusive: boolean, nonblocking: boolean): number;
  /** Sets the soft RLIMIT_NOFILE to the hard one when allowed; -1 means unlimited. */
  raiseNoFileLimit(): { soft: number; hard: number };
  /**
   * In `dir`: a new `tmpName` (O_EXCL | O_NOFOLLOW, whatever was there unlinked first), the whole of `data` written,
   * fsync, close, `name` renamed to `backupName` (when given; a missing `name` is fine), `tmpName` renamed to
   * `name`, fsync of the directory. Rejects with a Node-style fs error (code, errno, syscall, path).
   */
  writeFileAtomic(
    dir: string,
    tmpName: string,
    name: string,
    backupName: string | null,
    data: Uint8Array,
    mode: number,
  ): Promise<void>;
}

/** The syncvisor_fs addon, loaded on first use. */
export const fsAddon = nativeAddon<FsAddon>('syncvisor_fs', 'fs addon');
