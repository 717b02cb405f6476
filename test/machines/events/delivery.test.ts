// The delivery machine with its real post actor against real loopback consumers.
import { createActor, createMachine, sendTo, spawnChild } from 'xstate';
import { afterEach, describe, expect, it } from 'vitest';
import { deliveryMachine, type DeliveryInput } from '../../../src/machines/events/delivery.js';
import { createPostActor } from '../../../src/actors/events/delivery.js';
import { EventConsumer } from '../../support/eventConsumer.js';

const consumers: EventConsumer[] = [];
afterEach(async () => {
  for (const c of consumers.splice(0)) await c.close();
});

function run(input: Partial<DeliveryInput> & { endpoint: string }) {
  const removed: unknown[] = [];
  const counts = { delivered: 0, rejected: 0, failed: 0, dropped: 0 };
  const logic = deliveryMachine.provide({
    actors: { post: createPostActor(300) },
    actions: {
      countDelivered: () => void counts.delivered++,
      countRejected: () => void counts.rejected++,
      countFailed: () => void counts.failed++,
      countDropped: () => void counts.dropped++,
    },
  });
  // A parent that records delivery.removed.
  const parent = createActor(
    createMachine({
      entry: spawnChild(logic, {
        id: 'd',
        input: { clientId: 'c1', queueMax: 100, failAfter: 10, backoffInitialMs: 1, backoffMaxMs: 5, ...input },
      }),
      on: {
        'delivery.removed': { actions: ({ event }) => removed.push(event) },
        send: {
          actions: sendTo('d', ({ event }) => ({
            type: 'delivery.enqueue',
            event: (event as unknown as { e: never }).e,
          })),
        },
      },
    }),
  ).start();
  const send = (body: string) => parent.send({ type: 'send', e: { type: 't', body } } as never);
  const child = () => parent.getSnapshot().children.d;
  return { parent, send, removed, counts, child };
}

const until = async (ok: () => boolean, ms = 5_000) => {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('delivery machine', () => {
  it('delivers in order; a non-204 is not retried and resets nothing but counts', async () => {
    const c = await new EventConsumer().start();
    consumers.push(c);
    const d = run({ endpoint: c.url() });
    for (const b of ['1', '2', '3']) d.send(b);
    await until(() => d.counts.delivered === 3);
    expect(c.received.map((r) => r.body)).toEqual(['1', '2', '3']);
    c.mode = { kind: 'status', status: 500 };
    d.send('4');
    await until(() => d.counts.rejected === 1);
    await new Promise((r) => setTimeout(r, 100));
    expect(c.received).toHaveLength(4);
    d.parent.stop();
  });

  it('a consumer that never answers times out; the bounded queue drops the oldest', async () => {
    const c = await new EventConsumer().start();
    consumers.push(c);
    c.mode = { kind: 'never' };
    const d = run({ endpoint: c.url(), queueMax: 2 });
    for (const b of ['1', '2', '3', '4', '5']) d.send(b);
    // '1' is in flight; '2','3','4','5' → queue of 2 keeps '4','5'.
    expect(d.counts.dropped).toBe(2);
    await until(() => c.received.length === 1);
    c.mode = { kind: '204' };
    await until(() => d.counts.delivered === 2);
    expect(d.counts.failed).toBe(1);
    expect(c.received.map((r) => r.body)).toEqual(['1', '4', '5']);
    d.parent.stop();
  });

  it('removed after failAfter consecutive connection failures, reported to the parent', async () => {
    const c = await new EventConsumer().start();
    const url = c.url();
    await c.close();
    const d = run({ endpoint: url, failAfter: 3 });
    for (const b of ['1', '2', '3', '4']) d.send(b);
    await until(() => d.removed.length === 1);
    expect(d.removed[0]).toEqual({ type: 'delivery.removed', clientId: 'c1', failures: 3 });
    expect(d.counts.failed).toBe(3);
    d.parent.stop();
  });

  it('only consecutive failures count: a 204 or any other answer in between starts the count again', async () => {
    const c = await new EventConsumer().start();
    consumers.push(c);
    const d = run({ endpoint: c.url(), failAfter: 3 });
    const fail = async (n: number) => {
      c.mode = { kind: 'never' }; // each POST times out (300 ms here): one connection failure each
      const before = d.counts.failed;
      for (let i = 0; i < n; i++) d.send(`f${i}`);
      await until(() => d.counts.failed === before + n);
    };
    await fail(2);
    c.mode = { kind: 'status', status: 500 };
    d.send('r');
    await until(() => d.counts.rejected === 1);
    await fail(2);
    c.mode = { kind: '204' };
    d.send('ok');
    await until(() => d.counts.delivered === 1);
    await fail(2);
    // 6 failures, never 3 in a row: still there.
    expect(d.removed).toEqual([]);
    expect(d.child()?.getSnapshot().status).toBe('active');
    await fail(1);
    await until(() => d.removed.length === 1);
    expect(d.removed[0]).toEqual({ type: 'delivery.removed', clientId: 'c1', failures: 3 });
    d.parent.stop();
  });
});
