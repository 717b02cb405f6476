// The inspector page pairs each event with the snapshot that resulted from it, in real headless Chromium against the
// real local inspector (in process). A machine that sends itself an event while it handles another one queues it:
// the stream then holds event e1, event e2, snapshot(e1), snapshot(e2), and the cursor on e2 must show e2's result,
// the cursor on e1 e1's. An actor that publishes no snapshot for its events (a callback actor) is not paired with
// its far later final snapshot (its stop, which names no event): the cursor on such an event shows it still running.
// A machine that sends an event to a child while it handles one has already entered its new state when the child
// handles it, though its own snapshot record comes after the child's: the cursor on the child's event shows both.
// Needs Debian's `chromium`; skipped with a printed reason when it is missing.
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createActor, fromCallback, sendParent, sendTo, setup, type AnyActorRef } from 'xstate';
import { createLocalInspector, type LocalInspector } from '../../src/actors/observe/inspector.js';
import { silentLogger } from '../../src/io/log.js';
import type { InspectorRecord } from '../../src/io/observe/inspectorStore.js';

const chromiumPath = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
if (!chromiumPath) console.warn('inspector.steps.browser.test: skipped: no Chromium at /usr/bin/chromium');

// first → (arm: queues advance to itself) → armed → (advance) → advanced; context counts the steps.
const relay = setup({
  types: { context: {} as { steps: number }, events: {} as { type: 'arm' } | { type: 'advance' } },
  actions: { queueAdvance: sendTo(({ self }) => self, { type: 'advance' }) },
}).createMachine({
  id: 'relay',
  context: { steps: 0 },
  initial: 'idle',
  states: {
    idle: { on: { arm: { target: 'armed', actions: ['queueAdvance'] } } },
    armed: { on: { advance: 'advanced' } },
    advanced: {},
  },
});

// host invokes a callback actor (worker) while working; each poke sends the worker a ping (the worker publishes no
// snapshot for it); halt leaves working, which stops the worker (its final snapshot names no event).
const host = setup({
  actors: { worker: fromCallback(() => () => {}) },
  actions: { pingWorker: sendTo('worker', { type: 'ping' }) },
}).createMachine({
  id: 'host',
  initial: 'working',
  states: {
    working: {
      invoke: { src: 'worker', id: 'worker', systemId: 'worker' },
      on: { poke: { actions: ['pingWorker'] }, halt: 'finished' },
    },
    finished: {},
  },
});

// sender, on go, enters sent and sends its child receiver a ping; the receiver enters pinged and answers pong (queued
// for the sender, still handling go), on which the sender enters answered.
const receiver = setup({
  types: { events: {} as { type: 'ping' } },
  actions: { pong: sendParent({ type: 'pong' }) },
}).createMachine({
  id: 'receiver',
  initial: 'idle',
  states: { idle: { on: { ping: { target: 'pinged', actions: ['pong'] } } }, pinged: {} },
});
const sender = setup({
  types: { events: {} as { type: 'go' } | { type: 'pong' } },
  actors: { receiver },
  actions: { pingReceiver: sendTo('receiver', { type: 'ping' }) },
}).createMachine({
  id: 'sender',
  initial: 'waiting',
  invoke: { src: 'receiver', id: 'receiver', systemId: 'receiver' },
  states: {
    waiting: { on: { go: { target: 'sent', actions: ['pingReceiver'] } } },
    sent: { on: { pong: 'answered' } },
    answered: {},
  },
});

/**
 * Puts the page's cursor on the first event of `type` sent to `systemId` and returns how the page shows `actors`
 * there (value and status, null for an actor not alive at that step), once the view was folded (the next frame).
 */
async function cursorAt(
  page: Page,
  systemId: string,
  type: string,
  actors: string[],
): Promise<Record<string, { value?: unknown; status: string } | null>> {
  return page.evaluate(
    async ([sys, t, ids]) => {
      const insp = (
        globalThis as unknown as {
          __syncvisorInspector: {
            find(id: string, type: string): number;
            goto(i: number): void;
            actor(id: string): { value?: unknown; status: string } | null;
          };
        }
      ).__syncvisorInspector;
      insp.goto(insp.find(sys, t));
      const raf = (globalThis as unknown as { requestAnimationFrame(f: () => void): void }).requestAnimationFrame;
      await new Promise((r) => raf(() => setTimeout(r, 20)));
      return Object.fromEntries(ids.map((id) => [id, insp.actor(id)]));
    },
    [systemId, type, actors] as const,
  );
}

