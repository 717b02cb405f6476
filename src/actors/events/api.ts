// The O-RAN O-Cloud Notification API v2 as cloud-event-proxy serves it, under /api/ocloudNotifications/v2/: routes,
// status codes and bodies as CEP's (error replies carry no body; the reason goes to the log). The subscription
// store and the event model are the composition's; this module only answers requests.
import type { Logger } from '../../io/log.js';
import type { RestReply, RestRequest } from '../../io/events/restServer.js';
import type { EndpointPolicy } from '../../io/events/endpoint.js';
import { goJson, nameUuid, randomId } from '../../io/events/ids.js';
import {
  clockClassV1Suffix,
  resourceAddress,
  resourceIds,
  resourceOf,
  resources,
  type EventValue,
  type ResourceId,
} from '../../machines/events/resources.js';
import type { CurrentState } from '../../machines/events/ptpEventModel.js';
import { clientIdOf, type ConsumerRef, type Subscription, type SubscriptionStore } from './subscriptionStore.js';

export const apiBasePath = '/api/ocloudNotifications/v2/';

export interface EventsApiDeps {
  store: SubscriptionStore;
  nodeName: string;
  /** `http://host:port` written into UriLocation (CEP: the transport host and the API port). */
  uriBase: () => string;
  policy: EndpointPolicy;
  maxSubscriptions: number;
  maxConsumers: number;
  /** CurrentState of a resource, from the live clock statecharts. */
  current: (resource: ResourceId) => CurrentState;
  /** Encodes one CloudEvent with a fresh id and the current time. */
  encode: (source: string, type: string, values: readonly EventValue[]) => string;
  /** POSTs a body to an endpoint (2 s timeout); resolves with the status, rejects on a connection failure. */
  post: (endpoint: string, body: string) => Promise<{ status: number }>;
  /** A consumer got its first subscription / lost its last one. */
  onConsumerAdded: (c: ConsumerRef) => void;
  onConsumerRemoved: (clientId: string) => void;
  logger: Logger;
}

const json = (status: number, body: string): RestReply => ({ status, body, contentType: 'application/json' });
const empty = (status: number): RestReply => ({ status });
const notFoundPage: RestReply = { status: 404, body: '404 page not found\n', contentType: 'text/plain; charset=utf-8' };

const compact = (s: Subscription): string =>
  goJson({
    ResourceAddress: s.ResourceAddress,
    EndpointUri: s.EndpointUri,
    SubscriptionId: s.SubscriptionId,
    UriLocation: s.UriLocation,
  });

