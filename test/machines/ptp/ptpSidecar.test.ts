import { describe, expect, it } from 'vitest';
import { SimulatedClock, assign, createActor, fromPromise, sendTo, setup, type AnyActorLogic } from 'xstate';
import {
  ptpSidecarMachine,
  type ClockEdge,
  type PtpSidecarInput,
  type SidecarGeneration,
} from '../../../src/machines/ptp/ptpSidecar.js';
import { clockStateMachine } from '../../../src/machines/ptp/clockState.js';

/** A generation whose "parser" understands `clock <key> <verdict>` and records every other line it saw. */
class FakeGeneration implements SidecarGeneration {
  readonly seen: string[] = [];
  stopped = false;
  constructor(
    readonly n: number,
    readonly seeds: ClockEdge[] = [],
  ) {}
  ingest(lines: readonly string[]): ClockEdge[] {
    const edges: ClockEdge[] = [];
    for (const l of lines) {
      this.seen.push(l);
      const [w, key, verdict] = l.split(' ');
      if (w === 'clock' && key && verdict) {
        edges.push({ key, process: key, iface: 'x', profile: 'p', holdoverTimeoutMs: 1_000, verdict } as ClockEdge);
      }
    }
    return edges;
  }
  stop(): void {
    this.stopped = true;
  }
}

function harness(input: Partial<PtpSidecarInput> = {}, seeds: ClockEdge[] = []) {
  const clock = new SimulatedClock();
  const generations: FakeGeneration[] = [];
  const pending: (() => void)[] = [];
  const clockReports: string[] = [];
  const log: string[] = [];
  const sidecar = ptpSidecarMachine.provide({
    actors: {
      loadGeneration: fromPromise<SidecarGeneration, { load: number }>(async () => {
        await new Promise<void>((r) => pending.push(r));
        const g = new FakeGeneration(generations.length + 1, seeds);
        generations.push(g);
        return g;
      }),
      clockState: clockStateMachine.provide({
        actions: { reportClockState: ({ context }, p) => clockReports.push(`${context.key}:${p.to}`) },
      }),
    },
    actions: {
      queueOverflowed: (_, p) => log.push(`dropped ${p.dropped}`),
      ignoreUnknownCommand: () => log.push('unknown'),
      acceptLiveStart: () => log.push('live'),
    },
  });
  const root = setup({
    types: { context: {} as { parentGot: string[] }, events: {} as { type: string; [k: string]: unknown } },
    actors: { sidecar: sidecar as AnyActorLogic },
  }).createMachine({
    context: { parentGot: [] },
    invoke: {
      id: 'ptp',
      systemId: 'ptp',
      src: 'sidecar',
      input: { queueMax: 5, restartMode: 'inProcess', emitLogs: false, ...input },
    },
    on: {
      '*': [
        {
          guard: ({ event }) => event.type.startsWith('socket.') || event.type === 'shutdown',
          actions: sendTo('ptp', ({ event }) => event),
        },
        {
          actions: assign({
            parentGot: ({ context, event }) => [
              ...context.parentGot,
              event.type === 'child.ready'
                ? `ready=${String(event['ready'])}`
                : `${event.type}:${String(event['code'])}`,
            ],
          }),
        },
      ],
    },
  });
  const actor = createActor(root, { clock }).start();
  const child = () => actor.getSnapshot().children['ptp'] as ReturnType<typeof createActor<typeof ptpSidecarMachine>>;
  const finishLoad = async () => {
    for (let i = 0; i < 50 && pending.length === 0; i++) await Promise.resolve();
    pending.shift()?.();
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
  };
  const lines = (...l: string[]) => actor.send({ type: 'socket.line', connId: 1, lines: l });
  const cmd = (command: string) => actor.send({ type: 'socket.command', connId: 1, command });
  return { clock, actor, child, generations, finishLoad, lines, cmd, clockReports, log, pending };
}

