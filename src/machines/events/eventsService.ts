// The PTP events service: loading (the persisted subscriptions) → serving (the REST API and the feed of
// notifications run as invoked actors; one delivery child per consumer endpoint) → stopped. It lives beside the ptp
// sidecar, not inside it, so a CMD RESTART of the sidecar keeps every subscription and every queued delivery.
import { assign, fromCallback, fromPromise, setup, type ActorRefFrom } from 'xstate';
import { providedAction, providedDefault } from '../provided.js';
import { deliveryMachine, type DeliveryActor, type DeliveryRemovedEvent, type QueuedEvent } from './delivery.js';

export interface EventsServiceInput {
  queueMax: number;
  failAfter: number;
  backoffInitialMs: number;
  backoffMaxMs: number;
}

export interface ConsumerRef {
  clientId: string;
  endpoint: string;
}

export interface EventsServiceContext extends EventsServiceInput {
  consumers: Record<string, DeliveryActor>;
}

export type EventsServiceEvent =
  /** A subscription was created for a consumer endpoint (a no-op when its delivery machine exists). */
  | { type: 'consumer.add'; consumer: ConsumerRef }
  /** The last subscription of a consumer was deleted. */
  | { type: 'consumer.remove'; clientId: string }
  /** One notification for the given consumers (the same body, the same id, for all of them). */
  | { type: 'events.publish'; clientIds: readonly string[]; event: QueuedEvent }
  | DeliveryRemovedEvent
  /** The REST server could not listen (address in use, …): retried after a delay. */
  | { type: 'server.failed'; error: string }
  | { type: 'shutdown' };

const deliverySystemId = (clientId: string): string => `events.delivery.${clientId}`;

function deliveryInput(context: EventsServiceContext, c: ConsumerRef) {
  return {
    clientId: c.clientId,
    endpoint: c.endpoint,
    queueMax: context.queueMax,
    failAfter: context.failAfter,
    backoffInitialMs: context.backoffInitialMs,
    backoffMaxMs: context.backoffMaxMs,
  };
}

const serviceSetup = setup({
  types: {
    context: {} as EventsServiceContext,
    input: {} as EventsServiceInput,
    events: {} as EventsServiceEvent,
  },
  actors: {
    /** Reads the persisted subscriptions; resolves with their consumers. Provided by the composition. */
    loadSubscriptions: providedDefault(fromPromise<ConsumerRef[]>(async () => [])),
    /** The REST server (node:http); sends consumer.add / consumer.remove back. Provided by the composition. */
    restServer: providedDefault(fromCallback<EventsServiceEvent>(() => () => {})),
    /** Notifications from the clock statecharts; sends events.publish back. Provided by the composition. */
    feed: providedDefault(fromCallback<EventsServiceEvent>(() => () => {})),
    delivery: deliveryMachine,
  },
  guards: {
    isKnownConsumer: ({ context, event }) =>
      event.type === 'consumer.add' && event.consumer.clientId in context.consumers,
  },
  actions: {
    /** Deletes the consumer's subscriptions (store, metrics) and logs one line. Provided by the composition. */
    consumerRemoved: providedAction<{ clientId: string; failures: number }>(),
    /** Logged by the composition. */
    logLoadFailed: providedAction(),
    logServerFailed: providedAction(),
    logLoaded: providedAction<{ consumers: number }>(),
    /** Starts a delivery machine for each consumer loaded from the store. */
    startLoadedConsumers: assign(({ context, event, spawn }) => {
      const loaded = (event as unknown as { output: ConsumerRef[] }).output;
      const consumers = { ...context.consumers };
      for (const c of loaded) {
        consumers[c.clientId] ??= spawn('delivery', {
          id: `delivery:${c.clientId}`,
          systemId: deliverySystemId(c.clientId),
          input: deliveryInput(context, c),
        });
      }
      return { consumers };
    }),
    /** Starts the delivery machine of a new consumer endpoint. */
    addConsumer: assign(({ context, event, spawn }) => {
      if (event.type !== 'consumer.add') return {};
      const c = event.consumer;
      const ref = spawn('delivery', {
        id: `delivery:${c.clientId}`,
        systemId: deliverySystemId(c.clientId),
        input: deliveryInput(context, c),
      });
      return { consumers: { ...context.consumers, [c.clientId]: ref } };
    }),
  },
  delays: {
    reloadDelay: 1_000,
  },
});

/** Stops a consumer's delivery machine (its queue is dropped with it). */
const dropConsumer = serviceSetup.enqueueActions(({ context, event, enqueue }) => {
  const id = event.type === 'consumer.remove' || event.type === 'delivery.removed' ? event.clientId : undefined;
  if (id === undefined) return;
  const ref = context.consumers[id];
  if (ref) enqueue.stopChild(ref);
  const { [id]: _gone, ...rest } = context.consumers;
  enqueue.assign({ consumers: rest });
});
/** The same notification to each named consumer's queue; consumers without a machine are skipped. */
const routePublish = serviceSetup.enqueueActions(({ context, event, enqueue }) => {
  if (event.type !== 'events.publish') return;
  for (const id of event.clientIds) {
    const ref = context.consumers[id];
    if (ref) enqueue.sendTo(ref, { type: 'delivery.enqueue', event: event.event });
  }
});

export const eventsServiceMachine = serviceSetup.createMachine({
  id: 'eventsService',
  context: ({ input }) => ({ ...input, consumers: {} }),
  initial: 'loading',
  on: {
    shutdown: '.stopped',
  },
  states: {
    loading: {
      invoke: {
        src: 'loadSubscriptions',
        onDone: {
          target: 'serving',
          actions: [
            'startLoadedConsumers',
            { type: 'logLoaded', params: ({ event }) => ({ consumers: event.output.length }) },
          ],
        },
        onError: { target: 'retrying', actions: 'logLoadFailed' },
      },
    },
    /** Loading the store or listening failed: try again after a delay (the deliveries keep running). */
    retrying: {
      after: { reloadDelay: 'loading' },
    },
    serving: {
      invoke: [
        { id: 'restServer', src: 'restServer' },
        { id: 'feed', src: 'feed' },
      ],
      on: {
        'consumer.add': [{ guard: 'isKnownConsumer' }, { actions: 'addConsumer' }],
        'consumer.remove': { actions: dropConsumer },
        'events.publish': { actions: routePublish },
        'server.failed': { target: 'retrying', actions: 'logServerFailed' },
        'delivery.removed': {
          actions: [
            {
              type: 'consumerRemoved',
              params: ({ event }) => ({
                clientId: (event as DeliveryRemovedEvent).clientId,
                failures: (event as DeliveryRemovedEvent).failures,
              }),
            },
            dropConsumer,
          ],
        },
      },
    },
    stopped: {
      type: 'final',
    },
  },
});

export type EventsServiceActor = ActorRefFrom<typeof eventsServiceMachine>;
