// File descriptors for the connection caps: the soft RLIMIT_NOFILE is raised to the hard limit at start, and the
// caps plus a reserve (log, Redis, netlink, state file, the listeners themselves) must fit in it.
import { fsAddon } from './native.js';

/** Descriptors kept free for the daemon's own use beyond the connection caps. */
export const reservedFds = 64;

export interface FdBudget {
  soft: number;
  hard: number;
  /** Sum of the connection caps. */
  caps: number;
  /** True when caps + reservedFds fit in the soft limit (-1 = unlimited). */
  fits: boolean;
}

export function fdBudget(caps: number): FdBudget {
  const { soft, hard } = fsAddon().raiseNoFileLimit();
  return { soft, hard, caps, fits: soft < 0 || caps + reservedFds <= soft };
}
