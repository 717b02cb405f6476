// The embedded redis-server's start, apart from the rest of the composition: the CLI starts it as soon as the
// configuration is loaded, before the daemon's modules are (start-up, docs/performance.md). Only type imports of the
// project here; the module that spawns the server (and node:child_process) is loaded when a server is started.
import { constants as osConstants } from 'node:os';
import type { Config } from '../config/schema.js';
import type { EmbeddedRedis } from '../io/redis/embedded.js';

/** Whether this configuration runs the embedded redis-server (portsync without redis.url). */
export const usesEmbeddedRedis = (config: Config): boolean => config.services.includes('portsync') && !config.redis.url;

/** A started embedded redis-server: resolves once it answers on its socket (or rejects with a clear error). */
export interface EmbeddedStart {
  server: Promise<EmbeddedRedis>;
}

/**
 * Spawns the embedded redis-server when the configuration asks for one (undefined otherwise). Resolves once the
 * process is spawned, not once it answers (`server`): the CLI calls it as soon as the configuration is loaded, so the
 * server comes up while the daemon's modules load and the tree is built. The caller hands `server` to startDaemon,
 * or stops it (stopEmbeddedRedis) when it never gets there.
 */
export async function spawnEmbeddedRedis(config: Config): Promise<EmbeddedStart | undefined> {
  if (!usesEmbeddedRedis(config)) return undefined;
  const { startEmbeddedRedis } = await import('../io/redis/embedded.js');
  // Spawns within this call (after the lock, and the shutdown of an orphan left on the socket, if any).
  const server = startEmbeddedRedis({ runtimeDir: config.redis.runtimeDir });
  server.catch(() => undefined); // awaited by its owner
  return { server };
}

/** Stops a server started by spawnEmbeddedRedis, whether or not it came up. */
export async function stopEmbeddedRedis(started: Promise<EmbeddedRedis> | undefined): Promise<void> {
  await started?.then(
    (e) => e.stop(),
    () => undefined,
  );
}

const stopSignals: NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGQUIT'];

/**
 * Until startDaemon installs the daemon's signal handlers, SIGTERM / SIGINT / SIGQUIT would end the process at once
 * and leave the spawned server running (it leads its own process group). Meanwhile such a signal stops the server
 * and exits with 128 + the signal's number, as the signal would have. Returns the function that removes this guard
 * (called once startDaemon returned: its own handlers are in place then).
 */
export function stopEmbeddedRedisOnSignal(started: EmbeddedStart, exit = (code: number) => process.exit(code)) {
  const onSignal = (sig: NodeJS.Signals): void => {
    off();
    void stopEmbeddedRedis(started.server).finally(() => exit(128 + osConstants.signals[sig]));
  };
  const off = (): void => {
    for (const s of stopSignals) process.off(s, onSignal);
  };
  for (const s of stopSignals) process.on(s, onSignal);
  return off;
}
