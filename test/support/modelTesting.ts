// Model-based testing with xstate/graph: generate shortest and bounded simple paths through a machine, replay each
// one on a fresh real actor driven by a ModelClock, and check invariants in every reached state.
//
// The graph explores the machine with machine.transition() (pure: no actions run, no actors start). Each path is then
// replayed on a real actor (createActor with the fakes the test provided), so invariants see the real action calls,
// real children and real timers. Events the graph takes are delivered the way the running system delivers them:
//   - delayed events (xstate.after.*, and events a test declares as scheduled) are fired from the clock, and only if
//     the actor really armed that timer (otherwise the replay fails: "not scheduled");
//   - xstate.done.actor.X / xstate.error.actor.X are sent only while the child X is running (fakes never settle, so
//     the graph decides when an invoked actor finishes);
//   - everything else is sent as is.
// After the last step the actor is stopped: it must end stopped (or done), every child must be stopped, no timer may
// remain armed, and advancing the clock afterwards must change nothing.
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { machineVersions } from '../../src/actors/observe/machineVersions.js';
import { toTraceJson, traceFormat, traceVersion } from '../../src/io/observe/traceFormat.js';
import {
  createActor,
  createEmptyActor,
  type AnyActorRef,
  type AnyEventObject,
  type AnyMachineSnapshot,
  type AnyStateMachine,
  type InputFrom,
  type AnyStateNode,
  type InspectionEvent,
} from 'xstate';
import { TestModel, getStateNodes, serializeSnapshot, type AdjacencyMap, type StatePath } from 'xstate/graph';

type Path = StatePath<AnyMachineSnapshot, AnyEventObject>;

interface Timer {
  due: number;
  fn: () => void;
  /** The event the actor system scheduled with this timer (unknown for timers set outside the scheduler). */
  event: AnyEventObject | undefined;
}

interface DelayedAction {
  event: AnyEventObject;
  delay: number;
}

/**
 * A clock for the actor system that knows which event each timer carries, so a replay can fire exactly the timer the
 * path takes (and fail when the machine never armed it). Time only moves when a timer is fired or advance() is called.
 *
 * The event of a timer is learned through public API only: pass `inspect: clock.inspect` to createActor. A delayed
 * `raise`/`sendTo` is reported as an `@xstate.action` inspection event (with its resolved event and delay) just before
 * the scheduler calls clock.setTimeout for it, in the same order: the clock queues those and gives each setTimeout
 * the first queued action with the same delay.
 */
export class ModelClock {
  private nowMs = 0;
  private nextId = 1;
  private readonly timers = new Map<number, Timer>();
  private readonly delayed: DelayedAction[] = [];

  /** Kept for callers that attach the actor: with `inspect: clock.inspect` nothing else is needed. */
  attach(_actor: AnyActorRef): void {}

  /** An inspection observer: pass it to createActor (or call it from yours). */
  readonly inspect = (ev: InspectionEvent): void => {
    if (ev.type !== '@xstate.action') return;
    const { type, params } = ev.action as { type: string; params?: { event?: unknown; delay?: unknown } };
    if (type !== 'xstate.raise' && type !== 'xstate.sendTo') return;
    if (typeof params?.delay !== 'number' || typeof params.event !== 'object' || params.event === null) return;
    // Bounded: a queued action that never reached the scheduler must not grow the queue forever.
    if (this.delayed.length >= 1000) this.delayed.shift();
    this.delayed.push({ event: params.event as AnyEventObject, delay: params.delay });
  };

  now(): number {
    return this.nowMs;
  }

  setTimeout(fn: (...args: unknown[]) => void, timeout: number): number {
    const i = this.delayed.findIndex((d) => d.delay === timeout);
    const event = i >= 0 ? this.delayed.splice(i, 1)[0]!.event : undefined;
    const id = this.nextId++;
    this.timers.set(id, { due: this.nowMs + timeout, fn: () => fn(), event });
    return id;
  }

  clearTimeout(id: unknown): void {
    this.timers.delete(id as number);
  }

  /** Armed timers, earliest first. */
  pending(): { due: number; event: AnyEventObject | undefined }[] {
    return [...this.timers.values()].sort((a, b) => a.due - b.due).map((t) => ({ due: t.due, event: t.event }));
  }

