// The inspector page pairs each event with the snapshot that resulted from it, in real headless Chromium against the
// real local inspector (in process). A machine that sends itself an event while it handles another one queues it:
// the stream then holds event e1, event e2, snapshot(e1), snapshot(e2), and the cursor on e2 must show e2's result,
// the cursor on e1 e1's. Needs Debian's `chromium`; skipped with a printed reason when it is missing.
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createActor, sendTo, setup, type AnyActorRef } from 'xstate';
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

describe.skipIf(!chromiumPath)('inspector page: steps', () => {
  let insp: LocalInspector;
  let url: string;
  let actor: AnyActorRef;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    insp = createLocalInspector({ port: 0, logger: silentLogger });
    ({ url } = await insp.start());
    actor = createActor(relay, { inspect: insp.inspect, systemId: 'relay' });
    actor.start();
    actor.send({ type: 'arm' });
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
    const at = (type: string) =>
      page.evaluate(async (t) => {
        const insp = (
          globalThis as unknown as {
            __syncvisorInspector: {
              find(id: string, type: string): number;
              goto(i: number): void;
              actor(id: string): { value?: unknown } | null;
            };
          }
        ).__syncvisorInspector;
        insp.goto(insp.find('relay', t));
        // The view is folded when the page renders (next frame).
        const raf = (globalThis as unknown as { requestAnimationFrame(f: () => void): void }).requestAnimationFrame;
        await new Promise((r) => raf(() => setTimeout(r, 20)));
        return insp.actor('relay')?.value;
      }, type);
    expect(await at('arm')).toBe('armed');
    expect(await at('advance')).toBe('advanced');
    expect(await at('xstate.init')).toBe('idle');
  });
});
