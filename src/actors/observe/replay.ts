// Replays a recorded trace: the same machines, on a SimulatedClock, with every I/O actor replaced by an inert stub
// and the recorded events delivered to their systemIds at their recorded times. Delayed events (timeouts, backoff,
// holdover) re-happen on the simulated clock, so a replay reproduces the timeline without waiting for it.
import {
  createActor,
  fromCallback,
  type AnyActorLogic,
  type AnyActorRef,
  type AnyEventObject,
  type AnyMachineSnapshot,
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
 * A recorded event as this build's machines take it. Traces of earlier builds carry a socket.line's lines as an array
 * of strings; the sidecar now takes them as one text, each line followed by a newline.
 */
export function upgradeRecordedEvent(event: AnyEventObject): AnyEventObject {
  const lines: unknown = event['lines'];
  if (event.type === 'socket.line' && Array.isArray(lines))
    return { ...event, lines: lines.map((l) => `${String(l)}\n`).join('') };
  return event;
}

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

/** What a machine asked of its I/O during a replay: an I/O actor started with an input, or an event sent to it. */
export interface ReplayEffect {
  t: number;
  /** The id of the machine that invoked or spawned the I/O actor. */
  machine: string;
  /** The actor's name in that machine's implementations (e.g. `writeAppDb`). */
  src: string;
  kind: 'start' | 'receive';
  /** The actor's input (start) or the event it received (receive). */
  data: unknown;
}

/** Never sends anything: what the real I/O actor would have produced is in the trace. */
const inert = fromCallback(() => () => {});

/** An inert stub that records what it was started with and what it was sent. */
function recordingStub(machine: string, src: string, sink: (e: Omit<ReplayEffect, 't'>) => void): AnyActorLogic {
  return fromCallback(({ input, receive }) => {
    sink({ machine, src, kind: 'start', data: input });
    receive((event) => sink({ machine, src, kind: 'receive', data: event }));
    return () => {};
  });
}

/**
 * The machine with every non-machine actor it names replaced by an inert stub (recording into `sink` when given);
 * child machines likewise.
 */
export function replayable(
  machine: AnyStateMachine,
  seen = new Map<AnyStateMachine, AnyStateMachine>(),
  sink?: (e: Omit<ReplayEffect, 't'>) => void,
): AnyStateMachine {
  const done = seen.get(machine);
  if (done) return done;
  const actors: Record<string, AnyActorLogic> = {};
  for (const [name, logic] of Object.entries(machine.implementations.actors)) {
    actors[name] = isStateMachine(logic)
      ? replayable(logic, seen, sink)
      : sink
        ? recordingStub(machine.id, name, sink)
        : inert;
  }
  const out = machine.provide({ actors } as never) as AnyStateMachine;
  seen.set(machine, out);
  return out;
}

/** A machine actor's snapshot during a replay, with the one before it and the event that led to it. */
export interface ReplaySnapshotStep {
  t: number;
  /** The actor's systemId, or its id when it has none. */
  actor: string;
  /** The machine id. */
  machine: string;
  snapshot: AnyMachineSnapshot;
  prev: AnyMachineSnapshot | undefined;
  event: AnyEventObject;
  /** The logic the actor runs (the replayable machine), for pure re-computation. */
  logic: AnyStateMachine;
  /** Every effect recorded so far. */
  effects: readonly ReplayEffect[];
  /** The 1-based line of the trace record being delivered (0 while the tree starts). */
  line: number;
}

export interface ReplayOptions {
  until?: number;
  /** The clock to run on (default: a fresh one); an inspector reads the simulated time from it. */
  clock?: ReplayClock;
  /** Another inspection observer (the local inspector in `syncvisor replay --inspect`). */
  inspect?: (ev: InspectionEvent) => void;
  /** Called with every snapshot of every machine actor (per-state checks). */
  onSnapshot?: (step: ReplaySnapshotStep) => void;
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
  /** What the machines asked of their (inert) I/O, in order. */
  effects: ReplayEffect[];
}

export function replayTrace(header: TraceHeader, records: TraceRecord[], opts: ReplayOptions = {}): ReplayResult {
  const clock = opts.clock ?? new ReplayClock();
  const steps: ReplayStep[] = [];
  const effects: ReplayEffect[] = [];
  const sink = (e: Omit<ReplayEffect, 't'>) => {
    if (effects.length < 1_000_000) effects.push({ t: clock.now(), ...e });
  };
  const seen = new Map<AnyStateMachine, AnyStateMachine>();
  let now = 0;
  let line = 0;
  const lastValue = new Map<string, string>();
  const lastSnapshot = new Map<string, AnyMachineSnapshot>();
  const inspect = (ev: InspectionEvent) => {
    opts.inspect?.(ev);
    if (ev.type !== '@xstate.snapshot') return;
    const ref = ev.actorRef as AnyActorRef & { systemId?: string; logic?: unknown };
    const value = (ev.snapshot as { value?: unknown }).value;
    if (opts.onSnapshot && isStateMachine(ref.logic)) {
      const snapshot = ev.snapshot as AnyMachineSnapshot;
      opts.onSnapshot({
        t: clock.now(),
        actor: ref.systemId ?? ref.id,
        machine: ref.logic.id,
        snapshot,
        prev: lastSnapshot.get(ref.sessionId),
        event: ev.event,
        logic: ref.logic,
        effects,
        line,
      });
      if (snapshot.status === 'active') lastSnapshot.set(ref.sessionId, snapshot);
      else lastSnapshot.delete(ref.sessionId);
    }
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
      logic: known
        ? (replayable(known.machine, seen, sink).provide({ actors: known.actors ?? {} } as never) as AnyStateMachine)
        : inert,
      input: m.input,
      restart: 'permanent',
      receives: m.receives,
      drain: m.drain,
      reportsReady: m.reportsReady,
      shutdownOrder: m.shutdownOrder,
    });
  }
  const root = createActor(replayable(supervisorMachine, seen, sink), {
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
    line = i + 2;
    if (r.t > now) {
      clock.advanceTo(r.t);
      now = r.t;
    }
    const target = r.to === 'supervisor' ? root : root.system.get(r.to);
    if (!target) throw new TraceError(i + 2, `unknown target "${r.to}": no actor has that systemId at t=${r.t}`);
    const machine = header.machines.find((m) => m.systemId === r.to)?.machine;
    const recorded = upgradeRecordedEvent(r.event);
    const event =
      machine && replayRegistry[machine]?.rehydrate ? replayRegistry[machine]!.rehydrate!(recorded) : recorded;
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
  return { snapshot, steps, delivered, effects };
}