  /**
   * Fires the earliest armed timer carrying an event equal to `event` (type and payload). Time moves to its due time
   * (never back); other timers stay armed, as if they ran late. Returns false when no such timer is armed.
   */
  fire(event: AnyEventObject): boolean {
    const want = JSON.stringify(event);
    let found: [number, Timer] | undefined;
    for (const entry of this.timers) {
      const ev = entry[1].event;
      if (ev === undefined || JSON.stringify(ev) !== want) continue;
      if (!found || entry[1].due < found[1].due) found = entry;
    }
    if (!found) return false;
    this.timers.delete(found[0]);
    this.nowMs = Math.max(this.nowMs, found[1].due);
    found[1].fn();
    return true;
  }

  /** Moves time forward by `ms`, firing due timers in order (bounded: at most 10 000 timers). */
  advance(ms: number): void {
    const until = this.nowMs + ms;
    for (let i = 0; i < 10_000; i += 1) {
      let next: [number, Timer] | undefined;
      for (const entry of this.timers) if (!next || entry[1].due < next[1].due) next = entry;
      if (!next || next[1].due > until) break;
      this.timers.delete(next[0]);
      this.nowMs = Math.max(this.nowMs, next[1].due);
      next[1].fn();
    }
    this.nowMs = until;
  }
}

/** Event payloads for the graph, by event descriptor. */
export interface EventTable {
  /** Exact event types and wildcard descriptors ('*', 'xstate.error.actor.*', …) → the events to try. */
  [descriptor: string]: AnyEventObject[] | ((snapshot: AnyMachineSnapshot) => AnyEventObject[]);
}

/**
 * The events to explore from `snapshot`: for each event descriptor the active states handle, the table's payloads;
 * done/error events of invoked actors are looked up as `done:<src>` / `error:<src>` (defaults: `{type}` and an error
 * `{message: 'fake failure'}`); delayed events as is. Any other descriptor the table does not list is not explored.
 */
export function eventsFrom(snapshot: AnyMachineSnapshot, table: EventTable): AnyEventObject[] {
  // A machine that reached its final state takes no more events (the running actor has stopped its children).
  if (snapshot.status !== 'active') return [];
  const out: AnyEventObject[] = [];
  const resolve = (key: string): AnyEventObject[] | undefined => {
    const entry = table[key];
    return typeof entry === 'function' ? entry(snapshot) : entry;
  };
  for (const descriptor of ownEventDescriptors(snapshot)) {
    const listed = resolve(descriptor);
    if (listed) {
      out.push(...listed);
      continue;
    }
    const done = descriptor.startsWith('xstate.done.actor.');
    const error = descriptor.startsWith('xstate.error.actor.');
    if (done || error) {
      const id = descriptor.slice(done ? 'xstate.done.actor.'.length : 'xstate.error.actor.'.length);
      // Only a child that exists can finish: a handler that outlives its invoke (or a wildcard) gets no event.
      if (!id.includes('*') && !(id in snapshot.children) && !isInvoked(snapshot, id)) continue;
      const src = invokedSrc(snapshot, id);
      const variants = src === undefined ? undefined : resolve(`${done ? 'done' : 'error'}:${src}`);
      if (variants) out.push(...variants.map((v) => ({ ...v, type: descriptor })));
      else out.push(done ? { type: descriptor } : { type: descriptor, error: { message: 'fake failure' } });
      continue;
    }
    if (descriptor.startsWith('xstate.after.')) out.push({ type: descriptor });
    // Other events need their payload from the table: an event the table does not list is not explored.
  }
  return out;
}

/**
 * The state nodes the snapshot is in (root included), from public API: every state node of the machine whose path the
 * snapshot matches.
 */
export function activeStateNodes(snapshot: AnyMachineSnapshot): AnyStateNode[] {
  const out: AnyStateNode[] = [];
  const visit = (node: AnyStateNode): void => {
    if (node.type === 'history') return;
    if (node.path.length > 0 && !snapshot.matches(pathValue(node.path) as never)) return;
    out.push(node);
    for (const child of Object.values(node.states)) visit(child);
  };
  visit(snapshot.machine.root);
  return out;
}

