// The events API handler with a real subscription store on disk, a real event model and a real HTTP consumer on
// loopback: the caps on subscriptions and consumers, a store that cannot be written (404, as CEP), the UriLocation
// base from events.uriBase, and what each refusal leaves behind (nothing).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEventsApi, type EventsApiDeps } from '../../../src/actors/events/api.js';
import { SubscriptionStore } from '../../../src/actors/events/subscriptionStore.js';
import { encodeCloudEvent, newEventId, rfc3339Nano } from '../../../src/io/events/cloudEvent.js';
import { endpointPolicy } from '../../../src/io/events/endpoint.js';
import { postJson } from '../../../src/io/events/httpPost.js';
import { createLogger } from '../../../src/io/log.js';
import { PtpEventModel } from '../../../src/machines/events/ptpEventModel.js';
import { EventConsumer } from '../../support/eventConsumer.js';

const dir = mkdtempSync(join(tmpdir(), 'syncvisor-evapi-'));
const consumer = new EventConsumer();
beforeAll(async () => {
  await consumer.start();
});
afterAll(async () => {
  await consumer.close();
  rmSync(dir, { recursive: true, force: true });
});

const base = '/api/ocloudNotifications/v2/';
const lockState = '/cluster/node/n1/sync/ptp-status/lock-state';
const clockClass = '/cluster/node/n1/sync/ptp-status/clock-class';

function api(store: SubscriptionStore, over: Partial<EventsApiDeps> = {}) {
  const model = new PtpEventModel('n1');
  const added: string[] = [];
  const handle = createEventsApi({
    store,
    nodeName: 'n1',
    uriBase: () => 'http://publisher.ns.svc:9043',
    policy: endpointPolicy([]),
    maxSubscriptions: 3,
    maxConsumers: 2,
    current: (r) => model.current(r),
    encode: (source, type, values) => encodeCloudEvent({ id: newEventId(), source, type, time: rfc3339Nano(), values }),
    post: (endpoint, body) => postJson(endpoint, body, 2_000),
    onConsumerAdded: (c) => added.push(c.endpoint),
    onConsumerRemoved: () => {},
    logger: createLogger('silent'),
    ...over,
  });
  const subscribe = (address: string, endpoint: string) =>
    handle({
      method: 'POST',
      path: `${base}subscriptions`,
      body: JSON.stringify({ ResourceAddress: address, EndpointUri: endpoint }),
    });
  return { handle, subscribe, added };
}

describe('events API handler', () => {
  it('caps: subscriptions and consumers are refused with 400 beyond the limits, after no initial notification', async () => {
    const store = new SubscriptionStore(join(dir, 'caps'));
    await store.load();
    const { subscribe, added } = api(store);
    expect((await subscribe(lockState, consumer.url('/c1'))).status).toBe(201);
    expect((await subscribe(lockState, consumer.url('/c2'))).status).toBe(201);
    // A third consumer: over maxConsumers (2).
    const before = consumer.received.length;
    expect(await subscribe(lockState, consumer.url('/c3'))).toEqual({ status: 400 });
    expect(consumer.received.length).toBe(before); // refused before any POST
    // An existing consumer may add a resource until maxSubscriptions (3).
    expect((await subscribe(clockClass, consumer.url('/c1'))).status).toBe(201);
    expect(await subscribe(clockClass, consumer.url('/c2'))).toEqual({ status: 400 });
    expect(store.size).toBe(3);
    expect(added).toEqual([consumer.url('/c1'), consumer.url('/c2'), consumer.url('/c1')]);
  });

  it('UriLocation is built on events.uriBase; the store file holds what was answered', async () => {
    const store = new SubscriptionStore(join(dir, 'uri'));
    await store.load();
    const { subscribe } = api(store);
    const r = await subscribe(lockState, consumer.url());
    const body = JSON.parse(r.body!) as { SubscriptionId: string; UriLocation: string };
    expect(body.UriLocation).toBe(
      `http://publisher.ns.svc:9043/api/ocloudNotifications/v2/subscriptions/${body.SubscriptionId}`,
    );
    await store.flush();
    const again = new SubscriptionStore(join(dir, 'uri'));
    await again.load();
    expect(again.list()).toEqual([JSON.parse(r.body!)]);
  });

  it('a store that cannot be written: 404 with no body, nothing kept (CEP answers 404 on a store error)', async () => {
    // Loaded from a directory that is then replaced by a regular file: every write fails (ENOTDIR), even as root.
    const storeDir = join(dir, 'gone');
    mkdirSync(storeDir);
    const store = new SubscriptionStore(storeDir);
    await store.load();
    rmSync(storeDir, { recursive: true });
    writeFileSync(storeDir, 'not a directory');
    const { subscribe, handle, added } = api(store);
    expect(await subscribe(lockState, consumer.url('/nostore'))).toEqual({ status: 404 });
    expect(store.size).toBe(0);
    expect(added).toEqual([]);
    const list = await handle({ method: 'GET', path: `${base}subscriptions`, body: '' });
    expect(list.body).toBe('null');
  });
});
