// supervisor, model-based: every state and bounded simple paths of running → shuttingDown (phases) → stopped with a
// draining service (phase 0) and a source (phase 1), replayed on a real actor whose child lifecycles are callback
// fakes that record the supervisor.stop they get (the lifecycle itself has its own model test). Invariants: a phase
// is told to stop only once every earlier phase has ended, and each lifecycle at most once; nothing is told to stop
// while running; exit code 70 only when a lifecycle ended escalated, the code of supervisor.exit after it, 0 after
// shutdown; stopped means every lifecycle ended; events nobody receives are counted.
import { describe, expect, it } from 'vitest';
import { createActor, fromCallback, type AnyEventObject, type AnyMachineSnapshot } from 'xstate';
import {
  supervisorMachine,
  type SupervisorContext,
  type SupervisorInput,
} from '../../../src/machines/supervisor/supervisor.js';
import { exitCodes, type ChildSpec } from '../../../src/machines/supervisor/spec.js';
import { childLifecycleMachine } from '../../../src/machines/supervisor/child.js';
import { modelPathTests, ModelClock, type ModelSpec } from '../../support/modelTesting.js';

const ids = ['svc', 'src'] as const;
const log = { stops: [] as string[], spawned: 0 };
let exitCause: AnyEventObject | undefined;

const lifecycle = fromCallback<AnyEventObject, { spec: ChildSpec }>(({ receive, input }) => {
  log.spawned += 1;
  receive((e) => {
    if (e.type === 'supervisor.stop') log.stops.push(input.spec.id);
  });
});
const machine = supervisorMachine.provide({ actors: { childLifecycle: lifecycle as never } });

const noop = fromCallback(() => {});
const children: ChildSpec[] = [
  { id: 'svc', systemId: 'svc', logic: noop, restart: 'permanent', drain: true, receives: ['test.'] },
  { id: 'src', systemId: 'src', logic: noop, restart: 'transient', shutdownOrder: 1 },
];
const input: SupervisorInput = {
  children,
  maxRestarts: 2,
  periodMs: 60_000,
  backoff: { initialMs: 100, maxMs: 1000, factor: 2 },
  shutdownTimeoutMs: 500,
};

const ctx = (s: AnyMachineSnapshot) => s.context as SupervisorContext;
const top = (s: AnyMachineSnapshot) => (typeof s.value === 'string' ? s.value : Object.keys(s.value)[0]!);
const done = (id: string, escalate: boolean) => ({
  type: `xstate.done.actor.${id}`,
  output: { id, escalate, reason: escalate ? 'boom' : 'stopped' },
});

const spec: ModelSpec<typeof machine> = {
  machine,
  input,
  events: {
    'xstate.done.actor.*': ids.flatMap((id) => [done(id, false), done(id, true)]),
    'child.up': [{ type: 'child.up', id: 'svc' }],
    'child.down': [{ type: 'child.down', id: 'svc', reason: 'boom' }],
    'child.restarted': [{ type: 'child.restarted', id: 'svc' }],
    'child.dropped': [{ type: 'child.dropped', id: 'src', eventType: 'test.ping' }],
    shutdown: [{ type: 'shutdown' }],
    'supervisor.exit': [{ type: 'supervisor.exit', code: exitCodes.tempfail, reason: 'CMD RESTART' }],
    '*': [{ type: 'test.ping' }],
  },
  // A lifecycle ends once; a stopped supervisor takes no events.
  filterEvents: (s, e) =>
    s.status === 'active' && (e.type.startsWith('xstate.done.actor.') ? ctx(s).live.includes(e.output.id) : true),
  serialize: (s) => {
    const c = ctx(s);
    return JSON.stringify([s.value, c.live, c.phase, c.exitCode, c.droppedEvents > 0]);
  },
  reset: () => {
    log.stops = [];
    log.spawned = 0;
    exitCause = undefined;
  },
  effects: () => ({ stops: log.stops, spawned: log.spawned }),
  check: ({ snapshot, prev, event }) => {
    const c = ctx(snapshot);
    const state = top(snapshot);
    expect(log.spawned, 'one lifecycle per spec, never respawned').toBe(ids.length);
    if (prev && top(prev) === 'running' && state !== 'running') exitCause = event;
    expect(new Set(log.stops).size, 'each lifecycle is told to stop once').toBe(log.stops.length);
    if (state === 'running') expect(log.stops, 'nothing stops while running').toEqual([]);
    for (const id of log.stops) {
      const order = children.find((s) => s.id === id)!.shutdownOrder ?? 0;
      const earlier = children.filter((s) => (s.shutdownOrder ?? 0) < order).map((s) => s.id);
      for (const e of earlier) expect(c.live, `${id} stopped before phase of ${e} ended`).not.toContain(e);
    }
    if (state === 'running') expect(c.exitCode).toBe(exitCodes.ok);
    else if (exitCause!.type === 'shutdown') expect(c.exitCode).toBe(exitCodes.ok);
    else if (exitCause!.type === 'supervisor.exit') expect(c.exitCode).toBe(exitCodes.tempfail);
    else {
      expect(exitCause!.output.escalate, `exit after ${exitCause!.type}`).toBe(true);
      expect(c.exitCode).toBe(exitCodes.software);
      expect(c.exitReason).toBe(`child ${exitCause!.output.id as string} exceeded its restart intensity: boom`);
    }
    if (event.type === 'test.ping' && prev) expect(c.droppedEvents).toBe(ctx(prev).droppedEvents + 1);
    if (state === 'stopped') {
      expect(snapshot.status).toBe('done');
      expect(c.live).toEqual([]);
    }
  },
};

describe('supervisor model (xstate/graph)', () => {
  modelPathTests(spec, {
    minShortestPaths: 11,
    simplePaths: { maxDepth: 8, max: 400, min: 101 },
  });

  it('with real lifecycles, a child that keeps crashing escalates once its restarts exceed the intensity', () => {
    const crashing = fromCallback(() => {
      throw new Error('crash');
    });
    const clock = new ModelClock();
    const actor = createActor(supervisorMachine, {
      clock: clock as never,
      input: { ...input, children: [{ ...children[0]!, logic: crashing }] },
    });
    clock.attach(actor);
    actor.start();
    clock.advance(100 + 200);
    expect(actor.getSnapshot().output).toEqual({
      exitCode: exitCodes.software,
      reason: 'child svc exceeded its restart intensity: crash',
    });
    expect(childLifecycleMachine.id).toBe('childLifecycle');
  });
});
