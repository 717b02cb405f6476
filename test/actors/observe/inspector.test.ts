import { afterEach, describe, expect, it } from 'vitest';
import { request } from 'node:http';
import { assign, createActor, createMachine, fromCallback, setup } from 'xstate';
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

  it('records contexts and full payloads, and withholds raw PTP lines unless asked', () => {
    const counter = setup({
      types: { context: {} as { n: number; ports: Record<string, { mtu: number }> } },
    }).createMachine({
      id: 'counter',
      context: { n: 0, ports: {} },
      on: {
        ADD: {
          actions: assign(({ context, event }) => ({
            n: context.n + 1,
            ports: { ...context.ports, ...(event as unknown as { ports: Record<string, { mtu: number }> }).ports },
          })),
        },
        'socket.line': {},
      },
    });
    insp = createLocalInspector({ port: 0, logger: silentLogger });
    const actor = createActor(counter, { inspect: insp.inspect }).start();
    actor.send({ type: 'ADD', ports: { Ethernet0: { mtu: 9100 } } } as never);
    actor.send({ type: 'socket.line', connId: 1, lines: ['ptp4l[1.2]: master offset -5 s2 freq +500'] } as never);
    const recs = insp.store.recent();
    const add = recs.find((r) => r.kind === 'event' && r.type === 'ADD');
    expect(add).toMatchObject({ payload: { ports: { Ethernet0: { mtu: 9100 } } } });
    const snap = recs.filter((r) => r.kind === 'snapshot').at(-1);
    expect(snap).toMatchObject({ context: { n: 1, ports: { Ethernet0: { mtu: 9100 } } } });
    const line = recs.find((r) => r.kind === 'event' && r.type === 'socket.line') as { payload: unknown };
    expect(JSON.stringify(line.payload)).not.toContain('master offset');
    expect(line.payload).toEqual({
      connId: 1,
      lines: { withheld: '1 item', note: 'raw input lines: set inspect.rawLines' },
    });
    actor.stop();

    const open = createLocalInspector({ port: 0, logger: silentLogger, rawLines: true });
    const a2 = createActor(counter, { inspect: open.inspect }).start();
    a2.send({ type: 'socket.line', connId: 1, lines: ['ptp4l[1.2]: master offset -5 s2 freq +500'] } as never);
    const shown = open.store.recent().find((r) => r.kind === 'event' && r.type === 'socket.line') as {
      payload: unknown;
    };
    expect(shown.payload).toEqual({ connId: 1, lines: ['ptp4l[1.2]: master offset -5 s2 freq +500'] });
    a2.stop();
  });

  it('withholds the ptp sidecar load queue (raw lines read while a generation loads) from contexts', () => {
    const text = 'ptp4l[1.2]: [ptp4l.0.config] master offset -5 s2 freq +500\n';
    const holder = createMachine({
      types: {} as { context: { queue: string[]; queueBytes: number } },
      context: { queue: [], queueBytes: 0 },
      initial: 'loading',
      states: {
        loading: {
          on: { 'ptp.lines': { actions: assign({ queue: [text], queueBytes: text.length }) } },
        },
      },
    });
    insp = createLocalInspector({ port: 0, logger: silentLogger });
    const actor = createActor(holder, { inspect: insp.inspect }).start();
    actor.send({ type: 'ptp.lines' });
    const snap = insp.store
      .recent()
      .filter((r) => r.kind === 'snapshot')
      .at(-1) as { context: unknown };
    expect(JSON.stringify(snap.context)).not.toContain('master offset');
    expect(snap.context).toEqual({
      queue: { withheld: '1 item', note: 'raw input lines: set inspect.rawLines' },
      queueBytes: text.length,
    });
    actor.stop();
  });

  it('the history folds onto its baseline into the live table (what time travel rebuilds)', () => {
    insp = createLocalInspector({ port: 0, logger: silentLogger, maxRecords: 30 });
    const actor = createActor(lamp, { inspect: insp.inspect }).start();
    for (let i = 0; i < 41; i++) actor.send({ type: i % 2 === 0 ? 'TOGGLE' : 'DIM' });
    const st = insp.store.state();
    expect(st.capacity).toBe(30);
    expect(st.events).toHaveLength(30);
    expect(st.dropped).toBeGreaterThan(0);
    // Replaying the kept records on the baseline gives every actor's current status, value and context.
    const table = new Map(st.baseline.map((a) => [a.id, { ...a }]));
    for (const r of st.events) {
      if (r.kind === 'actor') table.set(r.actor.id, { ...table.get(r.actor.id), ...r.actor });
      if (r.kind === 'snapshot' && table.has(r.id)) {
        const a = table.get(r.id)!;
        a.status = r.status;
        if (r.value !== undefined) a.value = r.value;
        if (r.context !== undefined) a.context = r.context;
      }
      if (r.kind === 'stopped' && table.has(r.id)) table.get(r.id)!.status = r.status;
    }
    for (const a of st.actors)
      expect({ status: table.get(a.id)?.status, value: table.get(a.id)?.value }).toEqual({
        status: a.status,
        value: a.value,
      });
    expect(table.get(st.actors.find((a) => !a.parentId)!.id)?.value).toEqual(actor.getSnapshot().value);
    actor.stop();
  });

  it('refuses a request whose Host is not a loopback name (DNS rebinding)', async () => {
    insp = createLocalInspector({ port: 0, logger: silentLogger });
    const { port } = await insp.start();
    const get = (host: string) =>
      new Promise<number>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, path: '/api/actors', headers: { host } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end();
      });
    expect(await get(`127.0.0.1:${port}`)).toBe(200);
    expect(await get(`localhost:${port}`)).toBe(200);
    expect(await get(`evil.example:${port}`)).toBe(403);
    expect(await get(`127.0.0.1.evil.example:${port}`)).toBe(403);
    expect(await get(`127.0.0.1:${port + 1}`)).toBe(200); // a tunnel or a forward under another port
    expect((await fetch(`http://127.0.0.1:${port}/assets/elk.js`)).status).toBe(200);
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
