// The real syncvisor daemon for integration tests: the CLI from the sources through tsx (no build needed), run inside
// a network namespace under `ip netns exec`, and the kernel truth it must mirror in STATE_DB.
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Netns } from './netns.js';

const root = resolve(import.meta.dirname, '../..');

export interface RunningDaemon {
  process: ChildProcess;
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<number | null>;
}

/** `syncvisor run --config FILE` inside `ns`; stdout and stderr are appended to logPath. */
export function startDaemonIn(ns: Netns, configFile: string, logPath: string): RunningDaemon {
  const entry = `const { main } = await import(${JSON.stringify(pathToFileURL(join(root, 'src/cli/main.ts')).href)});
const code = await main(process.argv.slice(1)); process.exitCode = code; setImmediate(() => process.exit(code));`;
  const log = openSync(logPath, 'a');
  const argv = ['--import', 'tsx', '--input-type=module', '-e', entry, 'run', '--config', configFile];
  // `ip netns exec` execs the command, so this pid is the daemon's: kill -9 hits it directly.
  const child = spawn('ip', ['netns', 'exec', ns.name, process.execPath, ...argv], {
    cwd: root,
    stdio: ['ignore', log, log],
  });
  const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
  return { process: child, exited };
}

/** Kills the daemon (SIGKILL) if it still runs and waits for it. */
export async function killDaemon(d: RunningDaemon | undefined): Promise<void> {
  if (!d || d.process.exitCode !== null || d.process.signalCode !== null) return;
  d.process.kill('SIGKILL');
  await d.exited;
}

/** STATE_DB PORT_TABLE as portsync must write it for the kernel's links of `ns` whose names match `pattern`. */
export function kernelTruth(ns: Netns, pattern: RegExp): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  const carrierChanges = kernelCarrierChanges(ns);
  for (const l of ns.links()) {
    if (!pattern.test(l.name)) continue;
    out[l.name] = {
      state: 'ok',
      netdev_oper_status: l.running ? 'up' : 'down',
      admin_status: l.up ? 'up' : 'down',
      mtu: String(l.mtu),
      ...(carrierChanges.has(l.name) ? { carrier_changes: carrierChanges.get(l.name)! } : {}),
    };
  }
  return out;
}

/** Each link's carrier_changes counter (the kernel's IFLA_CARRIER_CHANGES), read from the namespace's sysfs. */
export function kernelCarrierChanges(ns: Netns): Map<string, string> {
  const out = new Map<string, string>();
  // `ip netns exec` mounts the namespace's own sysfs; names never hold ':' (the kernel refuses it).
  const text = ns.exec('sh', ['-c', 'grep -H . /sys/class/net/*/carrier_changes 2>/dev/null || true']);
  for (const line of text.split('\n')) {
    const m = /^\/sys\/class\/net\/([^/]+)\/carrier_changes:(\d+)$/.exec(line.trim());
    if (m) out.set(m[1]!, m[2]!);
  }
  return out;
}

/** Keys and fields sorted, for comparing hashes as JSON. */
export function sortedHashes(o: Record<string, Record<string, string>>): Record<string, Record<string, string>> {
  return Object.fromEntries(
    Object.keys(o)
      .sort()
      .map((k) => [k, Object.fromEntries(Object.entries(o[k]!).sort())]),
  );
}
