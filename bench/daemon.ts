// Runs the real daemon in this process (src/daemon/main.ts startDaemon, silent logger), with config flags, for the
// benchmarks that measure through the whole actor tree.
import { loadConfig } from '../src/config/load.js';
import { silentLogger } from '../src/io/log.js';
import { healthOf, startDaemon, type RunningDaemon } from '../src/daemon/main.js';
import { waitFor } from './measure.js';

export async function startBenchDaemon(flags: Record<string, string>): Promise<RunningDaemon> {
  const config = loadConfig({ flags: { 'http.listen': '127.0.0.1:0', ...flags } });
  const daemon = await startDaemon({ config, logger: silentLogger });
  await waitFor('the daemon to be ready', () => healthOf(daemon.root).ready, 30_000, 5);
  return daemon;
}

export async function stopBenchDaemon(daemon: RunningDaemon): Promise<void> {
  daemon.root.send({ type: 'shutdown', reason: 'benchmark done' });
  await daemon.done;
}
