// A minimal daemon for integration tests while the full CLI cannot start (e.g. a service's composition module is
// missing): the supervisor with portsync's child specs and the HTTP child, SIGTERM → graceful shutdown → exit code.
// Run: tsx test/support/portsyncDaemon.ts CONFIG.json (inside `ip netns exec`).
import { readFileSync } from 'node:fs';
import { createActor } from 'xstate';
import { createHttpServerLogic } from '../../src/actors/httpServer.js';
import { portsyncChildSpecs } from '../../src/compose/portsync.js';
import { configSchema } from '../../src/config/schema.js';
import { MetricsHub } from '../../src/io/http/metricsHub.js';
import type { HealthStatus } from '../../src/io/http/server.js';
import type { ChildSpec } from '../../src/machines/supervisorSpec.js';
import { createLogger } from '../../src/io/log.js';
import { supervisorMachine, type SupervisorActor } from '../../src/machines/supervisor.js';

// As src/main.ts healthOf (which cannot be imported without every service's composition module).
function healthOf(root: SupervisorActor): HealthStatus {
  const snap = root.getSnapshot();
  let ready = true;
  const detail: Record<string, unknown> = {};
  for (const id of snap.context.order) {
    const c = snap.context.children[id]!;
    const reports = snap.context.specs[id]!.reportsReady === true;
    detail[id] = { status: c.status, ...(reports ? { ready: c.ready } : {}) };
    if (reports && !(c.status === 'running' && c.ready)) ready = false;
  }
  return { live: snap.status === 'active', ready, detail };
}

const config = configSchema.parse(JSON.parse(readFileSync(process.argv[2]!, 'utf8')));
const logger = createLogger(config.log.level);
const metrics = new MetricsHub();
const children = portsyncChildSpecs({ config, logger, metrics, redisUrl: config.redis.url });
const root: SupervisorActor = createActor(supervisorMachine, {
  input: {
    children: [
      ...children,
      {
        id: 'http',
        systemId: 'http',
        logic: createHttpServerLogic({ listen: config.http.listen, metrics, status: () => healthOf(root), logger }),
        restart: 'permanent',
        shutdownOrder: 2,
      } satisfies ChildSpec,
    ],
    maxRestarts: config.supervisor.maxRestarts,
    periodMs: config.supervisor.periodMs,
    backoff: config.supervisor.backoff,
    shutdownTimeoutMs: config.supervisor.shutdownTimeoutMs,
  },
});
root.subscribe({
  complete: () => process.exit(root.getSnapshot().output?.exitCode ?? 0),
  error: () => process.exit(70),
});
root.start();
process.on('SIGTERM', () => root.send({ type: 'shutdown', reason: 'SIGTERM' }));
