// The composition root: builds the actor tree from the configuration, provides the real I/O, wires signals and
// exit codes. Everything here is glue; behaviour lives in src/machines, I/O in src/io.
import { createActor, type InspectionEvent } from 'xstate';
import { Counter, Gauge } from 'prom-client';
import type { Config } from '../config/schema.js';
import { createHttpServerLogic } from '../actors/http/httpServer.js';
import { MetricsHub } from '../io/http/metricsHub.js';
import type { HealthStatus } from '../io/http/server.js';
import type { Logger } from '../io/log.js';
import { startEmbeddedRedis, type EmbeddedRedis } from '../io/redis/embedded.js';
import { supervisorMachine, type SupervisorActor } from '../machines/supervisor/supervisor.js';
import { exitCodes, type ChildSpec } from '../machines/supervisor/spec.js';
import { portsyncChildSpecs } from './portsync.js';
import { ptpChildSpecs } from './ptp.js';
import { createEventsService } from './events.js';

export interface DaemonOptions {
  config: Config;
  logger: Logger;
  /** Inspection observers (local inspector, Stately inspector, trace recorder); none means no observer at all. */
  inspectors?: Array<(ev: InspectionEvent) => void>;
  /** Called once the supervisor runs (tests, the inspector). */
  onStarted?: (root: SupervisorActor) => void;
  /** Register process signal handlers (off in tests that run the daemon in-process). */
  handleSignals?: boolean;
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

export function healthOf(root: SupervisorActor): HealthStatus {
  const snap = root.getSnapshot();
  const detail: Record<string, unknown> = {};
  let ready = true;
  for (const id of snap.context.order) {
    const c = snap.context.children[id]!;
    const reports = snap.context.specs[id]!.reportsReady === true;
    detail[id] = { status: c.status, ...(reports ? { ready: c.ready } : {}), restarts: c.totalRestarts };
    if (reports && !(c.status === 'running' && c.ready)) ready = false;
  }
  const live = snap.status === 'active' && snap.matches('running');
  return { live, ready, detail };
}

export async function startDaemon(opts: DaemonOptions): Promise<RunningDaemon> {
  const { config, logger } = opts;
  const metrics = new MetricsHub();
  let embedded: EmbeddedRedis | undefined;
  let redisUrl = config.redis.url;
  if (config.services.includes('portsync') && !redisUrl) {
    embedded = await startEmbeddedRedis({ runtimeDir: config.redis.runtimeDir });
    redisUrl = embedded.socket;
    logger.info({ socket: embedded.socket, pid: embedded.pid }, 'embedded redis-server started');
  }

  // /readyz asks the root, which exists only once the child specs (http among them) are built.
  const started: { root?: SupervisorActor } = {};
  const status = (): HealthStatus =>
    started.root ? healthOf(started.root) : { live: false, ready: false, detail: {} };
  const children: ChildSpec[] = [];
  try {
    if (config.services.includes('portsync'))
      children.push(...portsyncChildSpecs({ config, logger: logger.child({ svc: 'portsync' }), metrics, redisUrl }));
    if (config.services.includes('ptp')) {
      const events = createEventsService({ config, logger: logger.child({ svc: 'ptp' }), metrics });
      children.push(...ptpChildSpecs({ config, logger: logger.child({ svc: 'ptp' }), metrics, events: events.hook }));
      children.push(events.childSpec);
    }
  } catch (err) {
    await embedded?.stop(); // e.g. a bad database_config.json: no redis-server left behind
    throw err;
  }
  children.push({
    id: 'http',
    systemId: 'http',
    logic: createHttpServerLogic({ listen: config.http.listen, metrics, status, logger }),
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
  root.on('supervisor.shuttingDown', (e) => {
    shuttingDown = true;
    logger.info({ exitCode: e.exitCode, reason: e.reason }, 'shutting down');
  });
  root.on('child.down', (e) => logger[shuttingDown ? 'info' : 'warn']({ child: e.id, reason: e.reason }, 'child down'));
  root.on('child.restarted', (e) => logger.info({ child: e.id }, 'child restarted'));

  const done = new Promise<number>((resolve) => {
    actor.subscribe({
      complete: () => resolve(actor.getSnapshot().output?.exitCode ?? exitCodes.ok),
      error: (err) => {
        // The supervisor handles every child error; reaching here is a bug in the root itself.
        logger.fatal({ err: (err as Error).message }, 'supervisor failed');
        resolve(exitCodes.intensity);
      },
    });
  }).then(async (code) => {
    const out = actor.getSnapshot().output;
    logger.info({ exitCode: code, reason: out?.reason }, 'supervisor stopped');
    if (embedded) await embedded.stop();
    return code;
  });

  supervisorMetrics(metrics, root);
  root.start();
  opts.onStarted?.(root);

  if (opts.handleSignals) {
    let signals = 0;
    const onSignal = (sig: NodeJS.Signals) => {
      signals++;
      if (signals > 1) {
        logger.warn({ signal: sig }, 'second signal: exiting now');
        process.exit(exitCodes.usage);
      }
      logger.info({ signal: sig, drainMs: config.supervisor.shutdownTimeoutMs }, 'graceful shutdown');
      actor.send({ type: 'shutdown', reason: sig });
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    // A bug outside any actor is still no reason to lose state: shut down gracefully with EX_SOFTWARE.
    const onFatal = (err: unknown) => {
      logger.fatal({ err: err instanceof Error ? err.stack : String(err) }, 'uncaught error; shutting down');
      actor.send({ type: 'supervisor.exit', code: exitCodes.intensity, reason: 'uncaught error' });
    };
    process.on('uncaughtException', onFatal);
    process.on('unhandledRejection', onFatal);
  }
  return { root, metrics, done };
}
