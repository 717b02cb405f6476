import { describe, expect, it } from 'vitest';
import {
  SimulatedClock,
  assign,
  createActor,
  fromPromise,
  sendTo,
  setup,
  transition,
  initialTransition,
  type AnyActorLogic,
  type AnyActorRef,
} from 'xstate';
import {
  ptpSidecarMachine,
  type ClockEdge,
  type PtpSidecarInput,
  type SidecarGeneration,
} from '../../../src/machines/ptp/ptpSidecar.js';
import { createGenerationActor } from '../../../src/actors/ptp/generationActor.js';
import { createClockBank } from '../../../src/actors/ptp/clockBank.js';
import { loadPtpGeneration } from '../../../src/io/ptp/generation.js';

/** A generation whose "parser" understands `clock <key> <verdict>` and records every other line it saw. */
class FakeGeneration implements SidecarGeneration {
  readonly seen: string[] = [];
  stopped = false;
  constructor(
    readonly n: number,
    readonly seeds: ClockEdge[] = [],
  ) {}
  ingest(text: string): ClockEdge[] {
    const edges: ClockEdge[] = [];
    expect(text.endsWith('\n')).toBe(true);
    for (const l of text.split('\n').slice(0, -1)) {
      this.seen.push(l);
      const [w, key, verdict] = l.split(' ');
      if (w === 'clock' && key && verdict) {
        edges.push({
          key,
          process: key.split('/')[0]!,
          iface: key.split('/')[1] ?? 'x',
          profile: 'p',
          holdoverTimeoutMs: 1_000,
          verdict,
        } as ClockEdge);
      }
    }
    return edges;
  }
  readonly clockStates: string[] = [];
  setClockState(process: string, iface: string, state: string): void {
    this.clockStates.push(`${process}/${iface}:${state}`);
  }
  stop(): void {
    this.stopped = true;
  }
}

