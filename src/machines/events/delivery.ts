// One consumer endpoint (all subscriptions sharing one EndpointUri): idle → sending → backing off → removed. Events
// wait in a bounded queue (overflow drops the oldest, counted); each is POSTed once by the `post` actor. A 204 is a
// delivery; any other status is a rejection (not retried, failures reset, as CEP); a connection failure or timeout
// counts one consecutive failure and backs off before the next event; at `failAfter` consecutive failures the
// consumer is removed (its subscriptions deleted by the parent). One machine per consumer, so a slow or dead
// consumer never delays another.
import { assign, sendParent, setup, type ActorRefFrom } from 'xstate';
import { providedAction, providedPromise } from '../provided.js';

export interface DeliveryInput {
  clientId: string;
  endpoint: string;
  queueMax: number;
  /** Consecutive connection failures that remove the consumer (CEP: 10). */
  failAfter: number;
  backoffInitialMs: number;
  backoffMaxMs: number;
}

export interface QueuedEvent {
  /** The event type, for the metrics. */
  type: string;
  /** The encoded CloudEvent. */
  body: string;
}

export interface DeliveryContext extends DeliveryInput {
  queue: QueuedEvent[];
  /** The event being sent (taken from the queue on entry to sending). */
  inFlight: QueuedEvent | undefined;
  failures: number;
  dropped: number;
}

export type DeliveryEvent = { type: 'delivery.enqueue'; event: QueuedEvent };

/** What the post actor reports: the HTTP status of an answered POST (a connection failure rejects instead). */
export interface PostResult {
  status: number;
}

export interface DeliveryRemovedEvent {
  type: 'delivery.removed';
  clientId: string;
  failures: number;
}

export const deliveryMachine = setup({
  types: {
    context: {} as DeliveryContext,
    input: {} as DeliveryInput,
    events: {} as DeliveryEvent,
  },
  actors: {
    /** POST the body to the endpoint with a timeout. Provided by the composition. */
    post: providedPromise<PostResult, { endpoint: string; body: string }>('post'),
  },
  guards: {
    hasQueued: ({ context }) => context.queue.length > 0,
    isNoContent: ({ event }) => (event as unknown as { output: PostResult }).output.status === 204,
    reachedFailLimit: ({ context }) => context.failures + 1 >= context.failAfter,
    queueFull: ({ context }) => context.queue.length >= context.queueMax,
  },
  delays: {
    backoff: ({ context }) =>
      Math.min(context.backoffMaxMs, context.backoffInitialMs * 2 ** Math.max(0, context.failures - 1)),
  },
  actions: {
    enqueue: assign(({ context, event }) => ({ queue: [...context.queue, event.event] })),
    /** Counted and logged by the composition; runs before enqueue. */
    dropOldest: assign(({ context }) => ({ queue: context.queue.slice(1), dropped: context.dropped + 1 })),
    takeNext: assign(({ context }) => ({ inFlight: context.queue[0], queue: context.queue.slice(1) })),
    recordDelivered: assign({ failures: 0, inFlight: undefined }),
    recordRejected: assign({ failures: 0, inFlight: undefined }),
    recordFailure: assign(({ context }) => ({ failures: context.failures + 1, inFlight: undefined })),
    /** Metrics (per result) and a log line on failure; provided by the composition. */
    countDelivered: providedAction(),
    countRejected: providedAction<{ status: number }>(),
    countFailed: providedAction<{ error: string }>(),
    countDropped: providedAction(),
    /** Queue depth gauge; provided by the composition. */
    reportQueueDepth: providedAction(),
    reportRemoved: sendParent(({ context }): DeliveryRemovedEvent => ({
      type: 'delivery.removed',
      clientId: context.clientId,
      failures: context.failures,
    })),
  },
}).createMachine({
  id: 'delivery',
  context: ({ input }) => ({ ...input, queue: [], inFlight: undefined, failures: 0, dropped: 0 }),
  initial: 'idle',
  on: {
    'delivery.enqueue': [
      { guard: 'queueFull', actions: ['countDropped', 'dropOldest', 'enqueue', 'reportQueueDepth'] },
      { actions: ['enqueue', 'reportQueueDepth'] },
    ],
  },
  states: {
    idle: {
      always: { guard: 'hasQueued', target: 'sending' },
    },
    sending: {
      entry: ['takeNext', 'reportQueueDepth'],
      invoke: {
        src: 'post',
        input: ({ context }) => ({ endpoint: context.endpoint, body: context.inFlight?.body ?? '' }),
        onDone: [
          { guard: 'isNoContent', target: 'idle', actions: ['countDelivered', 'recordDelivered'] },
          {
            target: 'idle',
            actions: [
              {
                type: 'countRejected',
                params: ({ event }) => ({ status: (event.output as PostResult).status }),
              },
              'recordRejected',
            ],
          },
        ],
        onError: [
          {
            guard: 'reachedFailLimit',
            target: 'removed',
            actions: [
              { type: 'countFailed', params: ({ event }) => ({ error: String(event.error) }) },
              'recordFailure',
            ],
          },
          {
            target: 'backingOff',
            actions: [
              { type: 'countFailed', params: ({ event }) => ({ error: String(event.error) }) },
              'recordFailure',
            ],
          },
        ],
      },
    },
    backingOff: {
      after: { backoff: 'idle' },
    },
    removed: {
      type: 'final',
      entry: 'reportRemoved',
    },
  },
});

export type DeliveryActor = ActorRefFrom<typeof deliveryMachine>;
