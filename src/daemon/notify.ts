// The daemon's side of systemd's Type=notify: READY=1 once every service is ready (portsync: the initial sync is
// done; ptp: its socket listens and its configuration is loaded), STATUS= whenever the one-line summary changes,
// WATCHDOG=1 every half WATCHDOG_USEC while the supervisor is live, STOPPING=1 when the shutdown starts.
import type { HealthStatus } from '../io/http/server.js';
import type { Logger } from '../io/log.js';
import type { Notifier } from '../io/notify/sdNotify.js';
import { watchTree, type SupervisorActor } from '../machines/supervisor/supervisor.js';

export interface SystemdNotifyDeps {
  root: SupervisorActor;
  notifier: Notifier;
  health: () => HealthStatus;
  logger: Logger;
}

/** "ready: portsync, ptp" or "starting: waiting for portsync (running, not ready), socketServer (backoff)". */
export function statusLine(h: HealthStatus): string {
  const waiting: string[] = [];
  const names: string[] = [];
  for (const [id, d] of Object.entries(h.detail)) {
    const c = d as { status: string; ready?: boolean };
    names.push(id);
    if (c.status !== 'running') waiting.push(`${id} (${c.status})`);
    else if (c.ready === false) waiting.push(`${id} (not ready)`);
  }
  return h.ready ? `ready: ${names.join(', ')}` : `starting: waiting for ${waiting.join(', ') || 'the supervisor'}`;
}

export function attachSystemdNotify(deps: SystemdNotifyDeps): { stop(): void } {
  const { root, notifier, health, logger } = deps;
  let readySent = false;
  let stopping = false;
  let lastStatus = '';
  let warned = false;
  const send = (fields: Record<string, string | number>): void => {
    if (notifier.send(fields) || warned) return;
    warned = true; // once: a manager that went away does not deserve a line per message
    logger.warn({ socket: notifier.socket, err: notifier.stats.lastError }, 'sd_notify failed');
  };
  const update = (): void => {
    if (stopping) return;
    const h = health();
    const status = statusLine(h);
    if (h.ready && !readySent) {
      readySent = true;
      lastStatus = status;
      send({ READY: 1, STATUS: status, MAINPID: process.pid });
      logger.info({ socket: notifier.socket }, 'sd_notify: READY=1');
      return;
    }
    if (status !== lastStatus) {
      lastStatus = status;
      send({ STATUS: status });
    }
  };
  const unwatch = watchTree(root, update);
  const sub = root.subscribe({ error: () => undefined, complete: () => stop() });
  root.on('supervisor.shuttingDown', (e) => {
    stopping = true;
    send({ STOPPING: 1, STATUS: `stopping: ${e.reason ?? 'shutdown'}` });
  });
  let timer: NodeJS.Timeout | undefined;
  if (notifier.watchdogIntervalMs !== undefined) {
    timer = setInterval(() => {
      if (health().live) send({ WATCHDOG: 1 });
    }, notifier.watchdogIntervalMs);
    timer.unref();
  }
  update();
  function stop(): void {
    sub.unsubscribe();
    unwatch();
    if (timer) clearInterval(timer);
    timer = undefined;
  }
  return { stop };
}
