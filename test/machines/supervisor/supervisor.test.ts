import { describe, expect, it } from 'vitest';
import {
  SimulatedClock,
  createActor,
  createMachine,
  fromCallback,
  fromPromise,
  sendParent,
  type AnyActorLogic,
} from 'xstate';
import { childView, supervisorMachine, type SupervisorInput } from '../../../src/machines/supervisor/supervisor.js';
import type { ChildSpec } from '../../../src/machines/supervisor/spec.js';

const defaults: Omit<SupervisorInput, 'children'> = {
  maxRestarts: 3,
  periodMs: 60_000,
  backoff: { initialMs: 100, maxMs: 1_000, factor: 2 },
  shutdownTimeoutMs: 500,
};

function child(id: string, logic: AnyActorLogic, extra: Partial<ChildSpec> = {}): ChildSpec {
  return { id, systemId: id, logic, restart: 'permanent', ...extra };
}

/** A callback child that throws on start, counting its starts in `log`. */
function crashing(log: string[], name: string): AnyActorLogic {
  return fromCallback(() => {
    log.push(`start ${name}`);
    throw new Error(`${name} crashed`);
  });
}

function start(children: ChildSpec[], over: Partial<SupervisorInput> = {}) {
  const clock = new SimulatedClock();
  const actor = createActor(supervisorMachine, { clock, input: { ...defaults, ...over, children } });
  const errors: unknown[] = [];
  const emitted: string[] = [];
  actor.subscribe({ error: (e) => errors.push(e) });
  actor.on('*', (e) => emitted.push(`${e.type} ${'id' in e ? e.id : e.reason}`));
  actor.start();
  return { actor, clock, errors, emitted };
}

