// P5: events/s through the supervisor (root actor, forward by `receives` prefix) to a child machine, vs a minimal
// XState parent that invokes the same child and forwards every event to it with sendTo (the least a parent that owns
// the routing can do), and raw actor.send on the child as context. All run the same number of events; the child
// counts what it got.
import { assign, createActor, sendTo, setup } from 'xstate';
import { supervisorMachine } from '../src/machines/supervisor/supervisor.js';
import { fmt, median, now, type Figure } from './measure.js';

/** The child every variant forwards to: it counts the events it got. */
export const counterMachine = setup({
  types: { context: {} as { n: number }, events: {} as { type: 'bench.tick' } },
}).createMachine({
  id: 'benchCounter',
  context: { n: 0 },
  on: { 'bench.tick': { actions: assign({ n: ({ context }) => context.n + 1 }) } },
});

export const tick = { type: 'bench.tick' } as const;

/** One timed block: wall ms and process CPU ms of sending `events` events. */
interface Block {
  ms: number;
  cpu: number;
}

function timed(send: () => void, events: number): Block {
  const c = process.cpuUsage();
  const t = now();
  for (let i = 0; i < events; i++) send();
  const ms = now() - t;
  const u = process.cpuUsage(c);
  return { ms, cpu: (u.user + u.system) / 1000 };
}

/** The supervisor with the counting child as its one concern, routed by the `bench.` prefix (not started). */
export function supervisorActor() {
  return createActor(supervisorMachine, {
    systemId: 'supervisor',
    input: {
      children: [{ id: 'sink', systemId: 'sink', logic: counterMachine, restart: 'permanent', receives: ['bench.'] }],
      maxRestarts: 5,
      periodMs: 10_000,
      backoff: { initialMs: 100, maxMs: 1_000, factor: 2 },
      shutdownTimeoutMs: 1_000,
    },
  });
}

function viaSupervisor(events: number): Block {
  const root = supervisorActor();
  root.start();
  const sink = root.system.get('sink');
  if (!sink) throw new Error('P5: the supervisor did not start its child');
  const b = timed(() => root.send(tick as never), events);
  const got = (sink.getSnapshot() as { context: { n: number } }).context.n;
  root.stop();
  if (got !== events) throw new Error(`P5: the child counted ${got} of ${events} forwarded events`);
  return b;
}

const minimalParent = setup({
  types: { events: {} as { type: 'bench.tick' } },
  actors: { counter: counterMachine },
}).createMachine({
  id: 'benchParent',
  invoke: { src: 'counter', id: 'sink', systemId: 'sink' },
  on: { 'bench.tick': { actions: sendTo('sink', ({ event }) => event) } },
});

function viaMinimalParent(events: number): Block {
  const root = createActor(minimalParent).start();
  const sink = root.system.get('sink');
  if (!sink) throw new Error('P5: the minimal parent did not start its child');
  const b = timed(() => root.send(tick), events);
  const got = (sink.getSnapshot() as { context: { n: number } }).context.n;
  root.stop();
  if (got !== events) throw new Error(`P5: the minimal parent's child counted ${got} of ${events}`);
  return b;
}

function raw(events: number): Block {
  const actor = createActor(counterMachine).start();
  const b = timed(() => actor.send(tick), events);
  const got = actor.getSnapshot().context.n;
  actor.stop();
  if (got !== events) throw new Error(`P5: the raw actor counted ${got} of ${events}`);
  return b;
}

/**
 * One run: `blocks` blocks of each variant in turn (supervisor, minimal parent, raw), so that other work on the
 * machine falls on all three alike; the run's rates are the events over the summed block times.
 */
function run(events: number, blocks: number): { sup: Block; min: Block; raw: Block } {
  const per = Math.max(1, Math.round(events / blocks));
  const sum = { sup: { ms: 0, cpu: 0 }, min: { ms: 0, cpu: 0 }, raw: { ms: 0, cpu: 0 } };
  const add = (to: Block, b: Block): void => {
    to.ms += b.ms;
    to.cpu += b.cpu;
  };
  for (let i = 0; i < blocks; i++) {
    add(sum.sup, viaSupervisor(per));
    add(sum.min, viaMinimalParent(per));
    add(sum.raw, raw(per));
  }
  return sum;
}

export function benchSupervisorForwarding(opts: { runs: number; events: number; blocks?: number }): Figure {
  const blocks = opts.blocks ?? 10;
  run(Math.min(60_000, opts.events), 3); // warm-up (JIT)
  const fig: number[] = [];
  const ceil: number[] = [];
  const direct: number[] = [];
  const cpuRatio: number[] = [];
  for (let i = 0; i < opts.runs; i++) {
    const r = run(opts.events, blocks);
    fig.push((opts.events / r.sup.ms) * 1000);
    ceil.push((opts.events / r.min.ms) * 1000);
    direct.push((opts.events / r.raw.ms) * 1000);
    cpuRatio.push(r.min.cpu / r.sup.cpu);
  }
  const figure = median(fig);
  const ceiling = median(ceil);
  const ratio = median(fig.map((f, i) => f / ceil[i]!));
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
      `Each run sends the events in ${blocks} blocks per variant, the variants in turn (supervisor, minimal parent, raw), so that other work on the machine falls on all alike; the ratio is the median of the per-run ratios.`,
      `CPU time (process): the minimal parent's over the supervisor's, median ${fmt(median(cpuRatio))} (runs ${cpuRatio.map((v) => fmt(v)).join(', ')}).`,
      `Context: raw actor.send on the child alone: ${fmt(median(direct))} events/s (the supervisor reaches ${fmt(figure / median(direct))} of it, the minimal parent ${fmt(ceiling / median(direct))}).`,
    ],
  };
}