function pathValue(path: readonly string[]): unknown {
  let v: unknown = path[path.length - 1];
  for (let i = path.length - 2; i >= 0; i -= 1) v = { [path[i]!]: v };
  return v;
}

/** The event descriptors the active state nodes handle themselves ('*' and wildcards included), deduplicated. */
export function ownEventDescriptors(snapshot: AnyMachineSnapshot): string[] {
  const out = new Set<string>();
  for (const node of activeStateNodes(snapshot)) for (const d of node.ownEvents) out.add(d);
  return [...out];
}

function isInvoked(snapshot: AnyMachineSnapshot, id: string): boolean {
  return activeStateNodes(snapshot).some((node) => node.invoke.some((inv) => inv.id === id));
}

function invokedSrc(snapshot: AnyMachineSnapshot, id: string): string | undefined {
  for (const node of activeStateNodes(snapshot)) {
    for (const inv of node.invoke) if (inv.id === id) return typeof inv.src === 'string' ? inv.src : undefined;
  }
  return undefined;
}

/** Every state node id of the machine (compound, atomic, final, transient), e.g. 'warmRestart.checking'. */
export function allStateNodeIds(machine: AnyStateMachine): string[] {
  return getStateNodes(machine.root)
    .map((n) => n.id)
    .sort();
}

export interface StepContext {
  actor: AnyActorRef;
  snapshot: AnyMachineSnapshot;
  /** undefined for the initial state. */
  prev: AnyMachineSnapshot | undefined;
  /** The event that led here (xstate.init for the initial state). */
  event: AnyEventObject;
  clock: ModelClock;
}

export interface ModelSpec<TMachine extends AnyStateMachine> {
  machine: TMachine;
  input?: InputFrom<TMachine>;
  events: EventTable;
  /** Abstraction of a snapshot for the graph (default: value + context as JSON). Keeps the graph finite. */
  serialize?: (snapshot: AnyMachineSnapshot) => string;
  /** Skip events in some states (e.g. a timer event only while it can be armed). */
  filterEvents?: (snapshot: AnyMachineSnapshot, event: AnyEventObject) => boolean;
  /** Events only a timer delivers (fired from the clock). Default: xstate.after.* */
  isScheduled?: (event: AnyEventObject) => boolean;
  /**
   * Projection of the context compared between the graph's snapshot and the replayed actor's (default: none). With
   * `serialize`, the abstractions are compared as well (the graph keeps one concrete snapshot per abstract state, so
   * fields the abstraction drops may differ).
   */
  project?: (snapshot: AnyMachineSnapshot) => unknown;
  /**
   * The machine looks up its children with system.get(systemId) (e.g. the supervisor): in the graph, let every lookup
   * find an actor, as it does in the running system for every live child (default: false, lookups find nothing).
   */
  systemRefsExist?: boolean;
  /** Upper bound on the adjacency traversal (xstate/graph throws beyond it). */
  limit?: number;
  /** Called before each replay: reset the fakes' logs. */
  reset: () => void;
  /** Asserted in every reached state of every replayed path (including the initial one). */
  check: (ctx: StepContext) => void;
  /** A fingerprint of the fakes' observable effects (action calls): must not change after stop. */
  effects: () => unknown;
  /** Asserted after the actor has been stopped. */
  afterStop?: (ctx: StepContext) => void;
  /** Also sees every inspection event of the replayed actor system. */
  inspect?: (ev: InspectionEvent) => void;
}

/**
 * The machine as xstate/graph sees it, except that every transition gets a fresh mock actor scope: the graph's own
 * scope is shared by the whole traversal, so spawning a child with a systemId on two branches of the graph (a
 * restart, a respawn) would fail with "Actor with system ID … already exists".
 */
