import { afterEach, describe, expect, it } from 'vitest';
import { createActor, fromCallback, setup } from 'xstate';
import { createLocalInspector, type LocalInspector } from '../../../src/actors/observe/inspector.js';
import { silentLogger } from '../../../src/io/log.js';
import type { InspectorRecord, InspectorState } from '../../../src/io/observe/inspectorStore.js';

const lamp = setup({
  actors: { ticker: fromCallback(() => () => {}) },
  guards: { hasPower: () => true },
  delays: { cooldown: 1000 },
}).createMachine({
  id: 'lamp',
  initial: 'off',
  states: {
    off: { on: { TOGGLE: { target: 'on', guard: 'hasPower' } } },
    on: {
      invoke: { src: 'ticker', id: 'ticker', systemId: 'lampTicker' },
      initial: 'bright',
      states: { bright: { on: { DIM: 'dim' } }, dim: { after: { cooldown: 'bright' } } },
      on: { TOGGLE: 'off' },
    },
  },
});

let insp: LocalInspector | undefined;
afterEach(async () => {
  await insp?.stop();
  insp = undefined;
});

/** Read SSE messages from /api/events until `until` says stop (bounded by the test timeout). */
async function readSse(url: string, until: (msgs: { event: string; data: unknown }[]) => boolean, onInit: () => void) {
  const ctrl = new AbortController();
  const res = await fetch(url, { signal: ctrl.signal });
  const reader = res.body!.getReader();
  const dec = new TextDecoder();
  let buf = '';
  const msgs: { event: string; data: unknown }[] = [];
  try {
    while (!until(msgs)) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += dec.decode(value, { stream: true });
      let i: number;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const ev = /^event: (.*)$/m.exec(block)?.[1] ?? 'message';
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (data !== undefined) msgs.push({ event: ev, data: JSON.parse(data) });
        if (ev === 'init') onInit();
      }
    }
  } finally {
    ctrl.abort();
  }
  return msgs;
}

describe('local inspector', () => {
  it('serves the actor tree, the chart and the current state of a running machine', async () => {
    insp = createLocalInspector({ port: 0, logger: silentLogger });
    const { url } = await insp.start();
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const actor = createActor(lamp, { inspect: insp.inspect }).start();
    actor.send({ type: 'TOGGLE' });

    const state = (await (await fetch(`${url}api/actors`)).json()) as InspectorState;
    const root = state.actors.find((a) => !a.parentId)!;
    expect(root).toMatchObject({ actorId: actor.id, machine: 'lamp', status: 'active', value: { on: 'bright' } });
    const ticker = state.actors.find((a) => a.systemId === 'lampTicker')!;
    expect(ticker).toMatchObject({ parentId: root.id, actorId: 'ticker', status: 'active' });
    const chart = state.charts['lamp'] as {
      states: { key: string; transitions: { label: string; guard?: string }[] }[];
    };
    expect(chart.states.map((s) => s.key)).toEqual(['off', 'on']);
    expect(chart.states[0]!.transitions).toEqual([
      expect.objectContaining({ label: 'TOGGLE', guard: 'hasPower', targets: ['lamp.on'] }),
    ]);
    expect(state.events.some((r) => r.kind === 'event' && r.type === 'TOGGLE' && r.to === root.id)).toBe(true);

    // leaving `on` stops the invoked callback actor: the inspector marks it stopped
    actor.send({ type: 'TOGGLE' });
    const after = (await (await fetch(`${url}api/actors`)).json()) as InspectorState;
    expect(after.actors.find((a) => a.systemId === 'lampTicker')?.status).toBe('stopped');
    expect(after.actors.find((a) => a.id === root.id)?.value).toBe('off');
    actor.stop();
  });

  it('streams an init message and then records over SSE', async () => {
    insp = createLocalInspector({ port: 0, logger: silentLogger });
    const { url } = await insp.start();
    const actor = createActor(lamp, { inspect: insp.inspect }).start();
    const reading = readSse(
      `${url}api/events`,
      (m) =>
        m.some(
          (x) =>
            x.event === 'records' &&
            (x.data as InspectorRecord[]).some(
              (r) => r.kind === 'snapshot' && JSON.stringify(r.value) === '{"on":"dim"}',
            ),
        ),
      () => {
        actor.send({ type: 'TOGGLE' });
        actor.send({ type: 'DIM' });
      },
    );
    const msgs = await reading;
    expect(msgs[0]!.event).toBe('init');
    const recs = msgs.filter((m) => m.event === 'records').flatMap((m) => m.data as InspectorRecord[]);
    expect(recs.filter((r) => r.kind === 'event').map((r) => (r as { type: string }).type)).toEqual(
      expect.arrayContaining(['TOGGLE', 'DIM']),
    );
    actor.stop();
  });

  it('serves the page and its assets, and nothing else', async () => {
    insp = createLocalInspector({ port: 0, logger: silentLogger });
    const { url } = await insp.start();
    const page = await fetch(url);
    expect(page.headers.get('content-type')).toContain('text/html');
    const html = await page.text();
    expect(html).toContain('/assets/app.js');
    expect(html).not.toMatch(/https?:\/\//);
    expect((await fetch(`${url}assets/app.js`)).status).toBe(200);
    expect((await fetch(`${url}assets/style.css`)).headers.get('content-type')).toContain('text/css');
    expect((await fetch(`${url}assets/../../inspectorServer.ts`)).status).toBe(404);
    expect((await fetch(`${url}assets/%2e%2e%2fREADME.md`)).status).toBe(404);
    expect((await fetch(`${url}api/actors`, { method: 'POST' })).status).toBe(405);
  });

  it('caps the record ring', () => {
    insp = createLocalInspector({ port: 0, logger: silentLogger, maxRecords: 50 });
    const actor = createActor(lamp, { inspect: insp.inspect }).start();
    for (let i = 0; i < 100; i++) actor.send({ type: 'TOGGLE' });
    const st = insp.store.state();
    expect(insp.store.recent()).toHaveLength(50);
    expect(st.dropped).toBeGreaterThan(0);
    actor.stop();
  });
});
