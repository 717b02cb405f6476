// The http child of the supervisor: serves /metrics, /healthz, /readyz until stopped.
import { fromCallback } from 'xstate';
import { startHttpServer, type HttpServerOptions, type RunningHttpServer } from '../../io/http/server.js';
import type { Logger } from '../../io/log.js';

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
