// Composition of the portsync service: the netlinkSource (owned by the supervisor, so a portsync restart keeps the
// kernel socket) and the portsync machine with its Redis owner (redisTables), metrics, and the warmRestart child
// with the state file store and the instrumentation of its own children provided. The warm-restart machines reach
// Redis only through redisTables (request/response events), so nothing here shares a connection.
import { Gauge } from 'prom-client';
import type { Config } from '../config/schema.js';
import type { MetricsHub } from '../io/http/metricsHub.js';
import type { Logger } from '../io/log.js';
import { loadDatabaseConfig } from '../config/databaseConfig.js';
import { createNetlinkSource } from '../actors/portsync/netlinkSource.js';
import { createRedisTables } from '../actors/portsync/redisTables.js';
import { createStateFileStore } from '../actors/warmRestart/stateFileStore.js';
import {
  appDbGateInstrumentation,
  stateFileInstrumentation,
  warmRestartInstrumentation,
} from '../actors/warmRestart/instrumentation.js';
import { warmRestartMetrics } from '../io/warmRestart/metrics.js';
import { portsyncMachine, type PortsyncInput } from '../machines/portsync/portsync.js';
import { warmRestartChildren, warmRestartMachine } from '../machines/warmRestart/warmRestart.js';
import type { ChildSpec } from '../machines/supervisor/spec.js';
import { printableText } from '../io/redis/byteText.js';

export interface PortsyncDeps {
  config: Config;
  logger: Logger;
  metrics: MetricsHub;
  /** redis:// URL or Unix socket path. */
  redisUrl: string;
  /** redisUrl is the embedded redis-server's socket (no persistence, so no dataset to load). */
  embeddedRedis?: boolean;
  /** Open the netlink socket in this network namespace (path, e.g. /var/run/netns/NAME). */
  netns?: string;
  /** Wall clock for the state file's savedAt and age (default Date.now). */
  now?: () => number;
}

/** The portsync machine with its I/O provided (exported for tests that run it without the supervisor). */
export function providedPortsyncMachine(deps: PortsyncDeps) {
  const registry = deps.metrics.global;
  // Throws DatabaseConfigError on a bad redis.databaseConfig file: a configuration error at start.
  const databases = loadDatabaseConfig(deps.config.redis.databaseConfig);
  const ports =
    (registry.getSingleMetric('syncvisor_portsync_ports') as Gauge | undefined) ??
    new Gauge({ name: 'syncvisor_portsync_ports', help: 'Ports portsync currently syncs.', registers: [registry] });
  const missing =
    (registry.getSingleMetric('syncvisor_portsync_missing_ports') as Gauge<'port'> | undefined) ??
    new Gauge({
      name: 'syncvisor_portsync_missing_ports',
      help: 'CONFIG_DB ports no netdev has appeared for (1 per port): PortInitDone cannot be sent, /readyz is 503.',
      labelNames: ['port'],
      registers: [registry],
    });
  const { logger, config } = deps;
  const instrumentation = { metrics: warmRestartMetrics(registry), logger };
  const store = createStateFileStore({
    path: config.stateFile.path,
    maxAgeDays: config.stateFile.maxAgeDays,
    logger,
    now: deps.now ?? Date.now,
  });
  return portsyncMachine.provide({
    actors: {
      redisTables: createRedisTables({
        url: deps.redisUrl,
        databases,
        logger,
        registry,
        backoff: { initialMs: 50, maxMs: deps.config.redis.reconnectMaxMs },
        ...(deps.embeddedRedis ? { noDataset: true } : {}),
      }),
      warmRestart: warmRestartMachine.provide({
        actors: {
          stateFile: warmRestartChildren.stateFile.provide({
            actors: store,
            actions: stateFileInstrumentation(instrumentation),
          }),
          appDbGate: warmRestartChildren.appDbGate.provide({ actions: appDbGateInstrumentation(instrumentation) }),
        },
        actions: warmRestartInstrumentation(instrumentation),
      }),
    },
    actions: {
      reportPortCount: (_, params) => ports.set(params.count),
      reportMissingPorts: (_, params) => {
        missing.reset();
        for (const port of params.names) missing.set({ port: printableText(port) }, 1);
        const awaiting = new Set(params.awaitingAppDb ?? []);
        const noNetdev = params.names.filter((n) => !awaiting.has(n));
        if (noNetdev.length > 0) {
          logger.warn(
            { missing: noNetdev.slice(0, 64), count: noNetdev.length },
            'PortInitDone not sent: configured ports have no netdev yet; not ready',
          );
        }
        if (awaiting.size > 0) {
          logger.warn(
            { missing: [...awaiting].slice(0, 64), count: awaiting.size },
            'PortInitDone not sent: orchagent has not consumed the APPL_DB PORT_TABLE entries of these ports yet; not ready',
          );
        }
      },
    },
  });
}

/** Upper bound of portsync's start-up reads before it requests the initial dump. */
const DUMP_PREPARE_MS = 10_000;
/** How long the source's first dump waits for portsync's request (longer than DUMP_PREPARE_MS). */
const START_DUMP_WAIT_MS = 12_000;

export function portsyncChildSpecs(deps: PortsyncDeps): ChildSpec[] {
  const input: PortsyncInput = {
    portPattern: deps.config.portsync.portPattern,
    linkRules: deps.config.sonic.linkRules,
    // Leave the supervisor's shutdown budget some room for the final state and the sources.
    drainTimeoutMs: Math.max(100, Math.floor(deps.config.supervisor.shutdownTimeoutMs * 0.8)),
    warmRestart: {
      timeoutSecs: deps.config.warmRestart.timeoutSecs,
      authority: deps.config.warmRestart.authority,
      checkEnableTable: deps.config.sonic.checkEnableTable,
    },
    eoiuMode: deps.config.eoiu.mode,
    stateFileDebounceMs: deps.config.stateFile.debounceMs,
    // The start-up reads (CONFIG_DB / STATE_DB, the state file, the warm/cold decision) before the initial dump.
    dumpPrepareMs: DUMP_PREPARE_MS,
  };
  return [
    {
      id: 'netlinkSource',
      systemId: 'netlinkSource',
      logic: createNetlinkSource({
        registry: deps.metrics.global,
        logger: deps.logger,
        ...(deps.netns !== undefined ? { netns: deps.netns } : {}),
        // portsync asks for the first dump once its start-up reads are done; a restarted source dumps on its own.
        startDumpWaitMs: START_DUMP_WAIT_MS,
      }),
      restart: 'permanent',
      shutdownOrder: 1,
    },
    {
      id: 'portsync',
      systemId: 'portsync',
      logic: providedPortsyncMachine(deps),
      input,
      restart: 'permanent',
      receives: ['netlink.'],
      drain: true,
      reportsReady: true,
      shutdownOrder: 0,
    },
  ];
}
