// socketServer: owns the PTP sidecar's listening Unix socket and its connections (src/io/socket/lineServer.ts) and
// turns them into the socket.* events of src/machines/supervisor/sourceEvents.ts. It is the supervisor's child, not the
// sidecar's, so a CMD RESTART of the sidecar closes neither the listener nor any connection. While the sidecar serves,
// line batches take the direct path to the serving generation (src/actors/ptp/lineChannel.ts) instead of a
// socket.line event; everything else, and lines while it does not serve, go back as events.
import { fromCallback } from 'xstate';
import type { Registry } from 'prom-client';
import type { Logger } from 'pino';
import { SocketInUseError, startLineServer, type LineServer } from '../../io/socket/lineServer.js';
import { exitCodes } from '../../machines/supervisor/spec.js';
import type { SocketSourceEvent } from '../../machines/supervisor/sourceEvents.js';
import type { LineChannel } from './lineChannel.js';

export interface SocketServerInput {
  path: string;
  maxLineBytes: number;
  maxConnections: number;
  idleTimeoutMs?: number;
}

export interface SocketServerDeps {
  registry: Registry;
  logger: Logger;
  /** Child id reported in child.failed (default 'socketServer'). */
  id?: string;
  /** The direct path of lines to the serving generation (absent: every batch is a socket.line event). */
  lines?: LineChannel;
}

export function createSocketServer(deps: SocketServerDeps) {
  const id = deps.id ?? 'socketServer';
  return fromCallback<{ type: string }, SocketServerInput>(({ sendBack, input, receive }) => {
    let server: LineServer | undefined;
    let stopped = false;
    // Backpressure from the sidecar (its load queue is full): stop reading the connections until it serves again.
    let paused = false;
    // > 0 while one of this actor's events is being processed (sent back, or received): a batch handed over then
    // takes the chart path, behind whatever that step queued (lineChannel.ts).
    let busy = 0;
    const whileBusy = (step: () => void): void => {
      busy++;
      try {
        step();
      } finally {
        busy--;
      }
    };
    receive((e) => {
      if (e.type !== 'socket.pause' && e.type !== 'socket.resume') return;
      paused = e.type === 'socket.pause';
      whileBusy(() => {
        if (paused) server?.pause();
        else server?.resume();
      });
      deps.logger.debug({ paused }, 'ptp socket reading');
    });
    const send = (e: SocketSourceEvent): void => whileBusy(() => sendBack(e));
    const lines = deps.lines;
    startLineServer(
      {
        path: input.path,
        maxLineBytes: input.maxLineBytes,
        maxConnections: input.maxConnections,
        ...(input.idleTimeoutMs !== undefined ? { idleTimeoutMs: input.idleTimeoutMs } : {}),
        registry: deps.registry,
      },
      {
        onLines: (connId, text) => {
          if (busy === 0 && lines?.take(connId, text) === true) return;
          send({ type: 'socket.line', connId, lines: text });
        },
        onCommand: (connId, command) => send({ type: 'socket.command', connId, command }),
        onConnected: (connId) => send({ type: 'socket.connected', connId }),
        onDisconnected: (connId) => {
          if (!stopped) send({ type: 'socket.disconnected', connId });
        },
      },
    ).then(
      (s) => {
        if (stopped) {
          void s.close();
          return;
        }
        server = s;
        if (paused) s.pause();
        deps.logger.info({ path: input.path }, 'ptp socket listening');
        // Readiness includes the listener: linuxptp-daemon cannot reach a sidecar whose socket is not bound.
        sendBack({ type: 'child.ready', id, ready: true });
      },
      (err: NodeJS.ErrnoException) => {
        if (stopped) return;
        // Another owner of the path, a permission problem: retrying cannot help, so fail fast with one clear line.
        if (err instanceof SocketInUseError || err.code === 'EACCES' || err.code === 'EADDRINUSE') {
          deps.logger.error({ path: input.path, err: err.message }, `ptp socket cannot listen: ${err.message}`);
          sendBack({ type: 'supervisor.exit', code: exitCodes.config, reason: `ptp socket: ${err.message}` });
          return;
        }
        deps.logger.error({ path: input.path, err: err.message }, 'ptp socket cannot listen');
        sendBack({ type: 'child.failed', id, error: err.message });
      },
    );
    return () => {
      stopped = true;
      void server?.close();
    };
  });
}