/** Lines as the socket hands them over: one text, each line followed by a newline. */
const asText = (lines: readonly string[]): string => lines.map((l) => `${l}\n`).join('');

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
      ptpGeneration: createGenerationActor(),
      clockBank: createClockBank(),
    },
    actions: {
      logClockState: (_, e) => clockReports.push(`${e.key}:${e.to}`),
      discardGeneration: ({ event }) => (event as unknown as { output: SidecarGeneration }).output.stop(),
      pauseReading: () => log.push('pause'),
      resumeReading: () => log.push('resume'),
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
      input: { queueMaxBytes: 15, restartMode: 'inProcess', emitLogs: false, ...input },
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
  const lines = (...l: string[]) => actor.send({ type: 'socket.line', connId: 1, lines: asText(l) });
  const cmd = (command: string) => actor.send({ type: 'socket.command', connId: 1, command });
  /** The clocks of the serving generation (the clock bank's actors), by key. */
  const clocks = (): Record<string, AnyActorRef> =>
    (child().getSnapshot().children['clocks']?.getSnapshot() as { children?: Record<string, AnyActorRef> } | undefined)
      ?.children ?? {};
  return { clock, actor, child, generations, finishLoad, lines, cmd, clockReports, log, pending, clocks };
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
    expect(h.child().getSnapshot().context.queue).toEqual([]);
  });

  it('bounds the load queue in bytes: pauses reading when full, drops (and counts) what was read beyond it', async () => {
    const h = harness({ queueMaxBytes: 15 }); // 'lN' = 3 bytes with its newline: 5 lines fit
    h.lines('l1', 'l2', 'l3');
    expect(h.log).toEqual([]);
    h.lines('l4', 'l5', 'l6', 'l7');
    expect(h.log).toEqual(['dropped 2', 'pause']);
    expect(h.child().getSnapshot().context.queueBytes).toBe(15);
    h.lines('a much longer line than fits');
    expect(h.log).toEqual(['dropped 2', 'pause', 'dropped 1', 'pause']);
    await h.finishLoad();
    expect(h.log.at(-1)).toBe('resume');
    expect(h.generations[0]!.seen).toEqual(['l1', 'l2', 'l3', 'l4', 'l5']);
    expect(h.child().getSnapshot().context.queueDropped).toBe(3);
    expect(h.child().getSnapshot().context.queueBytes).toBe(0);
  });

  it('a pure transition() of the sidecar performs no I/O: no parse, no metric, only named actions returned', async () => {
    const h = harness();
    await h.finishLoad();
    const g = h.generations[0]!;
    const before = { seen: g.seen.length, states: g.clockStates.length, reports: h.clockReports.length };
    const snap = h.child().getSnapshot();
    const line = { type: 'socket.line' as const, connId: 1, lines: 'clock ptp4l/eth9 locked\nx\n' };
    const [next, actions] = transition(ptpSidecarMachine, snap, line);
    // Nothing was parsed or recorded: the generation (parser + metrics) saw nothing, no clock changed.
    expect({ seen: g.seen.length, states: g.clockStates.length, reports: h.clockReports.length }).toEqual(before);
    expect(next.value).toEqual(snap.value);
    expect(actions.map((a) => a.type)).toEqual(['xstate.sendTo']);
    expect((actions[0] as unknown as { params: { event: unknown } }).params.event).toEqual({
      type: 'ptp.lines',
      lines: line.lines,
    });
    // A clock state change, purely: the gauge update is an action for the generation actor, not done here.
    const changed = {
      type: 'clock.stateChanged' as const,
      key: 'ptp4l/eth0',
      process: 'ptp4l',
      iface: 'eth0',
      profile: 'p',
      from: 'FREERUN' as const,
      to: 'LOCKED' as const,
    };
    const [, actions2] = transition(ptpSidecarMachine, snap, changed);
    expect(g.clockStates.length).toBe(before.states);
    expect(actions2.map((a) => a.type)).toEqual(
      expect.arrayContaining(['logClockState', 'xstate.sendTo', 'xstate.emit']),
    );
    // From the very start too: the initial transition only names the load.
    const [init] = initialTransition(ptpSidecarMachine, {
      queueMaxBytes: 100,
      restartMode: 'inProcess',
      emitLogs: false,
    });
    expect(init.value).toBe('loading');
    expect(g.seen.length).toBe(before.seen);
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
    expect(Object.keys(h.clocks()).sort()).toEqual(['phc2sys/CLOCK_REALTIME', 'ptp4l/eth0']);
    h.cmd('RESTART');
    h.clock.increment(5_000); // the holdover timer of the stopped clock never fires
    const of = (k: string) => h.clockReports.filter((r) => r.startsWith(k));
    expect(of('ptp4l/eth0')).toEqual(['ptp4l/eth0:FREERUN', 'ptp4l/eth0:HOLDOVER']);
    expect(of('phc2sys')).toEqual(['phc2sys/CLOCK_REALTIME:FREERUN', 'phc2sys/CLOCK_REALTIME:LOCKED']);
    expect(h.generations[0]!.stopped).toBe(true);
    h.lines('during load');
    await h.finishLoad();
    expect(h.generations[1]!.seen).toEqual(['during load']);
    expect(Object.keys(h.clocks())).toEqual(['ptp4l/eth0']);
    expect(h.generations[1]!.stopped).toBe(false);
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
    expect(h.log.filter((l) => l !== 'resume')).toEqual(['live', 'unknown']);
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
    expect(h.clocks()).toEqual({});
    expect(h.child().getSnapshot().status).toBe('done');
    expect(h.child().getSnapshot().value).toBe('stopped');
  });

  it('OS clock = the worst of phc2sys and the PTP clock; the phc2sys gauge shows it; each change emitted once', async () => {
    const h = harness();
    const os: string[] = [];
    const sync: string[] = [];
    const changes: string[] = [];
    await h.finishLoad();
    const ref = h.child();
    ref.on('ptp.osClockStateChanged', (e) => os.push(`${e.profile}:${e.from}>${e.to}`));
    ref.on('ptp.syncStateChanged', (e) => sync.push(`${e.from}>${e.to}`));
    ref.on('clock.stateChanged', (e) => changes.push(`${e.key}:${e.to}`));
    h.lines('clock phc2sys/CLOCK_REALTIME locked');
    expect(os).toEqual(['p:null>FREERUN', 'p:FREERUN>LOCKED']); // no PTP clock yet: phc2sys alone
    h.lines('clock ptp4l/eth0 holdover'); // ptp4l in HOLDOVER: the OS clock is not LOCKED though phc2sys is
    expect(os.slice(2)).toEqual(['p:LOCKED>FREERUN', 'p:FREERUN>HOLDOVER']); // ptp4l starts FREERUN
    h.lines('clock ptp4l/eth0 locked');
    expect(os.at(-1)).toBe('p:HOLDOVER>LOCKED');
    h.lines('clock GM/eth1 freerun', 'clock GM/eth1 daemonLocked', 'clock GM/eth1 freerun'); // T-GM forcing
    expect(os.slice(5)).toEqual(['p:LOCKED>FREERUN', 'p:FREERUN>LOCKED', 'p:LOCKED>FREERUN']);
    // The gauge of phc2sys/CLOCK_REALTIME follows the OS clock, not phc2sys's own verdict.
    const g = h.generations[0]!;
    expect(g.clockStates.filter((s) => s.startsWith('phc2sys/'))).toEqual(
      ['FREERUN', 'LOCKED', 'FREERUN', 'HOLDOVER', 'LOCKED', 'FREERUN', 'LOCKED', 'FREERUN'].map(
        (x) => `phc2sys/CLOCK_REALTIME:${x}`,
      ),
    );
    expect(g.clockStates).toContain('ptp4l/eth0:HOLDOVER');
    // Exactly once each, in order.
    expect(changes).toEqual([
      'phc2sys/CLOCK_REALTIME:FREERUN',
      'phc2sys/CLOCK_REALTIME:LOCKED',
      'ptp4l/eth0:FREERUN',
      'ptp4l/eth0:HOLDOVER',
      'ptp4l/eth0:LOCKED',
      'GM/eth1:FREERUN',
      'GM/eth1:LOCKED',
      'GM/eth1:FREERUN',
    ]);
    expect(sync).toEqual([
      'null>FREERUN',
      'FREERUN>LOCKED',
      'LOCKED>FREERUN',
      'FREERUN>HOLDOVER',
      'HOLDOVER>LOCKED',
      'LOCKED>FREERUN',
      'FREERUN>LOCKED',
      'LOCKED>FREERUN',
    ]);
  });

  it('pure transition() with a real generation: loading → serving → a line, and the parser and metrics never move', async () => {
    const fixtures = new URL('../../fixtures/ptp/examples/', import.meta.url).pathname;
    const { mkdtempSync, copyFileSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const d = mkdtempSync(join(tmpdir(), 'syncvisor-pure-'));
    copyFileSync(join(fixtures, 'ptp4l.0.config'), join(d, 'ptp4l.0.config'));
    copyFileSync(join(fixtures, 'node1.json'), join(d, 'node1'));
    try {
      const g = await loadPtpGeneration({ profilePath: d, configDir: d, nodeName: 'node1' });
      const metricsBefore = await g.metrics.text();
      const input = { queueMaxBytes: 1000, restartMode: 'inProcess' as const, emitLogs: false };
      // Standalone (no parent): readiness is a plain named action here instead of sendParent.
      const machine = ptpSidecarMachine.provide({ actions: { reportReady: () => {} } });
      const [loading] = initialTransition(machine, input);
      const line = 'ptp4l[1.2]: [ptp4l.0.config] master offset -5 s2 freq +500 path delay 89';
      const [queued] = transition(machine, loading, { type: 'socket.line', connId: 1, lines: `${line}\n` });
      expect(queued.context.queue).toEqual([`${line}\n`]);
      const done = { type: 'xstate.done.actor.0.ptpSidecar.loading', output: g } as unknown as Parameters<
        typeof transition<typeof machine>
      >[2];
      const [serving, entered] = transition(machine, queued, done);
      expect(serving.value).toEqual({ serving: 'live' });
      // The backlog went to the generation actor's input, not through the parser: nothing parsed yet.
      expect(entered.map((a) => a.type)).toContain('xstate.spawnChild');
      const [, acts] = transition(machine, serving, { type: 'socket.line', connId: 1, lines: `${line}\n${line}\n` });
      expect(acts.map((a) => a.type)).toEqual(['xstate.sendTo']);
      expect(g.parser.stats).toEqual({ parsed: 0, ignored: 0, unknownClock: 0 });
      expect(await g.metrics.text()).toBe(metricsBefore);
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });
});
