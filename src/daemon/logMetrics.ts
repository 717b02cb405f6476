// What the log destination did, as metrics: lines written and lines dropped (a stalled or vanished stderr reader).
import { Counter } from 'prom-client';
import type { MetricsHub } from '../io/http/metricsHub.js';
import { logStats, type Logger } from '../io/log.js';

export function attachLogMetrics(hub: MetricsHub, logger: Logger): void {
  let seen = 0;
  new Counter({
    name: 'syncvisor_log_lines_dropped_total',
    help: 'Log lines dropped because stderr could not take them (a slow or gone reader; the buffer is bounded).',
    registers: [hub.global],
    collect() {
      const d = logStats(logger).dropped;
      this.inc(d - seen);
      seen = d;
    },
  });
}
