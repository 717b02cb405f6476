// ptpSidecar, model-based: every state and bounded simple paths of loading → serving → restarting → loading (and
// loadFailed, stopped), replayed on a real actor whose clockState children run on the same ModelClock. Invariants:
// at most one pending restart, and only while loading; a generation is held iff serving, and every generation left
// behind was stopped; the queue never exceeds queueMaxBytes and is drained on serving; the clockState actors are
// exactly the clocks of the current generation, held by the clock bank (none outside serving); one holdover timer
// per clock in HOLDOVER;
// readiness reported true on serving, false on leaving it; restart.mode=process asks for a process exit instead.
import { describe, expect } from 'vitest';
import { fromPromise, type AnyActorRef, type AnyMachineSnapshot } from 'xstate';
import {
  ptpSidecarMachine,
  type ClockEdge,
  type ClockSeed,
  type PtpSidecarContext,
  type PtpSidecarInput,
  type SidecarGeneration,
} from '../../../src/machines/ptp/ptpSidecar.js';
import { createGenerationActor } from '../../../src/actors/ptp/generationActor.js';
import { createClockBank } from '../../../src/actors/ptp/clockBank.js';
import { modelPathTests, type ModelSpec } from '../../support/modelTesting.js';

const log = { loadsRunning: 0, maxLoadsRunning: 0, stops: 0, ready: [] as boolean[], exits: 0, overflows: 0 };
let adopted = 0;
let restartsSent = 0;

const seed = (key: string): ClockSeed => ({
  key,
  process: 'ptp4l',
  iface: key,
  profile: 'p1',
  holdoverTimeoutMs: 5000,
});

/** The "parser": a line `<verdict> <iface>` is an edge for that clock; anything else is data without an edge. */
const generation: SidecarGeneration = {
  seeds: [seed('ens1')],
  ingest: (text) =>
    text
      .split('\n')
      .slice(0, -1)
      .flatMap((l): ClockEdge[] => {
        const [verdict, key] = l.split(' ');
        return key && ['locked', 'holdover', 'freerun', 'outOfRange'].includes(verdict!)
          ? [{ ...seed(key), verdict: verdict as ClockEdge['verdict'] }]
          : [];
      }),
  setClockState: () => {},
  stop: () => void (log.stops += 1),
};

const never = () => new Promise<never>(() => {});
const machine = ptpSidecarMachine.provide({
  actors: {
    loadGeneration: fromPromise<SidecarGeneration, { load: number }>(({ signal }) => {
      log.loadsRunning += 1;
      log.maxLoadsRunning = Math.max(log.maxLoadsRunning, log.loadsRunning);
      signal.addEventListener('abort', () => void (log.loadsRunning -= 1));
      return never();
    }),
    emitLogs: fromPromise<void, { load: number }>(never),
    ptpGeneration: createGenerationActor(),
    clockBank: createClockBank(),
  },
  actions: {
    reportReady: (_, p: { ready: boolean }) => void log.ready.push(p.ready),
    requestProcessExit: () => void (log.exits += 1),
    queueOverflowed: () => void (log.overflows += 1),
    discardGeneration: ({ event }) => (event as unknown as { output: SidecarGeneration }).output.stop(),
  },
});

const ctx = (s: AnyMachineSnapshot) => s.context as PtpSidecarContext;
const top = (s: AnyMachineSnapshot) => (typeof s.value === 'string' ? s.value : Object.keys(s.value)[0]!);

