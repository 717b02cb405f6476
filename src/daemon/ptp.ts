// Composition of the ptp service: the socketServer (owned by the supervisor, so a sidecar restart keeps the listener
// and every connection) and the ptp sidecar machine with its loader, emit-logs GET and clock reporting provided.
// The current generation's registry is attached to the MetricsHub; a restart replaces it.
import type { Config } from '../config/schema.js';
import type { MetricsHub } from '../io/http/metricsHub.js';
import type { Logger } from '../io/log.js';
import type { PtpGeneration } from '../io/ptp/generation.js';
import type { PtpEventsHook } from './events.js';
import { createSocketServer, type SocketServerInput } from '../actors/ptp/socketServer.js';
import { createEmitLogs, createPtpLoader } from '../actors/ptp/ptpGeneration.js';
import { clockStateMachine } from '../machines/ptp/clockState.js';
import { ptpSidecarMachine, type PtpSidecarInput } from '../machines/ptp/ptpSidecar.js';
import { exitCodes, type ChildSpec } from '../machines/supervisor/spec.js';

export interface PtpDeps {
  config: Config;
  logger: Logger;
  metrics: MetricsHub;
  /** The events service's adapter (src/daemon/events.ts), when the events API runs. */
  events?: PtpEventsHook;
}

/** The sidecar machine with its I/O provided (exported for tests that run it without the supervisor). */
export function providedPtpSidecarMachine(deps: PtpDeps) {
  const { config, logger, metrics } = deps;
  const ptp = config.ptp;
  let current: PtpGeneration | undefined;
  metrics.attach(() => current?.registry);

  const clockState = clockStateMachine.provide({
    actions: {
      reportClockState: ({ context }, params) => {
        current?.setClockState(context.process, context.iface, params.to);
        deps.events?.clockChanged({ ...context, from: context.current, to: params.to });
        logger.info(
          { clock: context.key, profile: context.profile, from: context.current, to: params.to },
          'ptp clock state',
        );
      },
    },
  });

  return ptpSidecarMachine.provide({
    actors: {
      loadGeneration: createPtpLoader({
        profilePath: ptp.profilePath,
        configDir: ptp.configDir,
        nodeName: ptp.nodeName,
        registry: metrics.global,
        logger,
        onLoaded: (g) => {
          current?.stop();
          current = g;
          deps.events?.generationLoaded(g);
        },
      }),
      emitLogs: createEmitLogs(ptp.emitLogsUrl, ptp.emitLogsTimeoutMs),
      clockState,
    },
    actions: {
      acceptLiveStart: () => logger.info('CMD LIVE_START accepted'),
      ignoreUnknownCommand: ({ event }) =>
        logger.warn(
          { command: event.type === 'socket.command' ? event.command.slice(0, 200) : '' },
          'unknown CMD ignored',
        ),
      queueOverflowed: ({ context }, params) =>
        logger.warn(
          { dropped: params.dropped, queueMax: context.queueMax },
          'ptp line queue full: oldest lines dropped',
        ),
      logLoadFailed: ({ event }) =>
        logger.error({ err: String((event as { error?: unknown }).error) }, 'ptp load failed'),
      logGenerationLoaded: ({ context }) => logger.debug({ load: context.loads }, 'ptp generation ready'),
      logEmitLogsFailed: ({ event }) =>
        logger.warn(
          { url: ptp.emitLogsUrl, err: String((event as { error?: unknown }).error) },
          'emit-logs GET failed',
        ),
      logRestart: ({ context }) =>
        logger.info({ load: context.loads, clocks: Object.keys(context.clocks).length }, 'ptp sidecar restarting'),
    },
  });
}

export function ptpSidecarInput(config: Config): PtpSidecarInput {
  return {
    id: 'ptp',
    queueMax: config.ptp.queueMax,
    restartMode: config.ptp.restart.mode,
    emitLogs: config.ptp.emitLogsUrl !== '',
  };
}

export function ptpChildSpecs(deps: PtpDeps): ChildSpec[] {
  const { config, logger, metrics } = deps;
  const socketInput: SocketServerInput = {
    path: config.ptp.socketPath,
    maxLineBytes: config.ptp.maxLineBytes,
    maxConnections: config.ptp.maxConnections,
  };
  // The machine hard-codes 75 to stay free of imports; keep the two in step.
  void (exitCodes.ptpRestart satisfies 75);
  return [
    {
      id: 'socketServer',
      systemId: 'socketServer',
      logic: createSocketServer({ registry: metrics.global, logger }),
      input: socketInput,
      restart: 'permanent',
      shutdownOrder: 1,
    },
    {
      id: 'ptp',
      systemId: 'ptp',
      logic: providedPtpSidecarMachine(deps),
      input: ptpSidecarInput(config),
      restart: 'permanent',
      receives: ['socket.'],
      drain: true,
      reportsReady: true,
      shutdownOrder: 0,
    },
  ];
}
