// The composition root: builds the actor tree from the configuration, provides the real I/O, wires signals and
// exit codes. Everything here is glue; behaviour lives in src/machines, I/O in src/io.
import { createActor, type InspectionEvent } from 'xstate';
import { Counter, Gauge } from 'prom-client';
import type { Config } from '../config/schema.js';
import { createHttpServerLogic } from '../actors/http/httpServer.js';
import { ConfigError } from '../config/load.js';
import { fdBudget, reservedFds } from '../io/fs/fdLimit.js';
import { MetricsHub } from '../io/http/metricsHub.js';
import type { HealthStatus } from '../io/http/server.js';
import type { Logger } from '../io/log.js';
import type { EmbeddedRedis } from '../io/redis/embedded.js';
import { embeddedSocketPath } from '../io/redis/embeddedSocket.js';
import { spawnEmbeddedRedis, stopEmbeddedRedis } from './embeddedStart.js';
import { childView, supervisorMachine, type SupervisorActor } from '../machines/supervisor/supervisor.js';
import { exitCodes, type ChildSpec } from '../machines/supervisor/spec.js';
import { embeddedRedisChildSpec } from './embeddedRedis.js';
import { ptpChildSpecs } from './ptp.js';
import type { SourceEventRecorder } from '../actors/ptp/lineChannel.js';
import { installSignalHandlers } from './signals.js';
import { createEventsService } from './events.js';

export interface DaemonOptions {
  config: Config;
  logger: Logger;
  /** Inspection observers (local inspector, Stately inspector, trace recorder); none means no observer at all. */
  inspectors?: Array<(ev: InspectionEvent) => void>;
  /**
   * With trace recording on: writes a source event that did not pass through XState (a PTP line batch taken by the
   * direct path) as the event it replaces.
   */
  recordSourceEvent?: SourceEventRecorder;
  /** Called once the supervisor runs (tests, the inspector). */
  onStarted?: (root: SupervisorActor) => void;
  /** Register process signal handlers (off in tests that run the daemon in-process). */
  handleSignals?: boolean;
  /**
   * The embedded redis-server, already started by the caller (spawnEmbeddedRedis): startDaemon owns it from the
   * call on (stops it when the start fails, supervises it, stops it last). Without it, startDaemon starts the server
   * itself when portsync runs without redis.url.
   */
  embeddedRedis?: Promise<EmbeddedRedis>;
}

export interface RunningDaemon {
  root: SupervisorActor;
  metrics: MetricsHub;
  /** Resolves with the process exit code once the supervisor has shut down and the embedded Redis is gone. */
  done: Promise<number>;
}

function supervisorMetrics(hub: MetricsHub, root: SupervisorActor): void {
  const restarts = new Counter({
    name: 'syncvisor_child_restarts_total',
    help: 'Restarts of a supervised child after it failed or finished.',
    labelNames: ['child'],
    registers: [hub.global],
  });
  const up = new Gauge({
    name: 'syncvisor_child_up',
    help: '1 while a supervised child runs, 0 while it is down or in backoff.',
    labelNames: ['child'],
    registers: [hub.global],
  });
  for (const id of root.getSnapshot().context.order) {
    restarts.labels(id).inc(0);
    up.labels(id).set(1);
  }
  root.on('child.restarted', (e) => restarts.labels(e.id).inc());
  root.on('child.up', (e) => up.labels(e.id).set(1));
  root.on('child.down', (e) => up.labels(e.id).set(0));
}

/**
 * The level of the exit lines: a clean stop or a requested process restart is news at info; a failure the operator
 * must look at (restart intensity, a bug: 70) is the error line of the run; any other code (a configuration error,
 * a permanent listen error) has already been said at error by whoever asked for the exit, so it is a warning here.
 */
const exitLevel = (code: number | undefined): 'info' | 'warn' | 'error' =>
  code === undefined || code === exitCodes.ok || code === exitCodes.tempfail
    ? 'info'
    : code === exitCodes.software
      ? 'error'
      : 'warn';