function graphLogic<TMachine extends AnyStateMachine>(machine: TMachine, systemRefsExist = false): TMachine {
  const logic = Object.create(machine) as TMachine;
  const transition = machine.transition.bind(machine);
  const freshScope = () => {
    const self = createEmptyActor();
    // Children never start in the graph, so system.get() finds nobody unless told that every systemId resolves.
    const system = systemRefsExist
      ? Object.assign(Object.create(self.system) as object, { get: () => self })
      : self.system;
    return {
      self,
      logger: () => {},
      id: '',
      sessionId: 'model',
      defer: () => {},
      system,
      stopChild: () => {},
      emit: () => {},
      actionExecutor: () => {},
    };
  };
  (logic as { transition: unknown }).transition = (snapshot: never, event: never) =>
    transition(snapshot, event, freshScope() as never);
  return logic;
}

function traversal<TMachine extends AnyStateMachine>(spec: ModelSpec<TMachine>) {
  return {
    input: spec.input,
    events: (s: AnyMachineSnapshot) => eventsFrom(s, spec.events),
    limit: spec.limit ?? 20_000,
    // Explicit: the test model's default serialization differs from xstate/graph's serializeSnapshot.
    serializeState: (s: AnyMachineSnapshot) => (spec.serialize ? spec.serialize(s) : serializeSnapshot(s as never)),
    ...(spec.filterEvents ? { filterEvents: spec.filterEvents } : {}),
  };
}

/** xstate/graph's test model of the spec's machine (path generation and the adjacency map). */
export function testModel<TMachine extends AnyStateMachine>(spec: ModelSpec<TMachine>) {
  return new TestModel(graphLogic(spec.machine, spec.systemRefsExist), traversal(spec) as never);
}

function adjacencyOf<TMachine extends AnyStateMachine>(spec: ModelSpec<TMachine>) {
  return testModel(spec).getAdjacencyMap() as unknown as AdjacencyMap<AnyMachineSnapshot, AnyEventObject>;
}

/** The shortest path to every (abstract) state, from the test model; prefixes are kept (one path per state). */
export function shortestPaths<TMachine extends AnyStateMachine>(spec: ModelSpec<TMachine>): Path[] {
  return testModel(spec).getShortestPaths({ allowDuplicatePaths: true }) as unknown as Path[];
}

/**
 * Transition coverage: for every edge of the graph (state S, event e), the shortest path to S followed by e, the first
 * `max` of them. Shortest paths reach every state but not every transition; eventless (transient) states that are
 * only passed through on some transition (e.g. restarting → loading) are covered this way.
 */
export function transitionPaths<TMachine extends AnyStateMachine>(spec: ModelSpec<TMachine>, max: number): Path[] {
  const serialize = spec.serialize ?? serializeSnapshot;
  const toState = new Map<string, Path>();
  for (const p of shortestPaths(spec)) toState.set(serialize(p.state), p);
  const adjacency = adjacencyOf(spec);
  const out: Path[] = [];
  for (const key of Object.keys(adjacency)) {
    const head = toState.get(key);
    const value = adjacency[key as keyof typeof adjacency];
    if (!head || !value) continue;
    for (const t of Object.values(value.transitions)) {
      if (out.length >= max) return out;
      out.push({ state: t.state, weight: head.weight + 1, steps: [...head.steps, { state: t.state, event: t.event }] });
    }
  }
  return out;
}

/**
 * Bounded simple paths: a depth-first walk over the xstate/graph adjacency map from the initial state that never
 * revisits a state on the current path, stops at `maxDepth` events, and keeps the first `max` maximal paths (a path
 * that ends where no unvisited state is left, or at the depth bound). getSimplePaths() enumerates every simple path
 * to every state, which grows exponentially with the model; this keeps the walk bounded.
 */
export function simplePaths<TMachine extends AnyStateMachine>(
  spec: ModelSpec<TMachine>,
  bounds: { maxDepth: number; max: number },
): Path[] {
  return walkGraph(spec, bounds, false);
}

/**
 * Bounded walks: every event sequence of `maxDepth` events the graph allows (cycles included), the first `max` of
 * them. For small machines whose interesting behaviour is in cycles (FREERUN → LOCKED → HOLDOVER → LOCKED …).
 */
export function boundedWalks<TMachine extends AnyStateMachine>(
  spec: ModelSpec<TMachine>,
  bounds: { maxDepth: number; max: number },
): Path[] {
  return walkGraph(spec, bounds, true);
}

