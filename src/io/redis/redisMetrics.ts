// The Redis metrics (docs/portsync.md), registered once per registry (several writers and connections share them).
import { Gauge, Histogram, type Registry } from 'prom-client';

export interface RedisMetrics {
  /** 1 while the connection to a database is ready, else 0. Label `db`: the database index. */
  up: Gauge<'db'>;
  /** Time of one pipelined flush. Label `table`: e.g. `STATE_DB|PORT_TABLE`. */
  writeSeconds: Histogram<'table'>;
  /** Keys waiting to be written (coalesced: one per key however many writes arrived). */
  pendingKeys: Gauge<'table'>;
}

const cache = new WeakMap<Registry, RedisMetrics>();

export function redisMetrics(registry: Registry): RedisMetrics {
  const known = cache.get(registry);
  if (known) return known;
  const metrics: RedisMetrics = {
    up: new Gauge({
      name: 'syncvisor_redis_up',
      help: 'Whether the Redis connection to a database is ready (1) or down (0).',
      labelNames: ['db'],
      registers: [registry],
    }),
    writeSeconds: new Histogram({
      name: 'syncvisor_redis_write_seconds',
      help: 'Duration of one pipelined Redis flush.',
      labelNames: ['table'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers: [registry],
    }),
    pendingKeys: new Gauge({
      name: 'syncvisor_redis_pending_keys',
      help: 'Keys with a write not yet acknowledged by Redis (coalesced per key).',
      labelNames: ['table'],
      registers: [registry],
    }),
  };
  cache.set(registry, metrics);
  return metrics;
}
