// Actors of the ptp sidecar: load a generation (ConfigMap, then INI files) and GET ptp.emitLogsUrl after a load.
import { fromPromise } from 'xstate';
import { Counter, type Registry } from 'prom-client';
import type { Logger } from 'pino';
import { loadPtpGeneration, type PtpGeneration } from '../../io/ptp/generation.js';
import type { SidecarGeneration } from '../../machines/ptp/ptpSidecar.js';

export interface PtpLoaderDeps {
  profilePath: string;
  configDir: string;
  nodeName: string;
  /** The process-wide registry: the config error counter outlives generations. */
  registry: Registry;
  logger: Logger;
  /** Told about every loaded generation (e.g. to attach its registry to /metrics). */
  onLoaded?: (generation: PtpGeneration) => void;
}

export function createPtpLoader(deps: PtpLoaderDeps) {
  const errors =
    (deps.registry.getSingleMetric('syncvisor_ptp_config_errors_total') as Counter<'source'> | undefined) ??
    new Counter({
      name: 'syncvisor_ptp_config_errors_total',
      help: 'Malformed PTP configuration files or entries, skipped (source: configMap, configFile).',
      labelNames: ['source'],
      registers: [deps.registry],
    });
  return fromPromise<SidecarGeneration, { load: number }>(async ({ input }) => {
    const generation = await loadPtpGeneration({
      profilePath: deps.profilePath,
      configDir: deps.configDir,
      nodeName: deps.nodeName,
      onError: (source, message) => {
        errors.inc({ source });
        deps.logger.warn({ source, problem: message }, 'ptp configuration skipped');
      },
    });
    deps.onLoaded?.(generation);
    deps.logger.info({ load: input.load, ...generation.toJSON() }, 'ptp configuration loaded');
    return generation;
  });
}

/** GET `url` with a timeout; resolves on any HTTP answer, rejects on a network error or timeout. */
export function createEmitLogs(url: string, timeoutMs: number) {
  return fromPromise<void, { load: number }>(async ({ signal }) => {
    const res = await fetch(url, { signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]) });
    await res.body?.cancel();
    if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status}`);
  });
}