function walkGraph<TMachine extends AnyStateMachine>(
  spec: ModelSpec<TMachine>,
  bounds: { maxDepth: number; max: number },
  revisit: boolean,
): Path[] {
  const adjacency = adjacencyOf(spec);
  const serialize = spec.serialize ?? serializeSnapshot;
  const initial = Object.values(adjacency)[0];
  if (!initial) return [];
  const out: Path[] = [];
  const onPath = new Set<string>();
  const steps: { state: AnyMachineSnapshot; event: AnyEventObject }[] = [];
  const walk = (state: AnyMachineSnapshot): void => {
    if (out.length >= bounds.max) return;
    const key = serialize(state);
    onPath.add(key);
    let extended = false;
    if (steps.length < bounds.maxDepth) {
      for (const t of Object.values(adjacency[key as keyof typeof adjacency]?.transitions ?? {})) {
        if (!revisit && onPath.has(serialize(t.state))) continue;
        extended = true;
        steps.push({ state: t.state, event: t.event });
        walk(t.state);
        steps.pop();
        if (out.length >= bounds.max) break;
      }
    }
    if (!extended && steps.length > 0) {
      const last = steps[steps.length - 1]!;
      out.push({
        state: last.state,
        weight: steps.length,
        steps: [{ state: initial.state, event: { type: 'xstate.init' } }, ...steps.map((s) => ({ ...s }))],
      });
    }
    if (!revisit || !steps.some((st) => serialize(st.state) === key)) onPath.delete(key);
  };
  walk(initial.state);
  return out;
}

export function describePath(path: Path): string {
  return path.steps
    .map((s) => {
      const { type, ...rest } = s.event;
      const extra = Object.keys(rest).length > 0 ? JSON.stringify(rest) : '';
      return `${type}${extra.length > 120 ? extra.slice(0, 117) + '...' : extra}`;
    })
    .join(' → ');
}

/** A trace record of a model path: the event delivered at step `step`, at the model clock's time. */
interface PathRecord {
  t: number;
  event: AnyEventObject;
}

/**
 * A model path as a syncvisor trace (the JSONL `syncvisor replay` and `replay --inspect` read): the machine runs as
 * the only service of a root supervisor, with the spec's input, and receives the path's events at the model clock's
 * times. Delayed events are not recorded (the replay's clock fires them), like in a recording of the daemon.
 */
export function pathToTrace(machine: AnyStateMachine, input: unknown, records: PathRecord[]): string {
  const header = {
    format: traceFormat,
    version: traceVersion,
    configHash: 'model-path',
    machineVersions: machineVersions([machine]),
    machines: [
      { systemId: 'supervisor', machine: 'supervisor' },
      { systemId: machine.id, machine: machine.id, ...(input === undefined ? {} : { input }) },
    ],
    supervisor: {
      maxRestarts: 0,
      periodMs: 60_000,
      backoff: { initialMs: 200, maxMs: 30_000, factor: 2 },
      shutdownTimeoutMs: 5_000,
    },
  };
  const lines = [JSON.stringify(header)];
  for (const r of records)
    lines.push(`{"t":${r.t},"to":${JSON.stringify(machine.id)},"event":${toTraceJson(r.event)}}`);
  return `${lines.join('\n')}\n`;
}

/** Where a failing path's trace goes: MODEL_TRACE_DIR, or the system's temp dir. */
function writeFailingPath(machine: AnyStateMachine, text: string): string | undefined {
  try {
    const dir = process.env.MODEL_TRACE_DIR ?? tmpdir();
    const file = join(
      dir,
      `syncvisor-model-${machine.id}-${createHash('sha256').update(text).digest('hex').slice(0, 10)}.jsonl`,
    );
    writeFileSync(file, text, { mode: 0o640 });
    return file;
  } catch {
    return undefined;
  }
}

export interface ReplayResult {
  /** Ids of every state node the actor was in, transient (eventless) states included. */
  visited: Set<string>;
  steps: number;
}

