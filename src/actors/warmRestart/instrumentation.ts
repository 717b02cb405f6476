// Implementations of the counting/logging named actions of the warm-restart machines (warmRestart, stateFile,
// appDbGate) on top of src/io/warmRestart/metrics.ts and pino. The composition module spreads them into
// machine.provide({ actions: { ...stateFileInstrumentation(deps), ... } }) next to the I/O actions it owns
// (Redis bookkeeping, gate wiring). Log once, where the decision is made: these are those places.
import type { Logger } from '../../io/log.js';
import type { WarmRestartMetrics } from '../../io/warmRestart/metrics.js';
import type { CompletionReason } from '../../machines/warmRestart/warmRestart.js';
import type { StateFileSlot } from '../../machines/warmRestart/stateFile.js';

export interface InstrumentationDeps {
  metrics: WarmRestartMetrics;
  logger: Logger;
  /** Monotonic milliseconds (performance.now) for the initial-sync histogram. */
  monotonicMs?: () => number;
}

export function stateFileInstrumentation({ metrics, logger }: InstrumentationDeps) {
  return {
    countLoadFailure: (_: unknown, p: { slot: StateFileSlot; reason: string; message: string }) => {
      metrics.stateLoadFailures.inc({ reason: p.reason });
      logger.warn({ slot: p.slot, reason: p.reason, err: p.message }, 'warm-restart state file not usable');
    },
    countRecovery: () => {
      metrics.stateRecoveries.inc();
      logger.warn('warm-restart state recovered from the .backup file');
    },
    countSaveFailure: (_: unknown, p: { message: string }) => {
      metrics.stateSaveFailures.inc();
      logger.error({ err: p.message }, 'warm-restart state file save failed; will retry');
    },
    countSaved: () => metrics.stateSaves.inc(),
    logCleanup: (_: unknown, p: { deleted: StateFileSlot[]; currentAgeDays: number | undefined }) => {
      // Stale files (older than stateFile.maxAgeDays) are removed at start; nothing removed is not news.
      logger[p.deleted.length > 0 ? 'info' : 'debug'](
        { deleted: p.deleted, currentAgeDays: p.currentAgeDays },
        'warm-restart state file cleanup',
      );
    },
    logCleanupFailure: (_: unknown, p: { message: string }) => {
      logger.warn({ err: p.message }, 'warm-restart state file cleanup failed');
    },
    logFutureVersion: (_: unknown, p: { message: string }) => {
      logger.warn({ err: p.message }, 'warm-restart state file written by a newer version: cold start');
    },
  };
}

export function warmRestartInstrumentation({
  metrics,
  logger,
  monotonicMs = () => performance.now(),
}: InstrumentationDeps) {
  let startedAt: number | undefined;
  return {
    countColdStart: () => metrics.coldStarts.inc(),
    countWarmStart: () => metrics.warmRestarts.inc(),
    countEoiuDetected: () => metrics.eoiuDetected.inc(),
    countEoiuTimeout: () => metrics.eoiuTimeouts.inc(),
    recordInitialSyncStart: () => {
      startedAt = monotonicMs();
    },
    recordInitialSyncEnd: (_: unknown, p: { reason: CompletionReason }) => {
      const seconds = startedAt === undefined ? 0 : (monotonicMs() - startedAt) / 1000;
      metrics.initialSyncDuration.observe(seconds);
      logger.info({ reason: p.reason, seconds }, 'warm-restart initial sync complete');
    },
    logDecision: (_: unknown, p: { mode: 'warm' | 'cold'; why: string; timeoutSecs: number }) => {
      logger.info({ mode: p.mode, why: p.why, timeoutSecs: p.timeoutSecs }, `${p.mode} start`);
    },
  };
}

export function appDbGateInstrumentation({ metrics, logger }: InstrumentationDeps) {
  return {
    heldKeysChanged: (_: unknown, p: { count: number }) => metrics.appDbHeldKeys.set(p.count),
    countReconcileWrites: (_: unknown, p: { set: number; del: number }) => {
      metrics.appDbReconcileWrites.inc({ op: 'set' }, p.set);
      metrics.appDbReconcileWrites.inc({ op: 'del' }, p.del);
      logger.info({ set: p.set, del: p.del }, 'APP_DB reconciled; gate open');
    },
    logReconcileFailure: (_: unknown, p: { message: string; attempt: number }) => {
      logger.warn({ err: p.message, attempt: p.attempt }, 'APP_DB reconcile failed; holding and retrying');
    },
  };
}
