// The http child of the supervisor: serves /metrics, /healthz, /readyz until stopped.
import { fromCallback } from 'xstate';
import { startHttpServer, type HttpServerOptions, type RunningHttpServer } from '../../io/http/server.js';
import type { Logger } from '../../io/log.js';
import { exitCodes } from '../../machines/supervisor/spec.js';

/** Listen errors that no retry can fix: the daemon stops at once with the configuration exit code. */
export const permanentListenErrors = new Set([
  'EADDRINUSE',
  'EACCES',
  'EADDRNOTAVAIL',
  'ENOTFOUND',
  'ERR_SOCKET_BAD_PORT',
]);

export function createHttpServerLogic(
  opts: HttpServerOptions & { logger: Logger; onListening?: (address: string) => void },
) {
  return fromCallback(({ sendBack }) => {
    let server: RunningHttpServer | undefined;
    let stopped = false;
    startHttpServer(opts).then(
      (s) => {
        if (stopped) {
          void s.close();
          return;
        }
        server = s;
        opts.logger.info({ address: s.address }, 'http listening');
        opts.onListening?.(s.address);
      },
      (err: NodeJS.ErrnoException) => {
        if (stopped) return;
        if (err.code !== undefined && permanentListenErrors.has(err.code)) {
          // One clear line, then a fast exit with the configuration code: five retries could not help.
          opts.logger.error(
            { listen: opts.listen, code: err.code, err: err.message },
            `http cannot listen on ${opts.listen}: ${err.code}; fix http.listen`,
          );
          sendBack({
            type: 'supervisor.exit',
            code: exitCodes.config,
            reason: `http cannot listen on ${opts.listen}: ${err.code}`,
          });
          return;
        }
        opts.logger.error({ err: err.message, listen: opts.listen }, 'http cannot listen');
        sendBack({
          type: 'child.failed',
          id: 'http',
          error: `cannot listen on ${opts.listen}: ${err.code ?? err.message}`,
        });
      },
    );
    return () => {
      stopped = true;
      void server?.close();
    };
  });
}
