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

  it('routes events sent to it to the running concern; between restarts they are counted, then delivered again', () => {
    const received: string[] = [];
    let starts = 0;
    // Crashes on test.crash; a permanent child, so its lifecycle restarts it after the 100 ms backoff.
    const concern = fromCallback<{ type: string; n?: number }>(({ receive }) => {
      starts++;
      receive((e) => {
        if (e.type === 'test.crash') throw new Error('concern crashed');
        received.push(`${e.type} ${e.n}`);
      });
    });
    const { actor, clock, errors } = start([child('concern', concern, { receives: ['test.'] })]);
    const dropped = () => actor.getSnapshot().context.droppedEvents;
    actor.send({ type: 'test.ping', n: 1 } as never);
    expect(received).toEqual(['test.ping 1']);
    actor.send({ type: 'test.crash' } as never);
    expect(childView(actor, 'concern').status).toBe('backoff');
    actor.send({ type: 'test.ping', n: 2 } as never);
    actor.send({ type: 'test.ping', n: 3 } as never);
    expect(received).toEqual(['test.ping 1']);
    expect(dropped()).toBe(2);
    clock.increment(100);
    expect(starts).toBe(2);
    actor.send({ type: 'test.ping', n: 4 } as never);
    expect(received).toEqual(['test.ping 1', 'test.ping 4']);
    expect(dropped()).toBe(2);
    expect(errors).toEqual([]);
  });

  it('an event queued behind a concern crash, before its child.down arrives, is counted, not lost', () => {
    const received: string[] = [];
    const root: { ref?: { send(e: { type: string }): void } } = {};
    // On test.crash the concern first sends another event to the supervisor (queued while the supervisor is still
    // delivering this one, so ahead of the lifecycle's child.down), then crashes.
    const concern = fromCallback<{ type: string }>(({ receive }) => {
      receive((e) => {
        if (e.type === 'test.crash') {
          root.ref!.send({ type: 'test.after' });
          throw new Error('concern crashed');
        }
        received.push(e.type);
      });
    });
    const { actor, errors } = start([child('concern', concern, { receives: ['test.'] })]);
    root.ref = actor as never;
    actor.send({ type: 'test.crash' } as never);
    expect(received).toEqual([]);
    expect(actor.getSnapshot().context.droppedEvents).toBe(1);
    expect(childView(actor, 'concern').status).toBe('backoff');
    expect(errors).toEqual([]);
  });

  it('an event type with two receivers goes to both; to the running one while the other restarts', () => {
    const got: string[] = [];
    const receiver = (name: string) =>
      fromCallback<{ type: string }>(({ receive }) => {
        receive((e) => {
          if (e.type === 'test.crash') {
            if (name === 'b') throw new Error('b crashed');
            return;
          }
          got.push(`${name} ${e.type}`);
        });
      });
    const { actor, clock } = start([
      child('a', receiver('a'), { receives: ['test.'] }),
      child('b', receiver('b'), { receives: ['test.'] }),
    ]);
    actor.send({ type: 'test.ping' } as never);
    expect(got).toEqual(['a test.ping', 'b test.ping']);
    actor.send({ type: 'test.crash' } as never);
    actor.send({ type: 'test.ping' } as never);
    expect(got).toEqual(['a test.ping', 'b test.ping', 'a test.ping']);
    expect(actor.getSnapshot().context.droppedEvents).toBe(0);
    clock.increment(100);
    actor.send({ type: 'test.ping' } as never);
    expect(got.slice(3)).toEqual(['a test.ping', 'b test.ping']);
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
