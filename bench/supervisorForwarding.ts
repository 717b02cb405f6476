// P5: events/s through the supervisor (root actor, forward by `receives` prefix) to a child machine, vs a minimal
// XState parent that invokes the same child and forwards every event to it with sendTo (the least a parent that owns
// the routing can do), and raw actor.send on the child as context. All run the same number of events; the child
// counts what it got.
import { assign, createActor, sendTo, setup } from 'xstate';
import { supervisorMachine } from '../src/machines/supervisor/supervisor.js';
import { fmt, median, now, type Figure } from './measure.js';

const counterMachine = setup({
  types: { context: {} as { n: number }, events: {} as { type: 'bench.tick' } },
}).createMachine({
  id: 'benchCounter',
  context: { n: 0 },
  on: { 'bench.tick': { actions: assign({ n: ({ context }) => context.n + 1 }) } },
});

const tick = { type: 'bench.tick' } as const;

function viaSupervisor(events: number): number {
  const root = createActor(supervisorMachine, {
    systemId: 'supervisor',
    input: {
      children: [{ id: 'sink', systemId: 'sink', logic: counterMachine, restart: 'permanent', receives: ['bench.'] }],
      maxRestarts: 5,
      periodMs: 10_000,
      backoff: { initialMs: 100, maxMs: 1_000, factor: 2 },
      shutdownTimeoutMs: 1_000,
    },
  });
  root.start();
  const sink = root.system.get('sink');
  if (!sink) throw new Error('P5: the supervisor did not start its child');
  const t = now();
  for (let i = 0; i < events; i++) root.send(tick as never);
  const ms = now() - t;
  const got = (sink.getSnapshot() as { context: { n: number } }).context.n;
  root.stop();
  if (got !== events) throw new Error(`P5: the child counted ${got} of ${events} forwarded events`);
  return (events / ms) * 1000;
}

const minimalParent = setup({
  types: { events: {} as { type: 'bench.tick' } },
  actors: { counter: counterMachine },
}).createMachine({
  id: 'benchParent',
  invoke: { src: 'counter', id: 'sink', systemId: 'sink' },
  on: { 'bench.tick': { actions: sendTo('sink', ({ event }) => event) } },
});

function viaMinimalParent(events: number): number {
  const root = createActor(minimalParent).start();
  const sink = root.system.get('sink');
  if (!sink) throw new Error('P5: the minimal parent did not start its child');
  const t = now();
  for (let i = 0; i < events; i++) root.send(tick);
  const ms = now() - t;
  const got = (sink.getSnapshot() as { context: { n: number } }).context.n;
  root.stop();
  if (got !== events) throw new Error(`P5: the minimal parent's child counted ${got} of ${events}`);
  return (events / ms) * 1000;
}

function raw(events: number): number {
  const actor = createActor(counterMachine).start();
  const t = now();
  for (let i = 0; i < events; i++) actor.send(tick);
  const ms = now() - t;
  const got = actor.getSnapshot().context.n;
  actor.stop();
  if (got !== events) throw new Error(`P5: the raw actor counted ${got} of ${events}`);
  return (events / ms) * 1000;
}

export function benchSupervisorForwarding(opts: { runs: number; events: number }): Figure {
  viaSupervisor(Math.min(20_000, opts.events)); // warm-up (JIT)
  viaMinimalParent(Math.min(20_000, opts.events));
  raw(Math.min(20_000, opts.events));
  const fig: number[] = [];
  const ceil: number[] = [];
  const direct: number[] = [];
  for (let i = 0; i < opts.runs; i++) {
    fig.push(viaSupervisor(opts.events));
    ceil.push(viaMinimalParent(opts.events));
    direct.push(raw(opts.events));
  }
  const figure = median(fig);
  const ceiling = median(ceil);
  const ratio = figure / ceiling;
  return {
    id: 'P5',
    title: `Supervisor forwarding, ${opts.events.toLocaleString('en-US')} events per run`,
    figure,
    unit: 'events/s',
    ceiling,
    ceilingLabel: 'a minimal XState parent forwarding with sendTo to the same child (events/s)',
    ratio,
    target: 'ratio >= 0.95',
    met: ratio >= 0.95,
    runs: opts.runs,
    samples: { figure: fig, ceiling: ceil },
    notes: [
      `Context: raw actor.send on the child alone: ${fmt(median(direct))} events/s (the supervisor reaches ${fmt(figure / median(direct))} of it, the minimal parent ${fmt(ceiling / median(direct))}).`,
    ],
  };
}