export function healthOf(root: SupervisorActor): HealthStatus {
  const snap = root.getSnapshot();
  const detail: Record<string, unknown> = {};
  let ready = true;
  for (const id of snap.context.order) {
    const c = childView(root, id);
    const reports = snap.context.specs[id]!.reportsReady === true;
    detail[id] = { status: c.status, ...(reports ? { ready: c.ready } : {}), restarts: c.totalRestarts };
    if (c.status !== 'running' || (reports && !c.ready)) ready = false;
  }
  const live = snap.status === 'active' && snap.matches('running');
  return { live, ready, detail };
}

/** The connection caps plus a reserve must fit in RLIMIT_NOFILE (raised to its hard limit); a ConfigError if not. */
function checkFdBudget(config: Config, logger: Logger): void {
  const caps = config.http.maxConnections + (config.services.includes('ptp') ? config.ptp.maxConnections : 0);
  const fds = fdBudget(caps);
  if (!fds.fits)
    throw new ConfigError(
      `http.maxConnections + ptp.maxConnections (${caps}) plus ${reservedFds} reserved descriptors exceed the open-file limit (${fds.soft}; hard ${fds.hard}): lower the caps or raise LimitNOFILE / ulimit -n`,
    );
  logger.debug({ nofile: fds.soft, caps, reserved: reservedFds }, 'file descriptor budget');
}

export async function startDaemon(opts: DaemonOptions): Promise<RunningDaemon> {
  let embeddedStart = opts.embeddedRedis;
  try {
    checkFdBudget(opts.config, opts.logger);
    embeddedStart ??= (await spawnEmbeddedRedis(opts.config))?.server;
    return await startTree(opts, embeddedStart);
  } catch (err) {
    // e.g. a bad database_config.json or a descriptor budget that does not fit: no redis-server left behind
    await stopEmbeddedRedis(embeddedStart);
    throw err;
  }
}