describe.skipIf(!chromiumPath)('inspector page: steps', () => {
  let insp: LocalInspector;
  let url: string;
  let actor: AnyActorRef;
  let hostActor: AnyActorRef;
  let senderActor: AnyActorRef;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    insp = createLocalInspector({ port: 0, logger: silentLogger });
    ({ url } = await insp.start());
    actor = createActor(relay, { inspect: insp.inspect, systemId: 'relay' });
    actor.start();
    actor.send({ type: 'arm' });
    hostActor = createActor(host, { inspect: insp.inspect, systemId: 'host' });
    hostActor.start();
    hostActor.send({ type: 'poke' });
    hostActor.send({ type: 'poke' });
    hostActor.send({ type: 'halt' });
    senderActor = createActor(sender, { inspect: insp.inspect, systemId: 'sender' });
    senderActor.start();
    senderActor.send({ type: 'go' });
    browser = await chromium.launch({
      executablePath: chromiumPath!,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    page = await browser.newPage();
    await page.route('**/*', (route) => (route.request().url().startsWith(url) ? route.continue() : route.abort()));
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    actor?.stop();
    hostActor?.stop();
    senderActor?.stop();
    await insp?.stop();
  }, 30_000);

  it('the stream interleaves the queued event before the first snapshot, and names each snapshot’s event', () => {
    const recs = insp.store
      .state()
      .events.filter(
        (r): r is Extract<InspectorRecord, { kind: 'event' | 'snapshot' }> =>
          (r.kind === 'event' || r.kind === 'snapshot') && (r.kind === 'snapshot' ? r.id : r.to) === actor.sessionId,
      );
    const shape = recs.map((r) => (r.kind === 'event' ? r.type : `snapshot ${JSON.stringify(r.value)}`));
    expect(shape).toEqual(['xstate.init', 'arm', 'advance', 'snapshot "armed"', 'snapshot "advanced"']);
    const seqOf = (type: string) => recs.find((r) => r.kind === 'event' && r.type === type)!.seq;
    const snaps = recs.filter((r) => r.kind === 'snapshot') as Extract<InspectorRecord, { kind: 'snapshot' }>[];
    // The initial state comes with the actor record; then one snapshot per event, each naming it.
    expect(snaps.map((s) => s.event)).toEqual([seqOf('arm'), seqOf('advance')]);
  });

  it('the cursor on each event shows the state that event led to', async () => {
    await page.goto(url);
    await page.locator('[data-testid=connection]', { hasText: 'live' }).waitFor();
    const at = async (type: string) => (await cursorAt(page, 'relay', type, ['relay'])).relay?.value;
    expect(await at('arm')).toBe('armed');
    expect(await at('advance')).toBe('advanced');
    expect(await at('xstate.init')).toBe('idle');
  });

  it('the cursor on an event its target publishes no snapshot for shows the target as it was then, not at its stop', async () => {
    // The stream: the worker's pings, the host's halt, then the worker's final snapshot (no event named).
    const recs = insp.store.state().events;
    const worker = recs.find((r) => r.kind === 'actor' && r.actor.systemId === 'worker')!;
    const workerId = worker.kind === 'actor' ? worker.actor.id : '';
    const final = recs.findIndex((r) => r.kind === 'snapshot' && r.id === workerId);
    expect(recs[final]).toMatchObject({ kind: 'snapshot', status: 'stopped' });
    expect(recs[final]).not.toHaveProperty('event');
    const pings = recs.flatMap((r, i) => (r.kind === 'event' && r.to === workerId && r.type === 'ping' ? [i] : []));
    expect(pings).toHaveLength(2);
    expect(pings.every((i) => i < final)).toBe(true);

    await page.goto(url);
    await page.locator('[data-testid=connection]', { hasText: 'live' }).waitFor();
    const at = async (systemId: string, type: string) => {
      const { host, worker } = await cursorAt(page, systemId, type, ['host', 'worker']);
      return { host: host?.value ?? null, worker: worker?.status ?? null };
    };
    // Right after the first ping: the worker still runs, the host still works.
    expect(await at('worker', 'ping')).toEqual({ host: 'working', worker: 'active' });
    // Right after halt: the host finished, the worker stopped with it.
    expect(await at('host', 'halt')).toEqual({ host: 'finished', worker: null });
  });

  it('the cursor on an event a machine sent while handling another shows that machine in the state it entered', async () => {
    const recs = insp.store.state().events;
    const idOf = (sys: string) => {
      const r = recs.find((x) => x.kind === 'actor' && x.actor.systemId === sys);
      return r && r.kind === 'actor' ? r.actor.id : '';
    };
    const shape = recs
      .filter(
        (r): r is Extract<InspectorRecord, { kind: 'event' | 'snapshot' }> =>
          (r.kind === 'event' && r.type !== 'xstate.init' && [idOf('sender'), idOf('receiver')].includes(r.to)) ||
          (r.kind === 'snapshot' && [idOf('sender'), idOf('receiver')].includes(r.id)),
      )
      .map((r) => (r.kind === 'event' ? r.type : `snapshot ${JSON.stringify(r.value)}`));
    // The receiver's snapshot comes first: the sender's record is published after its sends ran.
    expect(shape).toEqual(['go', 'ping', 'pong', 'snapshot "pinged"', 'snapshot "sent"', 'snapshot "answered"']);

    await page.goto(url);
    await page.locator('[data-testid=connection]', { hasText: 'live' }).waitFor();
    const at = async (systemId: string, type: string) => {
      const { sender, receiver } = await cursorAt(page, systemId, type, ['sender', 'receiver']);
      return { sender: sender?.value ?? null, receiver: receiver?.value ?? null };
    };
    // Right after the ping: the receiver pinged, the sender in sent (entered before it sent the ping), not yet
    // answered (the pong, queued, is the next step).
    expect(await at('receiver', 'ping')).toEqual({ sender: 'sent', receiver: 'pinged' });
    expect(await at('sender', 'pong')).toEqual({ sender: 'answered', receiver: 'pinged' });
    expect(await at('sender', 'xstate.init')).toEqual({ sender: 'waiting', receiver: 'idle' });
  });
});