describe('ptpSidecar', () => {
  it('loads, then serves: queued lines first, then new lines; ready only while serving', async () => {
    const h = harness();
    expect(h.child().getSnapshot().value).toBe('loading');
    h.lines('q1', 'q2');
    await h.finishLoad();
    expect(h.child().getSnapshot().value).toEqual({ serving: 'live' });
    h.lines('n1');
    expect(h.generations[0]!.seen).toEqual(['q1', 'q2', 'n1']);
    expect(h.actor.getSnapshot().context.parentGot).toEqual(['ready=true']);
  });

  it('drops the oldest queued lines beyond queueMax and counts them', async () => {
    const h = harness({ queueMax: 5 });
    h.lines('l1', 'l2', 'l3');
    h.lines('l4', 'l5', 'l6', 'l7');
    await h.finishLoad();
    expect(h.generations[0]!.seen).toEqual(['l3', 'l4', 'l5', 'l6', 'l7']);
    expect(h.child().getSnapshot().context.queueDropped).toBe(2);
    expect(h.log).toEqual(['dropped 2']);
  });

  it('coalesces 100 RESTARTs in a burst into at most 2 reloads', async () => {
    const h = harness();
    await h.finishLoad();
    for (let i = 0; i < 100; i++) h.cmd('RESTART');
    expect(h.generations[0]!.stopped).toBe(true);
    await h.finishLoad(); // the second load: a restart is pending, so it loads again
    await h.finishLoad();
    await h.finishLoad(); // nothing more is pending
    expect(h.generations.length).toBe(3); // the first load and 2 reloads
    expect(h.child().getSnapshot().context.loads).toBe(3);
    expect(h.child().getSnapshot().value).toEqual({ serving: 'live' });
    expect(h.pending.length).toBe(0);
  });

  it('stops every clock and holdover timer of the old generation on restart', async () => {
    const seed = { key: 'ptp4l/eth0', process: 'ptp4l', iface: 'eth0', profile: 'p', holdoverTimeoutMs: 1_000 };
    const h = harness({}, [seed as ClockEdge]);
    await h.finishLoad();
    h.lines('clock ptp4l/eth0 holdover', 'clock phc2sys/CLOCK_REALTIME locked', 'plain line');
    expect(Object.keys(h.child().getSnapshot().context.clocks).sort()).toEqual([
      'phc2sys/CLOCK_REALTIME',
      'ptp4l/eth0',
    ]);
    h.cmd('RESTART');
    h.clock.increment(5_000); // the holdover timer of the stopped clock never fires
    const of = (k: string) => h.clockReports.filter((r) => r.startsWith(k));
    expect(of('ptp4l/eth0')).toEqual(['ptp4l/eth0:FREERUN', 'ptp4l/eth0:HOLDOVER']);
    expect(of('phc2sys')).toEqual(['phc2sys/CLOCK_REALTIME:FREERUN', 'phc2sys/CLOCK_REALTIME:LOCKED']);
    expect(h.generations[0]!.stopped).toBe(true);
    h.lines('during load');
    await h.finishLoad();
    expect(h.generations[1]!.seen).toEqual(['during load']);
    expect(h.child().getSnapshot().children).toHaveProperty(['clock:ptp4l/eth0']);
  });

  it('holdover ends in FREERUN after the profile timeout', async () => {
    const h = harness();
    await h.finishLoad();
    h.lines('clock k holdover');
    h.clock.increment(999);
    expect(h.clockReports).toEqual(['k:FREERUN', 'k:HOLDOVER']);
    h.clock.increment(1);
    expect(h.clockReports).toEqual(['k:FREERUN', 'k:HOLDOVER', 'k:FREERUN']);
  });

  it('ignores unknown commands, accepts LIVE_START, and never parses CMD lines', async () => {
    const h = harness();
    await h.finishLoad();
    h.cmd('LIVE_START');
    h.cmd('FROB');
    expect(h.log).toEqual(['live', 'unknown']);
    expect(h.generations[0]!.seen).toEqual([]);
    expect(h.child().getSnapshot().value).toEqual({ serving: 'live' });
  });

  it('asks the supervisor to exit with 75 in restart.mode=process', async () => {
    const h = harness({ restartMode: 'process' });
    await h.finishLoad();
    h.cmd('LIVE_START'); // other commands keep their meaning in process mode
    h.cmd('FROB');
    expect(h.actor.getSnapshot().context.parentGot).toEqual(['ready=true']);
    h.cmd('RESTART');
    expect(h.actor.getSnapshot().context.parentGot).toEqual(['ready=true', 'supervisor.exit:75']);
    expect(h.generations.length).toBe(1);
  });

  it('reaches a final state on shutdown and drops the generation', async () => {
    const h = harness();
    await h.finishLoad();
    h.actor.send({ type: 'shutdown' });
    expect(h.generations[0]!.stopped).toBe(true);
    expect(h.child().getSnapshot().status).toBe('done');
    expect(h.child().getSnapshot().value).toBe('stopped');
  });
});
