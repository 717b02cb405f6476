// Network namespaces for integration tests: real kernel links (veth pairs) in a namespace of their own, so tests never
// touch the host's interfaces. Names are unique per process; destroy() removes the namespace and its links.
import { execFileSync, spawnSync } from 'node:child_process';

export interface KernelLink {
  name: string;
  ifindex: number;
  /** Flag names as `ip` prints them: UP, LOWER_UP, BROADCAST, … */
  flagNames: string[];
  up: boolean;
  /** IFF_RUNNING, which `ip` hides: the kernel sets it when the link is UP and operstate is UP or UNKNOWN. */
  running: boolean;
  lowerUp: boolean;
  operstate: string;
  mtu: number;
  /** Master link name, or undefined. */
  master: string | undefined;
  /** linkinfo.info_kind ('veth', …), '' when none. */
  kind: string;
}

export interface Netns {
  name: string;
  /** '/var/run/netns/NAME', for the addon's netns option. */
  path: string;
  /** Runs a command inside the namespace (`ip netns exec NAME cmd ...args`); returns stdout. Throws on failure. */
  exec(cmd: string, args?: string[]): string;
  /** Runs `ip -n NAME ...args`. */
  ip(args: string[]): string;
  addVethPair(a: string, b: string): void;
  set(name: string, state: 'up' | 'down'): void;
  mtu(name: string, mtu: number): void;
  del(name: string): void;
  /** Kernel truth from `ip -j -d link show`, loopback excluded. */
  links(): KernelLink[];
  destroy(): void;
}

let counter = 0;

function run(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 20_000 });
}

let probed: true | string | undefined;

/**
 * true when namespaces can be created here; otherwise the reason, for `describe.skipIf` messages. Probed once per
 * process (every test file asks), and the probe namespace is removed even when a step timed out half-way.
 */
export function canUseNetns(): true | string {
  probed ??= probeNetns();
  return probed;
}

function probeNetns(): true | string {
  if (process.platform !== 'linux') return `network namespaces need Linux (platform ${process.platform})`;
  if (process.getuid?.() !== 0) return 'network namespaces need root';
  const probe = `svprobe${process.pid}x${counter++}`;
  try {
    const add = spawnSync('ip', ['netns', 'add', probe], { encoding: 'utf8', timeout: 20_000 });
    if (add.error) return `cannot run ip: ${add.error.message}`;
    if (add.status !== 0) return `ip netns add failed: ${add.stderr.trim()}`;
    const veth = spawnSync('ip', ['-n', probe, 'link', 'add', 'p0', 'type', 'veth', 'peer', 'name', 'p1'], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    if (veth.status !== 0) return `veth links unavailable: ${veth.stderr.trim()}`;
    return true;
  } finally {
    removeProbe(probe);
  }
}

/** Deletes the probe namespace if it exists; a second try covers an `ip` killed by its timeout on a loaded machine. */
function removeProbe(name: string): void {
  for (let attempt = 0; attempt < 2; attempt++) {
    const del = spawnSync('ip', ['netns', 'del', name], { encoding: 'utf8', timeout: 20_000 });
    if (del.status === 0 || /No such file/.test(del.stderr ?? '')) return;
  }
}

interface IpLinkJson {
  ifname: string;
  ifindex: number;
  flags?: string[];
  mtu: number;
  operstate?: string;
  master?: string;
  linkinfo?: { info_kind?: string };
}

/** Creates a namespace named `${prefix}${pid}x${n}` (≤ 15 chars of prefix advised) with loopback up. */
export function createNetns(prefix = 'sv'): Netns {
  const name = `${prefix}${process.pid}x${counter++}`;
  run('ip', ['netns', 'add', name]);
  const ip = (args: string[]): string => run('ip', ['-n', name, ...args]);
  ip(['link', 'set', 'lo', 'up']);
  let destroyed = false;
  return {
    name,
    path: `/var/run/netns/${name}`,
    exec: (cmd, args = []) => run('ip', ['netns', 'exec', name, cmd, ...args]),
    ip,
    addVethPair: (a, b) => void ip(['link', 'add', a, 'type', 'veth', 'peer', 'name', b]),
    set: (link, state) => void ip(['link', 'set', 'dev', link, state]),
    mtu: (link, mtu) => void ip(['link', 'set', 'dev', link, 'mtu', String(mtu)]),
    del: (link) => void ip(['link', 'del', 'dev', link]),
    links: () =>
      (JSON.parse(ip(['-j', '-d', 'link', 'show'])) as IpLinkJson[])
        .filter((l) => l.ifname !== 'lo')
        .map((l) => {
          const flagNames = l.flags ?? [];
          const lowerUp = flagNames.includes('LOWER_UP');
          const operstate = l.operstate ?? 'UNKNOWN';
          return {
            name: l.ifname,
            ifindex: l.ifindex,
            flagNames,
            up: flagNames.includes('UP'),
            running: flagNames.includes('UP') && (operstate === 'UP' || operstate === 'UNKNOWN'),
            lowerUp,
            operstate,
            mtu: l.mtu,
            master: l.master,
            kind: l.linkinfo?.info_kind ?? '',
          };
        }),
    destroy: () => {
      if (destroyed) return;
      destroyed = true;
      spawnSync('ip', ['netns', 'del', name], { timeout: 20_000 });
    },
  };
}
