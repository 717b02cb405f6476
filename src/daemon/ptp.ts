// Composition of the ptp service: the socketServer (owned by the supervisor, so a sidecar restart keeps the listener
// and every connection) and the ptp sidecar machine with its actors provided: the loader, the emit-logs GET, the
// data-plane actor (the serving generation: parser + metrics, attached to the MetricsHub while it serves) and the
// clock bank. The generation actor's invocation is the only owner of a generation: nothing here stops one. The line
// channel (src/actors/ptp/lineChannel.ts) is shared by the socketServer, the sidecar's attachLineSink /
// detachLineSink actions and the generation actor: the direct path of lines while the sidecar serves.
import { Counter } from 'prom-client';
import type { Config } from '../config/schema.js';
import type { MetricsHub } from '../io/http/metricsHub.js';
import { rateLimitedLog, type Logger } from '../io/log.js';
import type { PtpGeneration } from '../io/ptp/generation.js';
import type { PtpEventsHook } from './events.js';
import { createSocketServer, type SocketServerInput } from '../actors/ptp/socketServer.js';
import { configErrorCounter, createEmitLogs, createPtpLoader } from '../actors/ptp/ptpGeneration.js';
import { createGenerationActor } from '../actors/ptp/generationActor.js';
import { createClockBank } from '../actors/ptp/clockBank.js';
import { LineChannel, type SourceEventRecorder } from '../actors/ptp/lineChannel.js';
import { lifecycleSystemId } from '../machines/supervisor/supervisor.js';
import { PortAliasSource } from '../io/ptp/aliases.js';
import { DaemonCallLog, EmitLogsClient } from '../io/ptp/daemonApi.js';
import { ptpSidecarMachine, type PtpSidecarInput } from '../machines/ptp/ptpSidecar.js';
import type { ChildSpec } from '../machines/supervisor/spec.js';

export interface PtpDeps {
  config: Config;
  logger: Logger;
  metrics: MetricsHub;
  /** The events service's adapter (src/daemon/events.ts), when the events API runs. */
  events?: PtpEventsHook;
  /** With trace recording on: the lines taken directly are written as the socket.line events they replace. */
  recordSourceEvent?: SourceEventRecorder;
  /** The direct path of lines (made by ptpChildSpecs; absent: a channel of its own, used by nothing else). */
  lines?: LineChannel;
}

/** The direct path is off while a live inspector runs: it shows every socket.line, as the chart path sends them. */
export function directLinesEnabled(config: Config): boolean {
  return !config.inspect.enabled && !config.inspect.stately;
}