/** Replays one path on a fresh actor; throws with the path in the message when a step or invariant fails. */
export function replay<TMachine extends AnyStateMachine>(spec: ModelSpec<TMachine>, path: Path): ReplayResult {
  spec.reset();
  const clock = new ModelClock();
  const visited = new Set<string>();
  const errors: unknown[] = [];
  // Microsteps of the root actor only; the initial ones arrive while the actor is created.
  const a = createActor(spec.machine, {
    clock,
    input: spec.input,
    inspect: (ev: InspectionEvent) => {
      clock.inspect(ev);
      if (ev.type === '@xstate.microstep' && ev.actorRef.sessionId === ev.rootId) {
        for (const n of activeStateNodes(ev.snapshot as AnyMachineSnapshot)) visited.add(n.id);
      }
      spec.inspect?.(ev);
    },
  } as never) as AnyActorRef;
  a.subscribe({ error: (e: unknown) => void errors.push(e) });
  const isScheduled = spec.isScheduled ?? ((e: AnyEventObject) => e.type.startsWith('xstate.after.'));
  let prev: AnyMachineSnapshot | undefined;
  let where = 'start';
  const traced: PathRecord[] = [];
  try {
    for (const [i, step] of path.steps.entries()) {
      where = `step ${i} (${step.event.type})`;
      if (i === 0) a.start();
      else {
        if (!isScheduled(step.event)) traced.push({ t: clock.now(), event: step.event });
        deliver(a, clock, step.event, isScheduled);
      }
      const snapshot = a.getSnapshot() as AnyMachineSnapshot;
      for (const n of activeStateNodes(snapshot)) visited.add(n.id);
      expect(errors, 'actor errors').toEqual([]);
      expect(snapshot.value, 'state value (graph vs actor)').toEqual(step.state.value);
      if (spec.serialize)
        expect(spec.serialize(snapshot), 'abstract state (graph vs actor)').toBe(spec.serialize(step.state));
      if (spec.project) expect(spec.project(snapshot), 'context (graph vs actor)').toEqual(spec.project(step.state));
      spec.check({ actor: a, snapshot, prev, event: step.event, clock });
      prev = snapshot;
    }
    where = 'stop';
    const last = a.getSnapshot() as AnyMachineSnapshot;
    const children = Object.values(last.children as Record<string, AnyActorRef | undefined>);
    a.stop();
    const stopped = a.getSnapshot() as AnyMachineSnapshot;
    expect(['stopped', 'done'], 'status after stop').toContain(stopped.status);
    for (const child of children) {
      if (child) expect(child.getSnapshot().status, `child ${child.id} after stop`).not.toBe('active');
    }
    expect(clock.pending(), 'timers armed after stop').toEqual([]);
    const before = JSON.stringify(spec.effects());
    clock.advance(24 * 3600 * 1000);
    expect(JSON.stringify(spec.effects()), 'effects after stop').toBe(before);
    expect(errors, 'actor errors').toEqual([]);
    spec.afterStop?.({ actor: a, snapshot: stopped, prev, event: { type: 'stop' }, clock });
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    e.message = `${e.message}\n  at ${where} of path: ${describePath(path)}`;
    if (spec.machine.id !== 'supervisor') {
      const file = writeFailingPath(spec.machine, pathToTrace(spec.machine, spec.input, traced));
      if (file) e.message += `\n  the path up to the failing step, as a trace: syncvisor replay ${file} --inspect`;
    }
    throw e;
  }
  return { visited, steps: path.steps.length };
}

function deliver(
  actor: AnyActorRef,
  clock: ModelClock,
  event: AnyEventObject,
  isScheduled: (e: AnyEventObject) => boolean,
): void {
  if (isScheduled(event)) {
    if (!clock.fire(event)) {
      throw new Error(
        `${event.type} is not scheduled in ${JSON.stringify((actor.getSnapshot() as AnyMachineSnapshot).value)}; armed: ${JSON.stringify(clock.pending())}`,
      );
    }
    return;
  }
  for (const prefix of ['xstate.done.actor.', 'xstate.error.actor.']) {
    if (!event.type.startsWith(prefix)) continue;
    const id = event.type.slice(prefix.length);
    const child = (actor.getSnapshot() as AnyMachineSnapshot).children[id] as AnyActorRef | undefined;
    if (!child || child.getSnapshot().status !== 'active') {
      throw new Error(`${event.type}: no running child '${id}'`);
    }
  }
  actor.send(event);
}

