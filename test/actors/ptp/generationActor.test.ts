// The data-plane actor with a real generation: lines in, edges out; lines naming unconfigured clocks are counted
// (syncvisor_ptp_rejected_lines_total) and warned about at most once per interval with the count suppressed between;
// stopping the invocation detaches the registry and drops the generation's series.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { createActor, setup, type AnyActorRef } from 'xstate';
import { createGenerationActor } from '../../../src/actors/ptp/generationActor.js';
import { LineChannel } from '../../../src/actors/ptp/lineChannel.js';
import { loadPtpGeneration, type PtpGeneration } from '../../../src/io/ptp/generation.js';
import type { GenerationEdgesEvent } from '../../../src/machines/ptp/events.js';

const examples = join(import.meta.dirname, '../../fixtures/ptp/examples');
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'syncvisor-genactor-'));
  copyFileSync(join(examples, 'ptp4l.0.config'), join(dir, 'ptp4l.0.config'));
  copyFileSync(join(examples, 'node1.json'), join(dir, 'node1'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('generation actor', () => {
  it('parses backlog then lines, sends edges back, counts and rate-limits unknown clocks, cleans up on stop', async () => {
    const g: PtpGeneration = await loadPtpGeneration({ profilePath: dir, configDir: dir, nodeName: 'node1' });
    const registry = new Registry();
    const warns: { dropped: number }[] = [];
    let now = 0;
    let attached: PtpGeneration | undefined;
    const logic = createGenerationActor({
      registry,
      logger: { warn: (o: object) => void warns.push(o as { dropped: number }) },
      now: () => now,
      warnIntervalMs: 10_000,
      attach: (x) => (attached = x),
      detach: () => (attached = undefined),
    });
    const edges: string[] = [];
    const parent = setup({ actors: { gen: logic }, types: { events: {} as GenerationEdgesEvent } }).createMachine({
      invoke: {
        id: 'gen',
        src: 'gen',
        input: { generation: g, backlog: ['ptp4l[1]: [ptp4l.0.config] master offset 5 s2 freq 1 path delay 1\n'] },
      },
      on: { 'ptp.edges': { actions: ({ event }) => event.edges.forEach((e) => edges.push(`${e.key} ${e.verdict}`)) } },
    });
    const root = createActor(parent).start();
    const gen = root.getSnapshot().children['gen'] as AnyActorRef;
    expect(attached).toBe(g);
    expect(edges).toEqual(['ptp4l/ens5f1 locked']);
    const bad = (n: number) =>
      Array.from({ length: n }, (_, i) => `GM[1]:[ptp4l.0.config] nope${i} T-GM-STATUS s2\n`).join('');
    gen.send({ type: 'ptp.lines', lines: bad(3) });
    now = 1_000;
    gen.send({ type: 'ptp.lines', lines: bad(4) });
    now = 11_000;
    gen.send({ type: 'ptp.lines', lines: bad(2) });
    expect(warns.map((w) => w.dropped)).toEqual([3, 6]); // the second summarises the 4 suppressed + 2
    const counted = (await registry.getMetricsAsJSON()).find((m) => m.name === 'syncvisor_ptp_rejected_lines_total');
    expect(counted?.values[0]?.value).toBe(9);
    gen.send({ type: 'ptp.clockState', process: 'ptp4l', iface: 'ens5f1', state: 'LOCKED' });
    expect(await g.metrics.text()).toContain(
      'openshift_ptp_clock_state{process="ptp4l",node="node1",iface="ens5f1"} 1',
    );
    root.stop(); // the invocation ends: the one place the generation stops
    expect(attached).toBeUndefined();
    expect((await g.metrics.text()).trim()).toBe('');
  });

  it('offers its ingest to the line channel after the backlog (same effects as ptp.lines), withdraws it on stop, fails when it throws', async () => {
    const g: PtpGeneration = await loadPtpGeneration({ profilePath: dir, configDir: dir, nodeName: 'node1' });
    const lines = new LineChannel();
    lines.attach();
    const order: string[] = [];
    const ingest = g.ingest.bind(g);
    g.ingest = (text) => {
      order.push(String(text));
      if (String(text).includes('boom')) throw new Error('boom');
      return ingest(text);
    };
    const edges: string[] = [];
    const parent = setup({
      actors: { gen: createGenerationActor({ lines }) },
      types: { events: {} as GenerationEdgesEvent },
    }).createMachine({
      invoke: {
        id: 'gen',
        src: 'gen',
        input: { generation: g, backlog: ['ptp4l[1]: [ptp4l.0.config] master offset 5 s2 freq 1 path delay 1\n'] },
      },
      on: { 'ptp.edges': { actions: ({ event }) => event.edges.forEach((e) => edges.push(`${e.key} ${e.verdict}`)) } },
    });
    const root = createActor(parent);
    const failures: unknown[] = [];
    root.subscribe({ error: (err) => failures.push(err) });
    root.start();
    expect(lines.direct).toBe(true);
    expect(lines.take(1, 'ptp4l[2]: [ptp4l.0.config] master offset 900 s2 freq 1 path delay 1\n')).toBe(true);
    expect(order).toHaveLength(2); // the backlog first, then the batch taken directly
    expect(edges).toEqual(['ptp4l/ens5f1 locked', 'ptp4l/ens5f1 outOfRange']);
    // An ingest that throws: the sink is withdrawn and the actor fails, as on the chart path.
    expect(lines.take(1, 'boom\n')).toBe(true);
    expect(lines.direct).toBe(false);
    expect(root.getSnapshot().status).toBe('error');
    expect(String(failures[0])).toContain('boom');
    expect(lines.take(1, 'ptp4l[3]: [ptp4l.0.config] master offset 1 s2 freq 1 path delay 1\n')).toBe(false);
    root.stop();
  });

  it('withdraws its ingest when the invocation stops; detach closes the channel too', async () => {
    const g: PtpGeneration = await loadPtpGeneration({ profilePath: dir, configDir: dir, nodeName: 'node1' });
    const lines = new LineChannel();
    const parent = setup({ actors: { gen: createGenerationActor({ lines }) } }).createMachine({
      invoke: { id: 'gen', src: 'gen', input: { generation: g, backlog: [] } },
    });
    const root = createActor(parent).start();
    expect(lines.direct).toBe(false); // offered, not attached
    lines.attach();
    expect(lines.direct).toBe(true);
    lines.detach();
    expect(lines.direct).toBe(false);
    lines.attach();
    root.stop();
    expect(lines.direct).toBe(false);
    expect(lines.take(1, 'x\n')).toBe(false);
  });
});