export function createEventsApi(deps: EventsApiDeps): (req: RestRequest) => Promise<RestReply> {
  const { store, logger } = deps;

  async function createSubscription(body: string): Promise<RestReply> {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      logger.info('subscription refused: body is not JSON');
      return empty(400);
    }
    const o = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Record<string, unknown>;
    const endpoint = typeof o.EndpointUri === 'string' ? o.EndpointUri : '';
    const address = typeof o.ResourceAddress === 'string' ? o.ResourceAddress : '';
    if (endpoint === '' || address === '') {
      logger.info({ endpoint, address }, 'subscription refused: EndpointUri and ResourceAddress are required');
      return empty(400);
    }
    const bad = deps.policy.check(endpoint);
    if (bad !== undefined) {
      logger.warn({ endpoint: endpoint.slice(0, 256), reason: bad }, 'subscription refused');
      return empty(400);
    }
    if (Buffer.byteLength(address) > 1024) {
      logger.info('subscription refused: ResourceAddress longer than 1024 bytes');
      return empty(400);
    }
    if (store.find(address, endpoint)) {
      logger.info({ endpoint, address }, 'subscription refused: already subscribed (409)');
      return empty(409);
    }
    const resource = resourceOf(address);
    if (resource === undefined) {
      logger.info({ address }, 'subscription refused: unknown resource (404)');
      return empty(404);
    }
    const clientId = clientIdOf(endpoint);
    const newClient = !store.hasClient(clientId);
    if (store.size >= deps.maxSubscriptions || (newClient && store.consumers().length >= deps.maxConsumers)) {
      logger.warn(
        { endpoint, address, maxSubscriptions: deps.maxSubscriptions, maxConsumers: deps.maxConsumers },
        'subscription refused: limit reached',
      );
      return empty(400);
    }
    // The initial notification, before the 201: the endpoint must answer 204 (CEP).
    const spec = resources[resource];
    const initial = deps.encode(spec.suffix, spec.type, deps.current(resource).values);
    let status: number;
    try {
      status = (await deps.post(endpoint, initial)).status;
    } catch (err) {
      logger.info({ endpoint, address, err: String(err) }, 'subscription refused: initial notification failed');
      return empty(400);
    }
    if (status !== 204) {
      logger.info({ endpoint, address, status }, 'subscription refused: initial notification not answered 204');
      return empty(400);
    }
    if (store.find(address, endpoint)) return empty(409); // a concurrent request won while we waited
    const id = randomId();
    const sub: Subscription = {
      ResourceAddress: address,
      EndpointUri: endpoint,
      SubscriptionId: id,
      UriLocation: `${deps.uriBase()}${apiBasePath}subscriptions/${id}`,
    };
    try {
      await store.add(sub);
    } catch (err) {
      logger.error({ err: String(err), file: store.file }, 'subscription not stored');
      return empty(404);
    }
    deps.onConsumerAdded({ clientId, endpoint });
    logger.info({ subscription: id, clientId, endpoint, address }, 'subscription created');
    return json(201, compact(sub));
  }

  async function deleteOne(id: string): Promise<RestReply> {
    let gone: Subscription | undefined;
    try {
      gone = await store.delete(id);
    } catch (err) {
      logger.error({ err: String(err), file: store.file }, 'subscription delete not stored');
      return empty(404);
    }
    if (!gone) return empty(404);
    const clientId = clientIdOf(gone.EndpointUri);
    logger.info(
      { subscription: id, clientId, endpoint: gone.EndpointUri, address: gone.ResourceAddress },
      'subscription deleted',
    );
    if (!store.hasClient(clientId)) deps.onConsumerRemoved(clientId);
    return empty(204);
  }

  async function deleteAll(): Promise<RestReply> {
    let gone: Subscription[];
    try {
      gone = await store.deleteAll();
    } catch (err) {
      return json(400, goJson({ error: String(err) }));
    }
    const clients = new Set(gone.map((s) => clientIdOf(s.EndpointUri)));
    for (const c of clients) deps.onConsumerRemoved(c);
    logger.info({ subscriptions: gone.length, consumers: clients.size }, 'all subscriptions deleted');
    return empty(204);
  }

  function currentState(rawAddress: string): RestReply {
    const address = `/${rawAddress.replace(/^\/+/, '')}`;
    if (!store.hasAddress(address)) return empty(404);
    const resource = resourceOf(address, { v1ClockClass: true });
    if (resource === undefined) return empty(404);
    const state = deps.current(resource);
    if (state.kind !== 'values') return empty(404);
    const source =
      resource === 'clock-class' && address.includes(clockClassV1Suffix)
        ? clockClassV1Suffix
        : resources[resource].suffix;
    return json(200, deps.encode(source, resources[resource].type, state.values));
  }

  function publishers(): RestReply {
    const base = `http://localhost:${new URL(deps.uriBase()).port || '80'}${apiBasePath}`;
    const list = resourceIds.map((id) => {
      const address = resourceAddress(deps.nodeName, id);
      const pid = nameUuid(`publisher:${address}`);
      return {
        ResourceAddress: address,
        EndpointUri: `${base}dummy`,
        SubscriptionId: pid,
        UriLocation: `${base}publishers/${pid}`,
      };
    });
    return json(200, goJson(list, 1));
  }

  return async (req: RestRequest): Promise<RestReply> => {
    if (!req.path.startsWith(apiBasePath)) return notFoundPage;
    const rest = req.path.slice(apiBasePath.length);
    const m = req.method;
    if (rest === 'subscriptions') {
      if (m === 'POST') return createSubscription(req.body);
      if (m === 'GET') return json(200, store.size === 0 ? 'null' : goJson(store.list(), 1));
      if (m === 'DELETE') return deleteAll();
      return empty(405);
    }
    const sub = /^subscriptions\/([^/]+)$/.exec(rest);
    if (sub) {
      let id: string;
      try {
        id = decodeURIComponent(sub[1]!);
      } catch {
        return empty(404); // a malformed %-escape names no subscription
      }
      if (m === 'GET') {
        const s = store.get(id);
        return s ? json(200, compact(s)) : empty(404);
      }
      if (m === 'DELETE') return deleteOne(id);
      return empty(405);
    }
    if (rest === 'health')
      return m === 'GET' ? { status: 200, body: 'OK', contentType: 'text/plain; charset=utf-8' } : empty(405);
    if (rest === 'publishers') return m === 'GET' ? publishers() : empty(405);
    const cs = /^(.+)\/CurrentState$/.exec(rest);
    if (cs) return m === 'GET' ? currentState(cs[1]!) : empty(405);
    return notFoundPage;
  };
}