function specFor(input: PtpSidecarInput): ModelSpec<typeof machine> {
  return {
    machine,
    input,
    events: {
      'socket.line': [
        { type: 'socket.line', connId: 1, lines: 'locked ens1\n' },
        { type: 'socket.line', connId: 1, lines: 'holdover ens2\nptp4l[1.2]: noise\n' },
      ],
      'socket.command': [
        { type: 'socket.command', connId: 1, command: 'RESTART' },
        { type: 'socket.command', connId: 1, command: 'LIVE_START' },
        { type: 'socket.command', connId: 1, command: 'BOGUS' },
      ],
      shutdown: [{ type: 'shutdown' }],
      'done:loadGeneration': [{ type: 'done', output: generation }],
      'done:emitLogs': [{ type: 'done' }],
    },
    // Counters grow without bound; the clocks' own states are checked on the real actor.
    serialize: (s) => {
      const c = ctx(s);
      return JSON.stringify([s.value, c.queue, c.pendingRestart, c.generation !== undefined]);
    },
    reset: () => {
      Object.assign(log, { loadsRunning: 0, maxLoadsRunning: 0, stops: 0, ready: [], exits: 0, overflows: 0 });
      adopted = 0;
      restartsSent = 0;
    },
    effects: () => ({ ...log, loadsRunning: 0 }),
    check: ({ snapshot, event, clock }) => {
      const c = ctx(snapshot);
      const state = top(snapshot);
      const serving = state === 'serving';
      if (event.type.startsWith('xstate.done.actor.') && event.type.includes('loading')) adopted += 1;
      if (event.type === 'socket.command' && event.command === 'RESTART' && state !== 'stopped') restartsSent += 1;
      expect(log.maxLoadsRunning, 'two loads at once').toBeLessThanOrEqual(1);
      expect(log.loadsRunning).toBe(state === 'loading' ? 1 : 0);
      // A RESTART pending when the load fails is honoured by the reload after reloadDelay (which clears it); one
      // pending when shutdown comes is dropped with everything else (stopped is final).
      if (c.pendingRestart) expect(['loading', 'loadFailed', 'stopped'], 'a pending restart').toContain(state);
      expect(c.generation !== undefined, 'generation iff serving').toBe(serving);
      expect(log.stops, 'every generation left behind is stopped').toBe(adopted - (serving ? 1 : 0));
      expect(c.queueBytes).toBeLessThanOrEqual(c.queueMaxBytes);
      if (serving) expect(c.queue).toEqual([]);
      // The clocks live in the clock bank, invoked only while serving; all of them active.
      const bank = (snapshot.children as Record<string, AnyActorRef | undefined>)['clocks'];
      expect(bank !== undefined, 'a clock bank iff serving').toBe(serving);
      const clocks = Object.values(
        (bank?.getSnapshot() as { children?: Record<string, AnyActorRef> } | undefined)?.children ?? {},
      );
      for (const ref of clocks) expect(ref.getSnapshot().status).toBe('active');
      if (serving) expect(clocks.map((r) => (r.getSnapshot() as AnyMachineSnapshot).context.key)).toContain('ens1');
      const inHoldover = clocks.filter((ref) => {
        const v = (ref.getSnapshot() as AnyMachineSnapshot).value;
        return typeof v === 'object' && (v as Record<string, string>)['HOLDOVER'] === 'sidecarTimer';
      }).length;
      const timers = clock.pending().map((t) => t.event?.type ?? '?');
      expect(timers.filter((t) => t.startsWith('xstate.after.holdoverTimeout')).length).toBe(inHoldover);
      expect(timers.filter((t) => t.startsWith('xstate.after.reloadDelay')).length).toBe(
        state === 'loadFailed' ? 1 : 0,
      );
      expect(log.ready.at(-1) ?? false, 'readiness').toBe(serving);
      if (input.restartMode === 'inProcess') expect(log.exits).toBe(0);
      else expect(log.exits, 'process mode: CMD RESTART asks for an exit').toBe(restartsSent);
      if (snapshot.status === 'done') expect(state).toBe('stopped');
    },
  };
}

describe.each<PtpSidecarInput>([
  { queueMaxBytes: 20, restartMode: 'inProcess', emitLogs: true },
  { queueMaxBytes: 20, restartMode: 'process', emitLogs: false },
])('ptpSidecar model (xstate/graph), input %o', (input) => {
  // restarting is eventless: passed through on CMD RESTART, never a resting state, so only the per-transition paths
  // reach it. Without ptp.emitLogsUrl the log request is never made; in restart.mode=process CMD RESTART exits instead.
  const unreachable: string[] = [];
  if (input.restartMode === 'process') unreachable.push('ptpSidecar.restarting');
  if (!input.emitLogs) unreachable.push('ptpSidecar.serving.requestingLogs');
  modelPathTests(specFor(input), {
    minShortestPaths: 8,
    simplePaths: { maxDepth: 9, max: 400, min: 10 },
    unreachable,
  });
});
