// Actors of the ptp sidecar: load a generation (linuxptp-daemon's port aliases, the ConfigMap, then the INI files)
// and GET linuxptp-daemon's emit-logs after a load.
import { fromPromise } from 'xstate';
import { Counter, type Registry } from 'prom-client';
import type { Logger } from 'pino';
import { loadPtpGeneration, type PtpGeneration } from '../../io/ptp/generation.js';
import type { PortAliasSource } from '../../io/ptp/aliases.js';
import type { EmitLogsClient } from '../../io/ptp/daemonApi.js';
import type { SidecarGeneration } from '../../machines/ptp/ptpSidecar.js';

export interface PtpLoaderDeps {
  profilePath: string;
  configDir: string;
  nodeName: string;
  /** The process-wide registry: the config error counter outlives generations. */
  registry: Registry;
  logger: Logger;
  /** Refreshed at each load (cached: the last good map when the daemon does not answer). */
  aliases?: PortAliasSource;
  /** Told about every loaded generation (e.g. to attach its registry to /metrics). */
  onLoaded?: (generation: PtpGeneration) => void;
}

export type ConfigErrorSource = 'configMap' | 'configFile' | 'portAliases';

/** The process-wide counter of skipped configuration (files, entries, alias entries). */
export function configErrorCounter(registry: Registry): Counter<'source'> {
  return (
    (registry.getSingleMetric('syncvisor_ptp_config_errors_total') as Counter<'source'> | undefined) ??
    new Counter({
      name: 'syncvisor_ptp_config_errors_total',
      help: 'Malformed PTP configuration files or entries, skipped (source: configMap, configFile, portAliases).',
      labelNames: ['source'],
      registers: [registry],
    })
  );
}

export function createPtpLoader(deps: PtpLoaderDeps) {
  const errors = configErrorCounter(deps.registry);
  return fromPromise<SidecarGeneration, { load: number }>(async ({ input, signal }) => {
    // Bounded (timeout × attempts); never rejects: the cached map when the daemon does not answer. The files are read
    // while it is in flight (the generation is built once both are there).
    const aliases = deps.aliases?.refresh(signal);
    const generation = await loadPtpGeneration({
      profilePath: deps.profilePath,
      configDir: deps.configDir,
      nodeName: deps.nodeName,
      aliases,
      onError: (source, message) => {
        errors.inc({ source });
        deps.logger.warn({ source, problem: message }, 'ptp configuration skipped');
      },
    });
    deps.onLoaded?.(generation);
    deps.logger.info(
      { load: input.load, ...generation.toJSON(), aliases: generation.aliases.size },
      'ptp configuration loaded',
    );
    return generation;
  });
}

/**
 * GET emit-logs after a load so the daemon replays its state into the (fresh) generation. Resolves when the call is
 * done or failed: failures are logged quietly and counted by the client, never an error of the sidecar.
 */
export function createEmitLogs(client: EmitLogsClient) {
  return fromPromise<void, { load: number }>(async () => {
    await client.request('load');
  });
}
