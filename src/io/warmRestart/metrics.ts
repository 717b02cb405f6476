// The warm-restart metrics (docs/warm-restart.md), registered once per registry. The composition
// module increments them from the named actions of the warmRestart, stateFile and appDbGate machines.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export interface WarmRestartMetrics {
  coldStarts: Counter;
  warmRestarts: Counter;
  eoiuDetected: Counter;
  eoiuTimeouts: Counter;
  stateSaveFailures: Counter;
  stateSaves: Counter;
  /** Label reason: parse | checksum | version | shape | unreadable. */
  stateLoadFailures: Counter<'reason'>;
  stateRecoveries: Counter;
  initialSyncDuration: Histogram;
  appDbHeldKeys: Gauge;
  /** Label op: set | del. */
  appDbReconcileWrites: Counter<'op'>;
}

const cache = new WeakMap<Registry, WarmRestartMetrics>();

export function warmRestartMetrics(registry: Registry): WarmRestartMetrics {
  const known = cache.get(registry);
  if (known) return known;
  const registers = [registry];
  const metrics: WarmRestartMetrics = {
    coldStarts: new Counter({
      name: 'syncvisor_warm_restart_cold_starts_total',
      help: 'portsync starts that were cold (no valid fresh state file, or warm restart not enabled).',
      registers,
    }),
    warmRestarts: new Counter({
      name: 'syncvisor_warm_restarts_total',
      help: 'portsync starts that were warm (state file restored).',
      registers,
    }),
    eoiuDetected: new Counter({
      name: 'syncvisor_eoiu_detected_total',
      help: 'Warm-restart initial syncs ended by end-of-initial-update detection.',
      registers,
    }),
    eoiuTimeouts: new Counter({
      name: 'syncvisor_eoiu_timeouts_total',
      help: 'Warm-restart initial syncs ended by the timeout guard (including a zero timeout).',
      registers,
    }),
    stateSaveFailures: new Counter({
      name: 'syncvisor_state_save_failures_total',
      help: 'Failed saves of the warm-restart state file (retried later).',
      registers,
    }),
    stateSaves: new Counter({
      name: 'syncvisor_state_saves_total',
      help: 'Successful atomic saves of the warm-restart state file.',
      registers,
    }),
    stateLoadFailures: new Counter({
      name: 'syncvisor_state_load_failures_total',
      help: 'State files (current or backup) that could not be used, by reason. A missing file is not counted.',
      labelNames: ['reason'],
      registers,
    }),
    stateRecoveries: new Counter({
      name: 'syncvisor_state_recoveries_total',
      help: 'Starts that used the .backup state file because the current one failed to load.',
      registers,
    }),
    initialSyncDuration: new Histogram({
      name: 'syncvisor_initial_sync_duration_seconds',
      help: 'Time from the start of a warm-restart initial sync to EOIU or the timeout.',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120],
      registers,
    }),
    appDbHeldKeys: new Gauge({
      name: 'syncvisor_app_db_held_keys',
      help: 'APP_DB PORT_TABLE keys held by the closed gate during a warm-restart initial sync.',
      registers,
    }),
    appDbReconcileWrites: new Counter({
      name: 'syncvisor_app_db_reconcile_writes_total',
      help: 'APP_DB PORT_TABLE writes made by the gate reconciliation after a warm restart, by op.',
      labelNames: ['op'],
      registers,
    }),
  };
  cache.set(registry, metrics);
  return metrics;
}
