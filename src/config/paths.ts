// Where the daemon writes. As root (systemd, the container image) the standard paths of the schema's defaults; as a
// normal user (a developer's `npm start`) runtime files under $XDG_RUNTIME_DIR and the state file under
// $XDG_STATE_HOME, so that nothing is created at the root of the filesystem. A key set explicitly always wins.
// checkWritable() turns a directory the daemon cannot write into one clear configuration error at start.
import { accessSync, constants, mkdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { ConfigError } from './load.js';
import type { Config } from './schema.js';

/** The keys that name a path the daemon writes, and their per-user default. */
export const userPathKeys = ['redis.runtimeDir', 'ptp.socketPath', 'stateFile.path'] as const;

export interface UserDirs {
  runtime: string;
  state: string;
}

export function userDirs(env: NodeJS.ProcessEnv, uid: number): UserDirs {
  const xdgRuntime = env.XDG_RUNTIME_DIR?.startsWith('/') ? env.XDG_RUNTIME_DIR : undefined;
  const xdgState = env.XDG_STATE_HOME?.startsWith('/') ? env.XDG_STATE_HOME : undefined;
  const home = env.HOME?.startsWith('/') ? env.HOME : homedir();
  return {
    runtime: xdgRuntime ? join(xdgRuntime, 'syncvisor') : `/tmp/syncvisor-${uid}`,
    state: join(xdgState ?? join(home, '.local/state'), 'syncvisor'),
  };
}

export function effectivePathMode(config: Config, uid: number): 'system' | 'user' {
  if (config.paths.mode !== 'auto') return config.paths.mode;
  return uid === 0 ? 'system' : 'user';
}

/** Replaces the default of every write path not set explicitly by its per-user one, in user mode. */
export function resolvePaths(
  config: Config,
  isExplicit: (key: string) => boolean,
  env: NodeJS.ProcessEnv,
  uid: number = process.getuid?.() ?? 0,
): Config {
  if (effectivePathMode(config, uid) === 'system') return config;
  const dirs = userDirs(env, uid);
  const out: Config = {
    ...config,
    redis: { ...config.redis },
    ptp: { ...config.ptp },
    stateFile: { ...config.stateFile },
  };
  if (!isExplicit('redis.runtimeDir')) out.redis.runtimeDir = join(dirs.runtime, 'redis');
  if (!isExplicit('ptp.socketPath')) out.ptp.socketPath = join(dirs.runtime, 'events.sock');
  if (!isExplicit('stateFile.path')) out.stateFile.path = join(dirs.state, 'portsyncd.json');
  return out;
}

/** The directories the enabled services will write into, with the key that names each. */
export function writableDirs(config: Config): Array<{ key: string; dir: string }> {
  const out: Array<{ key: string; dir: string }> = [];
  if (config.services.includes('portsync')) {
    if (!config.redis.url) out.push({ key: 'redis.runtimeDir', dir: config.redis.runtimeDir });
    out.push({ key: 'stateFile.path', dir: dirname(config.stateFile.path) });
  }
  if (config.services.includes('ptp')) out.push({ key: 'ptp.socketPath', dir: dirname(config.ptp.socketPath) });
  if (config.trace.path) out.push({ key: 'trace.path', dir: dirname(config.trace.path) });
  return out;
}

/**
 * Creates each missing directory (0750) and checks that the daemon can write into it. Throws one ConfigError naming
 * every key whose directory is not usable, with the way out.
 */
export function checkWritable(config: Config, uid: number = process.getuid?.() ?? 0): void {
  const problems: string[] = [];
  for (const { key, dir } of writableDirs(config)) {
    try {
      mkdirSync(dir, { recursive: true, mode: 0o750 });
      if (!statSync(dir).isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
      accessSync(dir, constants.W_OK | constants.X_OK);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      problems.push(
        `config key "${key}": directory ${dir} is not writable (${code})${
          uid === 0 ? '' : '; run as root, set the key to a path you own, or use --set paths.mode=user'
        }`,
      );
    }
  }
  if (problems.length > 0) throw new ConfigError(problems.join('\n'));
}