async function startTree(
  opts: DaemonOptions,
  embeddedStart: Promise<EmbeddedRedis> | undefined,
): Promise<RunningDaemon> {
  const { config, logger } = opts;
  const metrics = new MetricsHub();
  // portsync's modules (ioredis among them) are loaded only when the service runs: a ptp-only daemon starts without
  // them (start-up, docs/performance.md). The embedded redis-server (started by the caller, or by startDaemon) comes
  // up meanwhile: the tree is built with its socket path, known in advance (the Redis clients connect once it
  // answers), and it is awaited before the tree starts: a missing binary is still a start error, and nothing runs
  // before it.
  const portsyncModule = config.services.includes('portsync') ? import('./portsync.js') : undefined;
  let embedded: EmbeddedRedis | undefined;
  const redisUrl = embeddedStart ? embeddedSocketPath(config.redis.runtimeDir) : config.redis.url;

  // /readyz asks the root, which exists only once the child specs (http among them) are built.
  const started: { root?: SupervisorActor } = {};
  const status = (): HealthStatus =>
    started.root ? healthOf(started.root) : { live: false, ready: false, detail: {} };
  const children: ChildSpec[] = [];
  if (portsyncModule) {
    const { portsyncChildSpecs } = await portsyncModule;
    children.push(
      ...portsyncChildSpecs({
        config,
        logger: logger.child({ svc: 'portsync' }),
        metrics,
        redisUrl,
        embeddedRedis: embeddedStart !== undefined,
      }),
    );
  }
  if (config.services.includes('ptp')) {
    const events = createEventsService({ config, logger: logger.child({ svc: 'ptp' }), metrics });
    children.push(
      ...ptpChildSpecs({
        config,
        logger: logger.child({ svc: 'ptp' }),
        metrics,
        events: events.hook,
        ...(opts.recordSourceEvent ? { recordSourceEvent: opts.recordSourceEvent } : {}),
      }),
    );
    children.push(events.childSpec);
  }
  if (embeddedStart) {
    embedded = await embeddedStart;
    logger.info({ socket: embedded.socket, pid: embedded.pid }, 'embedded redis-server started');
  }
  // --- embedded redis-server: a supervised child (restarted when it dies), stopped after everything else ---
  if (embedded) children.push(embeddedRedisChildSpec(embedded, logger));
  // --- end embedded redis-server ---
  children.push({
    id: 'http',
    systemId: 'http',
    logic: createHttpServerLogic({
      listen: config.http.listen,
      maxConnections: config.http.maxConnections,
      idleTimeoutMs: config.http.idleTimeoutMs,
      maxRequestsInFlight: config.http.maxRequestsInFlight,
      metrics,
      status,
      logger,
    }),
    restart: 'permanent',
    shutdownOrder: 2,
  });

  const inspectors = opts.inspectors ?? [];
  const root = createActor(supervisorMachine, {
    systemId: 'supervisor',
    input: {
      children,
      maxRestarts: config.supervisor.maxRestarts,
      periodMs: config.supervisor.periodMs,
      backoff: config.supervisor.backoff,
      shutdownTimeoutMs: config.supervisor.shutdownTimeoutMs,
    },
    // No observer at all unless asked for: inspection costs nothing when off.
    ...(inspectors.length > 0 ? { inspect: (ev: InspectionEvent) => inspectors.forEach((i) => i(ev)) } : {}),
  });
  const actor = root;
  started.root = root;
  // Children going down during a shutdown is the plan, not news.
  let shuttingDown = false;
  let resolveDeadline: ((code: number) => void) | undefined;
  const deadline = new Promise<number>((resolve) => (resolveDeadline = resolve));
  root.on('supervisor.shuttingDown', (e) => {
    shuttingDown = true;
    logger[exitLevel(e.exitCode)]({ exitCode: e.exitCode, reason: e.reason }, 'shutting down');
    // Each phase has shutdownTimeoutMs; should the tree still not finish (a child stuck in a synchronous stop), the
    // daemon exits anyway, one second after the last phase's deadline, with EX_SOFTWARE.
    const phases = new Set(children.map((c) => c.shutdownOrder ?? 0)).size;
    const limitMs = phases * config.supervisor.shutdownTimeoutMs + 1_000;
    setTimeout(() => {
      logger.error({ limitMs }, 'shutdown did not finish in time: exiting without waiting for the rest');
      resolveDeadline?.(exitCodes.software);
    }, limitMs).unref();
  });
  root.on('child.down', (e) => logger[shuttingDown ? 'info' : 'warn']({ child: e.id, reason: e.reason }, 'child down'));
  root.on('child.restarted', (e) => logger.info({ child: e.id }, 'child restarted'));

  const finished = new Promise<number>((resolve) => {
    actor.subscribe({
      complete: () => resolve(actor.getSnapshot().output?.exitCode ?? exitCodes.ok),
      error: (err) => {
        // The supervisor handles every child error; reaching here is a bug in the root itself.
        logger.fatal({ err: (err as Error).message }, 'supervisor failed');
        resolve(exitCodes.software);
      },
    });
  });
  const done = Promise.race([finished, deadline]).then(async (code) => {
    const out = actor.getSnapshot().output;
    logger[exitLevel(code)]({ exitCode: code, reason: out?.reason }, 'supervisor stopped');
    if (embedded) await embedded.stop();
    return code;
  });

  supervisorMetrics(metrics, root);
  root.start();
  opts.onStarted?.(root);

  if (opts.handleSignals) {
    // --- signals: src/daemon/signals.ts decides and documents each one ---
    installSignalHandlers({
      root: actor,
      logger,
      services: config.services,
      drainMs: config.supervisor.shutdownTimeoutMs,
      beforeImmediateExit: () => embedded?.killNow(),
    });
    // --- end signals ---
    // A bug outside any actor is still no reason to lose state: shut down gracefully with EX_SOFTWARE.
    const onFatal = (err: unknown) => {
      logger.fatal({ err: err instanceof Error ? err.stack : String(err) }, 'uncaught error; shutting down');
      actor.send({ type: 'supervisor.exit', code: exitCodes.software, reason: 'uncaught error' });
    };
    process.on('uncaughtException', onFatal);
    process.on('unhandledRejection', onFatal);
  }
  return { root, metrics, done };
}
