// The syncvisor_fs addon (native/fslock.c): flock(2) and RLIMIT_NOFILE, which Node does not offer.
import { nativeAddon } from '../native.js';

export interface FsAddon {
  /** 0 on success, else the errno (EWOULDBLOCK = 11 when another process holds the lock). */
  flock(fd: number, exclusive: boolean, nonblocking: boolean): number;
  /** Sets the soft RLIMIT_NOFILE to the hard one when allowed; -1 means unlimited. */
  raiseNoFileLimit(): { soft: number; hard: number };
}

/** The syncvisor_fs addon, loaded on first use. */
export const fsAddon = nativeAddon<FsAddon>('syncvisor_fs', 'fs addon');