/** The sidecar machine with its I/O provided (exported for tests that run it without the supervisor). */
export function providedPtpSidecarMachine(deps: PtpDeps) {
  const { config, logger, metrics } = deps;
  const ptp = config.ptp;
  const lines = deps.lines ?? new LineChannel({ enabled: false });
  let serving: PtpGeneration | undefined;
  metrics.attach(() => serving?.registry);
  // A socket client can repeat these as fast as it writes: a few lines per window, then one "suppressed N".
  const warnUnknownCommand = rateLimitedLog(logger, 'warn', 'unknown CMD ignored');
  const warnQueueFull = rateLimitedLog(
    logger,
    'warn',
    'ptp line queue full: reading paused, lines already read dropped',
  );
  const queueDropped =
    (metrics.global.getSingleMetric('syncvisor_ptp_queue_dropped_lines_total') as Counter | undefined) ??
    new Counter({
      name: 'syncvisor_ptp_queue_dropped_lines_total',
      help: 'Lines read while the load queue (ptp.queueMaxBytes) was full, dropped.',
      registers: [metrics.global],
    });
  const socketServer = (system: { get(id: string): { send(e: { type: string }): void } | undefined }) =>
    system.get('socketServer');
  // linuxptp-daemon's HTTP side: quiet when no daemon answers (one log line, then the counter).
  const daemonLog = new DaemonCallLog(metrics.global, logger);
  const configErrors = configErrorCounter(metrics.global);
  const aliases = new PortAliasSource(
    {
      url: ptp.portAliasesUrl,
      timeoutMs: ptp.portAliasesTimeoutMs,
      retries: ptp.daemonRetries,
      retryDelayMs: ptp.daemonRetryDelayMs,
    },
    daemonLog,
    (problem) => {
      configErrors.inc({ source: 'portAliases' });
      logger.warn({ source: 'portAliases', problem }, 'ptp configuration skipped');
    },
  );
  const emitLogsClient = new EmitLogsClient(
    {
      url: ptp.emitLogsUrl,
      timeoutMs: ptp.emitLogsTimeoutMs,
      retries: ptp.daemonRetries,
      retryDelayMs: ptp.daemonRetryDelayMs,
      coalesceMs: ptp.emitLogsCoalesceMs,
    },
    daemonLog,
  );

  return ptpSidecarMachine.provide({
    actors: {
      loadGeneration: createPtpLoader({
        profilePath: ptp.profilePath,
        configDir: ptp.configDir,
        nodeName: ptp.nodeName,
        registry: metrics.global,
        logger,
        aliases,
      }),
      emitLogs: createEmitLogs(emitLogsClient),
      ptpGeneration: createGenerationActor({
        registry: metrics.global,
        logger,
        lines,
        attach: (g) => {
          serving = g;
          deps.events?.generationLoaded(g);
        },
        detach: (g) => {
          if (serving === g) serving = undefined;
        },
      }),
      clockBank: createClockBank(),
    },
    actions: {
      acceptLiveStart: () => logger.info('CMD LIVE_START accepted'),
      requestLogsForConnection: () => void emitLogsClient.request('connection'),
      ignoreUnknownCommand: ({ event }) =>
        warnUnknownCommand({ command: event.type === 'socket.command' ? event.command.slice(0, 200) : '' }),
      queueOverflowed: ({ context }, params) => {
        queueDropped.inc(params.dropped);
        warnQueueFull({ dropped: params.dropped, queueMaxBytes: context.queueMaxBytes });
      },
      pauseReading: ({ system }) => socketServer(system)?.send({ type: 'socket.pause' }),
      resumeReading: ({ system }) => socketServer(system)?.send({ type: 'socket.resume' }),
      attachLineSink: () => lines.attach(),
      detachLineSink: () => lines.detach(),
      logLoadFailed: ({ event }) =>
        logger.error({ err: String((event as { error?: unknown }).error) }, 'ptp load failed'),
      discardGeneration: ({ event }) => (event as { output?: { stop(): void } }).output?.stop(),
      logGenerationLoaded: ({ context }) => logger.debug({ load: context.loads }, 'ptp generation ready'),
      logEmitLogsFailed: ({ event }) =>
        logger.warn(
          { url: ptp.emitLogsUrl, err: String((event as { error?: unknown }).error) },
          'emit-logs GET failed',
        ),
      logRestart: ({ context }) =>
        logger.info(
          {
            load: context.loads,
            clocks: context.clockCounts.LOCKED + context.clockCounts.HOLDOVER + context.clockCounts.FREERUN,
          },
          'ptp sidecar restarting',
        ),
      logClockState: (_, e) => {
        deps.events?.clockChanged(e);
        logger.info(
          { clock: e.key, profile: e.profile, from: e.from, to: e.to, offset: e.offset, clockClass: e.clockClass },
          'ptp clock state',
        );
      },
    },
  });
}

export function ptpSidecarInput(config: Config): PtpSidecarInput {
  return {
    id: 'ptp',
    queueMaxBytes: config.ptp.queueMaxBytes,
    restartMode: config.ptp.restart.mode,
    emitLogs: config.ptp.emitLogsUrl !== '',
  };
}

export function ptpChildSpecs(deps: PtpDeps): ChildSpec[] {
  const { config, logger, metrics } = deps;
  const lines =
    deps.lines ??
    new LineChannel({
      enabled: directLinesEnabled(config),
      ...(deps.recordSourceEvent
        ? { record: { write: deps.recordSourceEvent, as: lifecycleSystemId('socketServer') } }
        : {}),
    });
  const socketInput: SocketServerInput = {
    path: config.ptp.socketPath,
    maxLineBytes: config.ptp.maxLineBytes,
    maxConnections: config.ptp.maxConnections,
    idleTimeoutMs: config.ptp.idleTimeoutMs,
  };
  return [
    {
      id: 'socketServer',
      systemId: 'socketServer',
      logic: createSocketServer({ registry: metrics.global, logger, lines }),
      input: socketInput,
      restart: 'permanent',
      reportsReady: true,
      shutdownOrder: 1,
    },
    {
      id: 'ptp',
      systemId: 'ptp',
      logic: providedPtpSidecarMachine({ ...deps, lines }),
      input: ptpSidecarInput(config),
      restart: 'permanent',
      receives: ['socket.'],
      drain: true,
      reportsReady: true,
      shutdownOrder: 0,
    },
  ];
}
