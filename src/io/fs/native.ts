// The syncvisor_fs addon (native/fslock.c): flock(2) and RLIMIT_NOFILE, which Node does not offer.
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface FsAddon {
  /** 0 on success, else the errno (EWOULDBLOCK = 11 when another process holds the lock). */
  flock(fd: number, exclusive: boolean, nonblocking: boolean): number;
  /** Sets the soft RLIMIT_NOFILE to the hard one when allowed; -1 means unlimited. */
  raiseNoFileLimit(): { soft: number; hard: number };
}

const addonPath = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../../build/Release/syncvisor_fs.node',
);
let addon: FsAddon | undefined;

export function fsAddon(): FsAddon {
  if (addon) return addon;
  try {
    addon = createRequire(import.meta.url)(addonPath) as FsAddon;
  } catch (error) {
    throw new Error(`fs addon not built (${addonPath}): run npm ci (needs a C compiler and Node headers)`, {
      cause: error,
    });
  }
  return addon;
}
