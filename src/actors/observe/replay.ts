// Replays a recorded trace: the same machines, on a SimulatedClock, with every I/O actor replaced by an inert stub
// and the recorded events delivered to their systemIds at their recorded times. Delayed events (timeouts, backoff,
// holdover) re-happen on the simulated clock, so a replay reproduces the timeline without waiting for it.
import {
  createActor,
  fromCallback,
  type AnyActorLogic,
  type AnyActorRef,
  type AnyStateMachine,
  type InspectionEvent,
} from 'xstate';
import { isStateMachine } from './machineChart.js';
import { collectTreeSnapshot, type TreeSnapshot } from './treeSnapshot.js';
import { TraceError, type TraceHeader, type TraceRecord } from '../../io/observe/traceFormat.js';
import { supervisorMachine } from '../../machines/supervisor/supervisor.js';
import type { ChildSpec } from '../../machines/supervisor/spec.js';
import { replayRegistry } from './replayRegistry.js';

/**
 * A simulated clock that fires due timers one by one, in time order, with `now` at each timer's due time (XState's
 * SimulatedClock sets the end time first), so the printed timeline shows when a timeout really happened.
 */
export class ReplayClock {
  private nowMs = 0;
  private timers = new Map<unknown, { due: number; seq: number; fn: () => void }>();
  private seq = 0;
  now(): number {
    return this.nowMs;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = { timer: ++this.seq };
    this.timers.set(id, { due: this.nowMs + ms, seq: this.seq, fn });
    return id;
  }
  clearTimeout(id: unknown): void {
    this.timers.delete(id);
  }
  advanceTo(t: number): void {
    for (;;) {
      let next: [unknown, { due: number; seq: number; fn: () => void }] | undefined;
      for (const e of this.timers)
        if (e[1].due <= t && (!next || e[1].due < next[1].due || (e[1].due === next[1].due && e[1].seq < next[1].seq)))
          next = e;
      if (!next) break;
      this.timers.delete(next[0]);
      this.nowMs = next[1].due;
      next[1].fn();
    }
    this.nowMs = Math.max(this.nowMs, t);
  }
}

/** Never sends anything: what the real I/O actor would have produced is in the trace. */
const inert = fromCallback(() => () => {});

/** The machine with every non-machine actor it names replaced by the inert stub; child machines likewise. */
export function replayable(
  machine: AnyStateMachine,
  seen = new Map<AnyStateMachine, AnyStateMachine>(),
): AnyStateMachine {
  const done = seen.get(machine);
  if (done) return done;
  const actors: Record<string, AnyActorLogic> = {};
  for (const [name, logic] of Object.entries(machine.implementations.actors)) {
    actors[name] = isStateMachine(logic) ? replayable(logic, seen) : inert;
  }
  const out = machine.provide({ actors } as never) as AnyStateMachine;
  seen.set(machine, out);
  return out;
}

export interface ReplayStep {
  t: number;
  kind: 'event' | 'state';
  actor: string;
  text: string;
}

export interface ReplayResult {
  /** systemId → state value of every machine actor alive at the end (and the root's status). */
  snapshot: TreeSnapshot;
  steps: ReplayStep[];
  delivered: number;
}

export function replayTrace(header: TraceHeader, records: TraceRecord[], opts: { until?: number } = {}): ReplayResult {
  const clock = new ReplayClock();
  const steps: ReplayStep[] = [];
  let now = 0;
  const lastValue = new Map<string, string>();
  const inspect = (ev: InspectionEvent) => {
    if (ev.type !== '@xstate.snapshot') return;
    const ref = ev.actorRef as AnyActorRef & { systemId?: string };
    const value = (ev.snapshot as { value?: unknown }).value;
    if (!ref.systemId || value === undefined) return;
    const text = JSON.stringify(value);
    if (lastValue.get(ref.systemId) === text) return;
    lastValue.set(ref.systemId, text);
    steps.push({ t: clock.now(), kind: 'state', actor: ref.systemId, text });
  };

  const children: ChildSpec[] = [];
  for (const m of header.machines) {
    if (m.systemId === 'supervisor') continue;
    const known = replayRegistry[m.machine];
    children.push({
      id: m.systemId,
      systemId: m.systemId,
      logic: known ? replayable(known.machine).provide({ actors: known.actors ?? {} } as never) : inert,
      input: m.input,
      restart: 'permanent',
      receives: m.receives,
      drain: m.drain,
      reportsReady: m.reportsReady,
      shutdownOrder: m.shutdownOrder,
    });
  }
  const root = createActor(supervisorMachine, {
    clock,
    systemId: 'supervisor',
    inspect,
    input: {
      children,
      ...header.supervisor,
    },
  });
  root.start();

  let delivered = 0;
  // A trace usually ends with the shutdown: the final snapshot is the tree as it was just before it.
  let beforeShutdown: ReplayResult['snapshot'] | undefined;
  const until = opts.until ?? Infinity;
  for (let i = 0; i < records.length; i++) {
    const r = records[i]!;
    if (r.t > until) break;
    if (r.t > now) {
      clock.advanceTo(r.t);
      now = r.t;
    }
    const target = r.to === 'supervisor' ? root : root.system.get(r.to);
    if (!target) throw new TraceError(i + 2, `unknown target "${r.to}": no actor has that systemId at t=${r.t}`);
    const machine = header.machines.find((m) => m.systemId === r.to)?.machine;
    const event =
      machine && replayRegistry[machine]?.rehydrate ? replayRegistry[machine]!.rehydrate!(r.event) : r.event;
    steps.push({ t: now, kind: 'event', actor: r.to, text: JSON.stringify(r.event).slice(0, 200) });
    if (target === root && (event.type === 'shutdown' || event.type === 'supervisor.exit') && !beforeShutdown) {
      beforeShutdown = {};
      collectTreeSnapshot(root, beforeShutdown);
    }
    target.send(event);
    delivered++;
  }
  const end = Number.isFinite(until) ? until : now;
  if (end > now) clock.advanceTo(end);
  // The final snapshot is the tree just before the recorded shutdown, or the live tree when the trace has none.
  const snapshot: ReplayResult['snapshot'] = beforeShutdown ?? collectTreeSnapshot(root);
  root.stop();
  return { snapshot, steps, delivered };
}
