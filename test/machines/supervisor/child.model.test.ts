// childLifecycle, model-based: every state and bounded simple paths of up (running notReady/ready, stopping) →
// backoff → up … → stopped / escalated, replayed on a real actor whose child is a callback fake that counts its
// incarnations, with backoff, intensity and drain timers on a ModelClock. Invariants: exactly one incarnation while
// the lifecycle is up, none otherwise; a restart timer is armed only in backoff; escalated only when the restarts in
// the window reached maxRestarts; after supervisor.stop nothing starts again; routed events reach the concern.
import { describe, expect, it } from 'vitest';
import { createActor, createMachine, fromCallback, sendTo, type AnyEventObject, type AnyMachineSnapshot } from 'xstate';
import {
  childLifecycleMachine,
  type ChildLifecycleContext,
  type ChildLifecycleInput,
} from '../../../src/machines/supervisor/child.js';
import { modelPathTests, ModelClock, type ModelSpec } from '../../support/modelTesting.js';
import { RoutingTable } from '../../../src/machines/supervisor/routing.js';

const log = { live: 0, starts: 0, received: [] as string[], notices: [] as string[] };
let startsAtStop: number | undefined;

const child = fromCallback(({ receive }) => {
  log.live += 1;
  log.starts += 1;
  receive((e) => void log.received.push(e.type));
  return () => void (log.live -= 1);
});

const input: ChildLifecycleInput = {
  spec: { id: 'svc', systemId: 'svc', logic: child, restart: 'permanent', drain: true, receives: ['test.'] },
  maxRestarts: 2,
  periodMs: 60_000,
  backoff: { initialMs: 100, maxMs: 1000, factor: 2 },
  shutdownTimeoutMs: 500,
  routes: new RoutingTable([{ prefix: 'test.', systemId: 'svc' }]),
};

// Standalone, the lifecycle has no supervisor to tell: its notices are recorded instead (the relay test below
// checks the real ones).
const notice = (name: string) => () => void log.notices.push(name);
const machine = childLifecycleMachine.provide({
  actions: {
    announceUp: notice('up'),
    announceDown: notice('down'),
    announceTimeout: notice('down'),
    announceRestart: notice('restarted'),
    relayToSupervisor: notice('exit'),
    reportDropped: notice('dropped'),
  },
});

const ctx = (s: AnyMachineSnapshot) => s.context as ChildLifecycleContext;
const up = (s: AnyMachineSnapshot) => s.matches('up');

const spec: ModelSpec<typeof machine> = {
  machine,
  input,
  systemRefsExist: true,
  events: {
    'xstate.error.actor.*': [{ type: 'xstate.error.actor.svc', error: { message: 'boom' } }],
    'xstate.done.actor.*': [{ type: 'xstate.done.actor.svc' }],
    'child.failed': [{ type: 'child.failed', id: 'svc', error: 'socket lost' }],
    'child.ready': [
      { type: 'child.ready', id: 'svc', ready: true },
      { type: 'child.ready', id: 'svc', ready: false },
    ],
    'child.forgetRestart': [{ type: 'child.forgetRestart' }],
    'supervisor.stop': [{ type: 'supervisor.stop' }],
    'supervisor.exit': [{ type: 'supervisor.exit', code: 75, reason: 'CMD RESTART' }],
    '*': [{ type: 'test.ping' }],
  },
  // The child's own lifecycle events only while it exists; the forget timer only while armed.
  filterEvents: (s, e) => {
    if (/^xstate\.(error|done)\.actor\./.test(e.type) || e.type === 'child.failed') return up(s);
    if (e.type === 'child.forgetRestart') return s.status === 'active' && ctx(s).recentRestarts > 0;
    return true;
  },
  isScheduled: (e) => e.type.startsWith('xstate.after.') || e.type === 'child.forgetRestart',
  serialize: (s) => JSON.stringify([s.value, ctx(s).recentRestarts]),
  reset: () => {
    log.live = 0;
    log.starts = 0;
    log.received = [];
    log.notices = [];
    startsAtStop = undefined;
  },
  effects: () => ({ starts: log.starts, received: log.received, notices: log.notices }),
  check: ({ snapshot, event, clock }) => {
    expect(log.live, 'incarnations').toBeLessThanOrEqual(1);
    expect(log.live, `incarnations while ${JSON.stringify(snapshot.value)}`).toBe(up(snapshot) ? 1 : 0);
    const restartTimers = clock.pending().filter((t) => t.event?.type.startsWith('xstate.after.restartBackoff'));
    if (restartTimers.length > 0) expect(snapshot.value, 'restart armed only in backoff').toBe('backoff');
    if (event.type === 'supervisor.stop') startsAtStop ??= log.starts;
    if (startsAtStop !== undefined) expect(log.starts, 'nothing starts after supervisor.stop').toBe(startsAtStop);
    if (snapshot.matches('escalated')) {
      expect(snapshot.status).toBe('done');
      expect(snapshot.output).toMatchObject({ id: 'svc', escalate: true });
      expect(ctx(snapshot).recentRestarts, 'escalated at the intensity').toBe(input.maxRestarts);
    }
    if (snapshot.matches('stopped')) expect(snapshot.output).toMatchObject({ id: 'svc', escalate: false });
    // Every incarnation is announced once, and so is its end.
    const ups = log.notices.filter((n) => n === 'up').length;
    const downs = log.notices.filter((n) => n === 'down').length;
    expect(ups, 'child.up per incarnation').toBe(log.starts);
    expect(ups - downs, 'announced up now').toBe(up(snapshot) ? 1 : 0);
  },
};

describe('childLifecycle model (xstate/graph)', () => {
  modelPathTests(spec, {
    minShortestPaths: 9,
    simplePaths: { maxDepth: 9, max: 400, min: 51 },
  });

  it('a late child.failed from the incarnation that already failed neither counts a restart nor arms a timer', () => {
    spec.reset();
    const clock = new ModelClock();
    const actor = createActor(machine, { clock: clock as never, input });
    clock.attach(actor);
    actor.start();
    actor.send({ type: 'xstate.error.actor.svc', error: new Error('boom') });
    actor.send({ type: 'child.failed', id: 'svc', error: 'late report from the failed incarnation' });
    const recent = actor.getSnapshot().context.recentRestarts;
    actor.send({ type: 'supervisor.stop' });
    expect({ recent, value: actor.getSnapshot().value, armed: clock.pending().length }).toEqual({
      recent: 1,
      value: 'stopped',
      armed: 0,
    });
  });

  it('relays what its child tells the supervisor: up, down, restarted, and supervisor.exit', () => {
    const notices: AnyEventObject[] = [];
    const parent = createMachine({
      invoke: { src: childLifecycleMachine, id: 'svc', input },
      on: { '*': { actions: ({ event }) => void notices.push(event) } },
      entry: sendTo('svc', { type: 'xstate.error.actor.svc', error: 'x' }),
    });
    const clock = new ModelClock();
    const actor = createActor(parent, { clock: clock as never });
    actor.start();
    clock.advance(100);
    actor.getSnapshot().children.svc!.send({ type: 'supervisor.exit', code: 75, reason: 'r' });
    expect(notices.map((n) => `${n.type}${'reason' in n ? ` ${String(n.reason)}` : ''}`)).toEqual([
      'child.up',
      'child.down x',
      'child.restarted',
      'child.up',
      'supervisor.exit r',
    ]);
    actor.stop();
  });
});
