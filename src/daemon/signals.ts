// Every signal the daemon handles, and what it does (docs/operations.md, "Signals"):
//   SIGTERM, SIGINT, SIGQUIT  graceful shutdown (drain, final state save, embedded Redis stopped); a second one exits
//                             at once with 128 + the signal's number (130 for a second Ctrl-C) — the embedded
//                             redis-server is killed first, never orphaned
//   SIGHUP                    reload: ptp re-reads its configuration exactly as on `CMD RESTART`; portsync has nothing
//                             to reload and says so
//   SIGUSR1                   logged and ignored. Without a handler Node opens its debugger on 127.0.0.1:9229, which
//                             would let any local user run code as the daemon's user
//   SIGUSR2                   logs the supervisor's view: every child, its status, readiness and restarts
// SIGPIPE is ignored by Node; SIGKILL and SIGSTOP cannot be handled (the state file is atomic for the former).
import { constants as osConstants } from 'node:os';
import type { Logger } from '../io/log.js';
import { childView, type SupervisorActor } from '../machines/supervisor/supervisor.js';

export interface SignalDeps {
  root: SupervisorActor;
  logger: Logger;
  services: readonly string[];
  drainMs: number;
  /** Synchronous cleanup before an immediate exit (the embedded redis-server). */
  beforeImmediateExit?: () => void;
}

export const handledSignals = ['SIGTERM', 'SIGINT', 'SIGQUIT', 'SIGHUP', 'SIGUSR1', 'SIGUSR2'] as const;

/** Installs the handlers; returns a function that removes them. */
export function installSignalHandlers(deps: SignalDeps): () => void {
  const { root, logger } = deps;
  let stops = 0;
  const stop = (sig: NodeJS.Signals): void => {
    stops++;
    if (stops > 1) {
      logger.warn({ signal: sig }, 'second signal: exiting now (the final state save may be skipped)');
      deps.beforeImmediateExit?.();
      process.exit(128 + (osConstants.signals[sig] ?? 0));
    }
    logger.info({ signal: sig, drainMs: deps.drainMs }, 'graceful shutdown');
    root.send({ type: 'shutdown', reason: sig });
  };
  const reload = (): void => {
    if (deps.services.includes('ptp')) {
      logger.info({ signal: 'SIGHUP' }, 'SIGHUP: ptp reloads its configuration (as CMD RESTART)');
      // The same event a `CMD RESTART` line becomes; connId 0 is no socket connection.
      root.send({ type: 'socket.command', connId: 0, command: 'RESTART' });
    }
    if (deps.services.includes('portsync'))
      logger.info({ signal: 'SIGHUP' }, 'SIGHUP: portsync has nothing to reload (its settings apply at start)');
  };
  const debugRefused = (): void =>
    logger.warn({ signal: 'SIGUSR1' }, 'SIGUSR1 ignored: the debugger is never opened by a signal');
  const report = (): void => {
    const snap = root.getSnapshot();
    const children = Object.fromEntries(
      snap.context.order.map((id) => {
        const c = childView(root, id);
        return [id, { status: c.status, ready: c.ready, restarts: c.totalRestarts }];
      }),
    );
    logger.info({ signal: 'SIGUSR2', state: snap.value, children }, 'SIGUSR2: supervisor state');
  };
  const handlers: Array<[NodeJS.Signals, (sig: NodeJS.Signals) => void]> = [
    ['SIGTERM', stop],
    ['SIGINT', stop],
    ['SIGQUIT', stop],
    ['SIGHUP', reload],
    ['SIGUSR1', debugRefused],
    ['SIGUSR2', report],
  ];
  for (const [sig, h] of handlers) process.on(sig, h);
  return () => {
    for (const [sig, h] of handlers) process.off(sig, h);
  };
}
