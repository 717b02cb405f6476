// Where the embedded redis-server listens: known before it is started (the daemon builds its tree with it while the
// server comes up), without loading the module that spawns it (node:child_process).
import { join } from 'node:path';

/** The socket of the embedded server in `runtimeDir`. */
export function embeddedSocketPath(runtimeDir: string): string {
  return join(runtimeDir, 'redis.sock');
}