/** Replays every path; returns the union of visited state nodes. */
export function replayAll<TMachine extends AnyStateMachine>(spec: ModelSpec<TMachine>, paths: Path[]): Set<string> {
  const visited = new Set<string>();
  for (const p of paths) for (const id of replay(spec, p).visited) visited.add(id);
  return visited;
}

/** The machine's own state node ids that the replays never visited. */
export function unvisited(machine: AnyStateMachine, visited: Set<string>): string[] {
  return allStateNodeIds(machine).filter((id) => !visited.has(id));
}

/** The bounds of one machine's model tests: how far each kind of path generation goes, and how much it must yield. */
export interface ModelBounds {
  /** At least this many shortest paths (one per abstract state). */
  minShortestPaths: number;
  /**
   * How many edges of the graph get a path of their own (the shortest path to the edge's source, then its event), the
   * first ones found. Shortest and simple paths never take a self-transition or reach an eventless state that is
   * only passed through, so every edge is replayed once. Default 5000; 0 turns them off.
   */
  transitionPaths?: number;
  /** Bounded simple paths (no state twice on a path): depth and count bounds, and the least count expected. */
  simplePaths: { maxDepth: number; max: number; min: number };
  /** Bounded walks (cycles included), for small machines whose behaviour is in cycles. Default: none. */
  boundedWalks?: { maxDepth: number; max: number; min: number };
  /** State node ids that cannot be reached with this spec's input; every other unvisited state node fails. */
  unreachable?: string[];
  /** Per-test timeout (ms) for the path tests (default 120 s: thousands of replays on shared cores). */
  timeoutMs?: number;
}

/**
 * The path tests every model test runs, as vitest `it` blocks in the calling describe: shortest paths and one path
 * per transition replayed with the invariants checked in every reached state and every state node
 * visited, bounded simple paths, and bounded walks when asked.
 */
export function modelPathTests<TMachine extends AnyStateMachine>(
  spec: ModelSpec<TMachine>,
  bounds: ModelBounds,
  /** Other inputs of the same machine (e.g. an option on): their paths count toward coverage and keep the invariants. */
  variants: readonly ModelSpec<TMachine>[] = [],
): void {
  const edges = bounds.transitionPaths ?? 5000;
  const timeoutMs = bounds.timeoutMs ?? 120_000;
  it(
    `shortest paths${edges > 0 ? ' and every transition' : ''} reach every state node${bounds.unreachable?.length ? ' reachable with this input' : ''}, and the invariants hold in each`,
    () => {
      const paths = shortestPaths(spec);
      expect(paths.length, 'shortest paths').toBeGreaterThanOrEqual(bounds.minShortestPaths);
      const visited = replayAll(spec, paths);
      const perEdge = transitionPaths(spec, edges);
      if (edges > 0) expect(perEdge.length, 'transition paths').toBeGreaterThanOrEqual(paths.length - 1);
      for (const id of replayAll(spec, perEdge)) visited.add(id);
      for (const v of variants) for (const id of replayAll(v, shortestPaths(v))) visited.add(id);
      expect(unvisited(spec.machine, visited), 'state nodes no path reached').toEqual(
        [...(bounds.unreachable ?? [])].sort(),
      );
    },
    timeoutMs,
  );

  const simple = bounds.simplePaths;
  it(
    `bounded simple paths (depth ${simple.maxDepth}) keep the invariants`,
    () => {
      const paths = simplePaths(spec, simple);
      expect(paths.length, 'simple paths').toBeGreaterThanOrEqual(simple.min);
      replayAll(spec, paths);
      for (const v of variants) replayAll(v, simplePaths(v, simple));
    },
    timeoutMs,
  );

  const walks = bounds.boundedWalks;
  if (walks) {
    it(
      `every walk of ${walks.maxDepth} events (cycles included) keeps the invariants`,
      () => {
        const paths = boundedWalks(spec, walks);
        expect(paths.length, 'walks').toBeGreaterThanOrEqual(walks.min);
        replayAll(spec, paths);
      },
      timeoutMs,
    );
  }
}
