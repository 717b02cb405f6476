// P5 in parts: what each feature of a forwarding parent costs per event, next to the minimal parent of
// supervisorForwarding.ts. Not a step of `npm run bench` (no row, no target): run it by hand when the P5 ratio moves,
// `npx tsx bench/supervisorForwardingParts.ts [rounds]`. Every variant forwards `bench.tick` to the same counting child;
// the variants live side by side in one process, each round sends a block of events to each of them in a rotating
// order, and a variant's figure is the median over the rounds of (minimal parent's block time / its block time), so
// load on the machine falls on all alike. Each variant's child must have counted every event.
import { assign, createActor, sendTo, setup, type AnyActor, type AnyActorRef } from 'xstate';
import { median, now } from './measure.js';
import { counterMachine, supervisorActor, tick } from './supervisorForwarding.js';

interface Ctx {
  sink?: AnyActorRef;
}

/** The sink when it runs: what the supervisor's guard checks (a ref read from context, its status). */
const running = (c: Ctx): AnyActorRef | undefined => (c.sink?.getSnapshot().status === 'active' ? c.sink : undefined);

const parts = setup({
  types: { context: {} as Ctx, events: {} as { type: string } },
  actors: { counter: counterMachine },
  guards: {
    yes: () => true,
    sinkRunning: ({ context }) => running(context) !== undefined,
  },
  actions: {
    // `bench.hello` (sent once, before the timed blocks) puts the sink's ref in context.
    keepSink: assign({ sink: ({ system }) => system.get('sink') as AnyActorRef }),
    toChild: sendTo('sink', ({ event }) => event),
    toRef: sendTo(
      ({ context }) => context.sink!,
      ({ event }) => event,
    ),
  },
});

const invoke = { src: 'counter', id: 'sink', systemId: 'sink' } as const;
type Forward = { guard?: string; actions: string } | { guard?: string; actions: string }[];

/** The root forwards (no child state active: one state node). */
const flat = (id: string, forward: Forward) =>
  parts.createMachine({
    id,
    context: {},
    invoke,
    on: { 'bench.hello': { actions: 'keepSink' }, '*': forward as never },
  });

/** A child state `running` forwards (root + running active), as the supervisor does. */
const nested = (id: string, forward: Forward) =>
  parts.createMachine({
    id,
    context: {},
    invoke,
    initial: 'running',
    states: {
      running: { on: { 'bench.hello': { actions: 'keepSink' }, '*': forward as never } },
      stopped: { type: 'final' },
    },
  });

const minimal = setup({ actors: { counter: counterMachine } }).createMachine({
  id: 'benchParent',
  invoke,
  on: { 'bench.tick': { actions: sendTo('sink', ({ event }) => event) } },
});

const variants: Record<string, () => AnyActor> = {
  'minimal parent (reference)': () => createActor(minimal),
  'flat, wildcard, no guard': () => createActor(flat('a', { actions: 'toChild' })),
  'flat, guard () => true': () => createActor(flat('b', [{ guard: 'yes', actions: 'toChild' }])),
  'flat, guard reading the ref status': () => createActor(flat('c', [{ guard: 'sinkRunning', actions: 'toChild' }])),
  'flat, guard + target from context': () => createActor(flat('d', [{ guard: 'sinkRunning', actions: 'toRef' }])),
  'nested, no guard': () => createActor(nested('e', { actions: 'toChild' })),
  'nested, guard + target from context': () => createActor(nested('f', [{ guard: 'sinkRunning', actions: 'toRef' }])),
  'the supervisor': supervisorActor,
};

const rounds = Number(process.argv[2] ?? 200);
const perBlock = 4_000;
const warmup = 20;
const names = Object.keys(variants);
const actors = names.map((n) => variants[n]!().start());
for (const a of actors) a.send({ type: 'bench.hello' });
const times: number[][] = names.map(() => []);
for (let r = 0; r < rounds + warmup; r++)
  for (let k = 0; k < names.length; k++) {
    const i = (k + r) % names.length;
    const a = actors[i]!;
    const t = now();
    for (let e = 0; e < perBlock; e++) a.send(tick);
    if (r >= warmup) times[i]!.push(now() - t);
  }
for (let i = 0; i < names.length; i++) {
  const got = (actors[i]!.system.get('sink')?.getSnapshot() as { context: { n: number } } | undefined)?.context.n;
  if (got !== (rounds + warmup) * perBlock) throw new Error(`${names[i]}: the child counted ${got}`);
  actors[i]!.stop();
}
console.log(`${rounds} rounds of ${perBlock} events per variant; median of the per-round ratios to the minimal parent`);
for (let i = 0; i < names.length; i++) {
  const ratio = median(times[i]!.map((t, r) => times[0]![r]! / t));
  const usPerEvent = (median(times[i]!) / perBlock) * 1000;
  console.log(`${names[i]!.padEnd(40)} ${ratio.toFixed(3)}  (${usPerEvent.toFixed(2)} µs/event)`);
}
