// The embedded redis-server as a supervised child: the supervisor's restart policy, backoff and intensity apply to
// it like to any other child. The first server is started before the tree (startDaemon awaits it, so a missing binary
// is a clear start error); this child watches it, reports its death as child.failed, and each restart of the child
// spawns a new server on the same socket (the Redis clients reconnect by themselves). It stops last on shutdown.
import { fromCallback } from 'xstate';
import type { Logger } from '../io/log.js';
import type { EmbeddedRedis } from '../io/redis/embedded.js';
import type { ChildSpec } from '../machines/supervisor/spec.js';

export function embeddedRedisChildSpec(redis: EmbeddedRedis, logger: Logger): ChildSpec {
  let first = true;
  const logic = fromCallback(({ sendBack }) => {
    let stopped = false;
    const watch = (): void => {
      void redis.exited.then((why) => {
        if (stopped) return;
        logger.error({ pid: redis.pid, socket: redis.socket }, `embedded redis-server died: ${why}; restarting it`);
        sendBack({ type: 'child.failed', id: 'embeddedRedis', error: why });
      });
    };
    if (first) {
      first = false;
      watch();
    } else {
      redis.respawn().then(
        () => {
          if (stopped) return;
          logger.info({ pid: redis.pid, socket: redis.socket }, 'embedded redis-server restarted');
          watch();
        },
        (err: Error) => {
          if (stopped) return;
          logger.error({ err: err.message }, 'embedded redis-server cannot be restarted');
          sendBack({ type: 'child.failed', id: 'embeddedRedis', error: err.message });
        },
      );
    }
    return () => {
      stopped = true;
    };
  });
  return {
    id: 'embeddedRedis',
    systemId: 'embeddedRedis',
    logic,
    restart: 'permanent',
    // After the services' final saves (0), the sources (1) and http (2); the process stops it for good afterwards.
    shutdownOrder: 3,
  };
}