describe('supervisor', () => {
  it('restarts a crashing permanent child with exponential backoff on the actor clock', () => {
    const log: string[] = [];
    const { actor, clock, errors } = start([child('a', crashing(log, 'a'))], { maxRestarts: 10 });
    expect(log).toEqual(['start a']);
    expect(childView(actor, 'a').status).toBe('backoff');
    clock.increment(99);
    expect(log).toHaveLength(1);
    clock.increment(1); // 100 ms: first restart
    expect(log).toHaveLength(2);
    clock.increment(199);
    expect(log).toHaveLength(2);
    clock.increment(1); // +200 ms: second restart
    expect(log).toHaveLength(3);
    clock.increment(400); // +400 ms
    expect(log).toHaveLength(4);
    clock.increment(800); // +800 ms
    expect(log).toHaveLength(5);
    clock.increment(999);
    expect(log).toHaveLength(5);
    clock.increment(1); // capped at maxMs = 1000
    expect(log).toHaveLength(6);
    expect(actor.getSnapshot().status).toBe('active');
    expect(errors).toEqual([]);
    expect(childView(actor, 'a').lastError).toBe('a crashed');
  });

  it('escalates when a child exceeds maxRestarts within periodMs: graceful shutdown, exit code 70', () => {
    const log: string[] = [];
    const { actor, clock, errors } = start([child('a', crashing(log, 'a'))], { maxRestarts: 2 });
    clock.increment(100);
    clock.increment(200);
    expect(log).toHaveLength(3); // initial + 2 restarts, the third crash exceeds the intensity
    expect(actor.getSnapshot().status).toBe('done');
    expect(actor.getSnapshot().output).toEqual({
      exitCode: 70,
      reason: 'child a exceeded its restart intensity: a crashed',
    });
    expect(errors).toEqual([]);
  });

  it('forgets restarts older than periodMs, so slow crashes never escalate', () => {
    const log: string[] = [];
    const { actor, clock } = start(
      [child('a', crashing(log, 'a'), { backoff: { initialMs: 1_000, maxMs: 1_000, factor: 1 } })],
      {
        maxRestarts: 2,
        periodMs: 1_500,
      },
    );
    for (let i = 0; i < 10; i++) clock.increment(1_000);
    expect(log.length).toBeGreaterThanOrEqual(10);
    expect(actor.getSnapshot().status).toBe('active');
  });

  it('permanent restarts a child that finished; transient and temporary do not', async () => {
    const runs = { p: 0, t: 0, tmp: 0 };
    const finishing = (k: keyof typeof runs) =>
      fromPromise(async () => {
        runs[k]++;
        return 'ok';
      });
    const { actor, clock } = start([
      child('p', finishing('p'), { restart: 'permanent' }),
      child('t', finishing('t'), { restart: 'transient' }),
      child('tmp', finishing('tmp'), { restart: 'temporary' }),
    ]);
    const tick = () => new Promise((r) => setTimeout(r, 5));
    await tick(); // the promises settle
    clock.increment(100);
    await tick();
    expect(runs).toEqual({ p: 2, t: 1, tmp: 1 });
    const c = { t: childView(actor, 't'), tmp: childView(actor, 'tmp'), p: childView(actor, 'p') };
    expect(c.t.status).toBe('stopped');
    expect(c.tmp.status).toBe('stopped');
    // The second run of p finished too: its next restart is already scheduled.
    expect(c.p.status).toBe('backoff');
    expect(c.p.totalRestarts).toBe(2);
  });

  it('transient restarts after an error; temporary never restarts, even after an error', () => {
    const log: string[] = [];
    const { actor, clock } = start([
      child('t', crashing(log, 't'), { restart: 'transient' }),
      child('tmp', crashing(log, 'tmp'), { restart: 'temporary' }),
    ]);
    clock.increment(100);
    expect(log.filter((l) => l === 'start t')).toHaveLength(2);
    expect(log.filter((l) => l === 'start tmp')).toHaveLength(1);
    expect(childView(actor, 'tmp').status).toBe('stopped');
  });

  it('a child that throws does not take the root down (the root handles every child error)', () => {
    const log: string[] = [];
    const { actor, errors } = start([child('a', crashing(log, 'a'), { restart: 'temporary' })]);
    expect(actor.getSnapshot().status).toBe('active');
    expect(errors).toEqual([]);
  });

  it('child.failed from a callback actor is treated as a crash and restarted', () => {
    let starts = 0;
    const failsLater = fromCallback(({ sendBack }) => {
      starts++;
      if (starts === 1) sendBack({ type: 'child.failed', id: 'a', error: 'EADDRINUSE' });
    });
    const { actor, clock, emitted } = start([child('a', failsLater)]);
    expect(childView(actor, 'a').lastError).toBe('EADDRINUSE');
    clock.increment(100);
    expect(starts).toBe(2);
    expect(emitted).toEqual(['child.up a', 'child.down a', 'child.restarted a', 'child.up a']);
  });

  it('forwards source events to the concern by systemId', () => {
    const received: string[] = [];
    const source = fromCallback(({ sendBack, receive }) => {
      receive((e) => {
        if (e.type === 'poke') sendBack({ type: 'netlink.link', name: 'Ethernet0' });
      });
    });
    const concern = createMachine({
      on: {
        'netlink.*': { actions: ({ event }) => received.push(`${event.type} ${(event as { name?: string }).name}`) },
      },
    });
    const { actor } = start([child('source', source), child('concern', concern, { receives: ['netlink.'] })]);
    actor.system.get('source')!.send({ type: 'poke' });
    actor.send({ type: 'socket.line', connId: 1, lines: '' }); // nobody receives socket.*: ignored
    expect(received).toEqual(['netlink.link Ethernet0']);
  });

  it('shuts down gracefully in phases: drain services first, then sources, then http; exit 0', () => {
    const order: string[] = [];
    const service = (name: string) =>
      createMachine({
        initial: 'up',
        states: {
          up: { on: { shutdown: { target: 'done', actions: () => order.push(`${name} drained`) } } },
          done: { type: 'final' },
        },
      });
    const source = (name: string) =>
      fromCallback(() => () => {
        order.push(`${name} stopped`);
      });
    const { actor, emitted } = start([
      child('http', source('http'), { shutdownOrder: 2 }),
      child('netlinkSource', source('netlinkSource'), { shutdownOrder: 1 }),
      child('portsync', service('portsync'), { drain: true, shutdownOrder: 0 }),
      child('ptp', service('ptp'), { drain: true, shutdownOrder: 0 }),
    ]);
    actor.send({ type: 'shutdown', reason: 'SIGTERM' });
    expect(order).toEqual(['portsync drained', 'ptp drained', 'netlinkSource stopped', 'http stopped']);
    expect(emitted[4]).toBe('supervisor.shuttingDown SIGTERM'); // after the four child.up, before any child.down
    expect(actor.getSnapshot().status).toBe('done');
    expect(actor.getSnapshot().output).toEqual({ exitCode: 0, reason: 'SIGTERM' });
  });

  it('stops a service that does not drain within shutdownTimeoutMs', () => {
    const order: string[] = [];
    const stubborn = fromCallback(() => () => {
      order.push('stubborn stopped');
    });
    const { actor, clock } = start([child('svc', stubborn, { drain: true })], { shutdownTimeoutMs: 500 });
    actor.send({ type: 'shutdown' });
    expect(actor.getSnapshot().status).toBe('active');
    clock.increment(499);
    expect(order).toEqual([]);
    clock.increment(1);
    expect(order).toEqual(['stubborn stopped']);
    expect(actor.getSnapshot().status).toBe('done');
  });

  it('supervisor.exit from a service shuts down with its code', () => {
    const svc = createMachine({ entry: sendParent({ type: 'supervisor.exit', code: 75, reason: 'ptp restart' }) });
    const { actor } = start([child('ptp', svc)]);
    expect(actor.getSnapshot().output).toEqual({ exitCode: 75, reason: 'ptp restart' });
  });

  it('tracks readiness reported by children', () => {
    const svc = createMachine({ entry: sendParent({ type: 'child.ready', id: 'ptp', ready: true }) });
    const { actor } = start([child('ptp', svc, { reportsReady: true })]);
    expect(childView(actor, 'ptp').ready).toBe(true);
  });
});
