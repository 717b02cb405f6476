// sd_notify(3): readiness, status, watchdog and stopping messages to the service manager, sent as one AF_UNIX
// datagram each to $NOTIFY_SOCKET through our native addon (Node has no datagram Unix sockets). Without
// NOTIFY_SOCKET (not started by systemd with Type=notify) there is no notifier at all.
import { nativeAddon } from '../native.js';

interface Addon {
  send(socketPath: string, message: string): void;
}

const loadAddon = nativeAddon<Addon>('syncvisor_notify', 'sd_notify addon');

/** Sends one sd_notify message (e.g. "READY=1\nSTATUS=…") to a notify socket path or @abstract name. */
export function sdNotify(socketPath: string, message: string): void {
  loadAddon().send(socketPath, message);
}

export interface Notifier {
  readonly socket: string;
  /** Half of WATCHDOG_USEC in ms when the manager asked for a watchdog (and WATCHDOG_PID, if set, is us). */
  readonly watchdogIntervalMs: number | undefined;
  readonly stats: { sent: number; failed: number; lastError?: string };
  send(fields: Record<string, string | number>): boolean;
}

/** One STATUS= value: a single line, bounded. */
export function statusText(text: string): string {
  return text.replace(/[\r\n]+/g, ' ').slice(0, 400);
}

/**
 * The notifier for this process, or undefined without $NOTIFY_SOCKET. Removes NOTIFY_SOCKET, WATCHDOG_USEC and
 * WATCHDOG_PID from `env` (like sd_notify's unset_environment) so children such as the embedded redis-server do not
 * speak for the service.
 */
export function notifierFromEnv(env: NodeJS.ProcessEnv = process.env, pid: number = process.pid): Notifier | undefined {
  const socket = env.NOTIFY_SOCKET;
  const usec = Number(env.WATCHDOG_USEC);
  const wpid = env.WATCHDOG_PID;
  delete env.NOTIFY_SOCKET;
  delete env.WATCHDOG_USEC;
  delete env.WATCHDOG_PID;
  if (!socket || (!socket.startsWith('/') && !socket.startsWith('@'))) return undefined;
  const watchdogIntervalMs =
    Number.isFinite(usec) && usec > 0 && (wpid === undefined || Number(wpid) === pid)
      ? Math.max(1, Math.floor(usec / 2000))
      : undefined;
  const stats: Notifier['stats'] = { sent: 0, failed: 0 };
  return {
    socket,
    watchdogIntervalMs,
    stats,
    send(fields) {
      const message = Object.entries(fields)
        .map(([k, v]) => `${k}=${k === 'STATUS' ? statusText(String(v)) : String(v)}`)
        .join('\n');
      try {
        sdNotify(socket, message);
        stats.sent++;
        return true;
      } catch (err) {
        stats.failed++;
        stats.lastError = (err as Error).message;
        return false;
      }
    },
  };
}
