// The events REST server as an invoked actor of the events service: listens while the service serves, closes when
// it stops. The handler sends consumer.add / consumer.remove back to the service; a listen failure is sent back as
// server.failed (the service retries after a delay).
import { fromCallback } from 'xstate';
import {
  startRestServer,
  type RestReply,
  type RestRequest,
  type RunningRestServer,
} from '../../io/events/restServer.js';
import type { Logger } from '../../io/log.js';
import type { EventsServiceEvent } from '../../machines/events/eventsService.js';

export interface RestServerLogicOptions {
  host: string;
  port: number;
  maxBodyBytes: number;
  maxConnections: number;
  logger: Logger;
  /** Builds the request handler for one server run, given the way back to the service. */
  handler: (sendBack: (e: EventsServiceEvent) => void) => (req: RestRequest) => Promise<RestReply>;
  onListening?: (address: string, port: number) => void;
}

export function createRestServerLogic(opts: RestServerLogicOptions) {
  return fromCallback<EventsServiceEvent>(({ sendBack }) => {
    let server: RunningRestServer | undefined;
    let stopped = false;
    startRestServer({
      host: opts.host,
      port: opts.port,
      maxBodyBytes: opts.maxBodyBytes,
      maxConnections: opts.maxConnections,
      handle: opts.handler(sendBack),
      onError: (err) => opts.logger.error({ err: String(err) }, 'events API handler failed'),
    }).then(
      (s) => {
        if (stopped) {
          void s.close();
          return;
        }
        server = s;
        opts.logger.info({ address: s.address }, 'events API listening');
        opts.onListening?.(s.address, s.port);
      },
      (err: NodeJS.ErrnoException) => {
        opts.logger.error({ err: err.message, host: opts.host, port: opts.port }, 'events API cannot listen');
        if (!stopped) sendBack({ type: 'server.failed', error: err.code ?? err.message });
      },
    );
    return () => {
      stopped = true;
      void server?.close();
    };
  });
}

/** Notifications fed to the service while it serves (the composition's publisher calls `push`). */
export interface NotificationFeed {
  subscribe(listener: (e: EventsServiceEvent) => void): () => void;
}

export function createFeedLogic(feed: NotificationFeed) {
  return fromCallback<EventsServiceEvent>(({ sendBack }) => feed.subscribe(sendBack));
}
