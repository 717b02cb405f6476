// Per-state checks for recorded traces, by machine id: the replay of a trace (src/actors/observe/replay.ts) reports
// every snapshot of every machine actor, and each is checked the way the model tests check a replayed path:
//   - the state and the context projection must equal a pure re-computation of the same step from the previous
//     snapshot (xstate's `transition()`: what the model's graph would have computed), so a trace and the machine
//     agree step by step, not only on the final value;
//   - the machine's invariants hold in every reached state, over the snapshot and the effects the inert I/O stubs
//     recorded (which actor the machine started with which input, what it sent them).
// The registry is keyed by machine id and reads snapshots through `matches` and context fields defensively, so a
// machine that is restructured keeps being checked where its states and fields still exist; a machine without an
// entry still gets the generic checks. Invariants throw (vitest `expect` or Error) with a message naming the rule.
import { transition, type AnyMachineSnapshot } from 'xstate';
import { isDeepStrictEqual } from 'node:util';
import { activeStateNodes } from './modelTesting.js';
import type { ReplayEffect, ReplaySnapshotStep } from '../../src/actors/observe/replay.js';
import { replayTrace } from '../../src/actors/observe/replay.js';
import type { TraceHeader, TraceRecord } from '../../src/io/observe/traceFormat.js';

export interface TraceStep extends ReplaySnapshotStep {
  /** Effects recorded since the previous snapshot of this actor. */
  newEffects: readonly ReplayEffect[];
}

export interface Invariant {
  name: string;
  check: (step: TraceStep) => void;
}

export interface MachineChecks {
  invariants?: Invariant[];
  /** The part of the context compared with the pure re-computation (default: the whole context as JSON). */
  project?: (snapshot: AnyMachineSnapshot) => unknown;
  /**
   * Its transitions read the actor system (system.get, a child's snapshot): a pure step cannot see those, so it is
   * not re-computed; the invariants still run.
   */
  impure?: boolean;
}

const ctx = (s: AnyMachineSnapshot) => (s.context ?? {}) as Record<string, unknown>;

function fail(rule: string, detail: string): never {
  throw new Error(`${rule}: ${detail}`);
}

/** Effects of this machine that started an I/O actor named `src`. */
const started = (step: TraceStep, src: string) =>
  step.newEffects.filter((e) => e.machine === step.machine && e.src === src && e.kind === 'start');

/** Does the machine have a state at this path (so a restructured machine skips rules about states it lost)? */
function hasState(s: AnyMachineSnapshot, path: string): boolean {
  let node = s.machine.root;
  for (const key of path.split('.')) {
    const next = (node.states as Record<string, typeof node>)[key];
    if (!next) return false;
    node = next;
  }
  return true;
}

const matches = (s: AnyMachineSnapshot, path: string) => {
  if (!hasState(s, path)) return undefined;
  const keys = path.split('.');
  let v: unknown = keys[keys.length - 1];
  for (let i = keys.length - 2; i >= 0; i -= 1) v = { [keys[i]!]: v };
  return s.matches(v as never);
};

/** Generic: an active snapshot is in at least one state; done means a final state is active. */
const generic: Invariant[] = [
  {
    name: 'the state value names states of the machine',
    check: ({ snapshot }) => {
      if (snapshot.status !== 'active' && snapshot.status !== 'done') return;
      const nodes = activeStateNodes(snapshot);
      if (nodes.length < 2 && Object.keys(snapshot.machine.root.states).length > 0)
        fail('state value', `${JSON.stringify(snapshot.value)} names no state of ${snapshot.machine.id}`);
    },
  },
  {
    name: 'done only in a final state',
    check: ({ snapshot }) => {
      if (snapshot.status !== 'done') return;
      if (!activeStateNodes(snapshot).some((n) => n.type === 'final' && n.parent === snapshot.machine.root))
        fail('status', `done but ${JSON.stringify(snapshot.value)} is not a top-level final state`);
    },
  },
];

export const traceChecks: Record<string, MachineChecks> = {
  appDbGate: {
    invariants: [
      {
        name: 'APP_DB is written only in reconciling.writing',
        check: (step) => {
          if (started(step, 'writeAppDb').length > 0 && matches(step.snapshot, 'reconciling.writing') === false)
            fail('appDbGate', `writeAppDb started in ${JSON.stringify(step.snapshot.value)}`);
        },
      },
      {
        name: 'APP_DB is read only in reconciling.reading',
        check: (step) => {
          if (started(step, 'readAppDb').length > 0 && matches(step.snapshot, 'reconciling.reading') === false)
            fail('appDbGate', `readAppDb started in ${JSON.stringify(step.snapshot.value)}`);
        },
      },
      {
        name: 'once open nothing is held',
        check: ({ snapshot }) => {
          const held = ctx(snapshot).heldCount;
          if (matches(snapshot, 'open') && typeof held === 'number' && held !== 0)
            fail('appDbGate', `open with ${held} held keys`);
        },
      },
    ],
  },
  eoiuDetector: {
    invariants: [
      {
        name: 'detected freezes the counts until eoiu.reset',
        check: ({ snapshot, prev, event }) => {
          if (!prev || event.type === 'eoiu.reset') return;
          if (matches(prev, 'detected') && matches(snapshot, 'detected')) {
            const before = ctx(prev).messagesSeen;
            const after = ctx(snapshot).messagesSeen;
            if (before !== after) fail('eoiuDetector', `messagesSeen changed in detected: ${before} → ${after}`);
          }
        },
      },
    ],
  },
  warmRestart: {
    invariants: [
      {
        name: 'a completed sync names its reason',
        check: ({ snapshot }) => {
          if (matches(snapshot, 'initialSyncComplete') !== true) return;
          const reason = ctx(snapshot).reason;
          if (reason !== undefined && !['eoiu', 'timeout', 'cold'].includes(String(reason)))
            fail('warmRestart', `initialSyncComplete with reason ${JSON.stringify(reason)}`);
        },
      },
    ],
  },
  clockState: {
    invariants: [
      {
        name: 'context.current is the state',
        check: ({ snapshot }) => {
          const current = ctx(snapshot).current;
          // A retired clock (its generation ended) keeps the last state it reported.
          if (snapshot.value === 'retired') return undefined;
          if (
            current !== undefined &&
            current !== null &&
            typeof snapshot.value === 'string' &&
            current !== snapshot.value
          )
            fail('clockState', `context.current ${String(current)} in state ${snapshot.value}`);
        },
      },
    ],
  },
  synceDevice: {
    invariants: [
      {
        name: 'the device state follows its ports: LOCKED if one is, else HOLDOVER if one holds over, else FREERUN',
        check: ({ snapshot }) => {
          if (snapshot.value === 'retired' || typeof snapshot.value !== 'string') return;
          const ports = Object.values((ctx(snapshot).ports as Record<string, string> | undefined) ?? {});
          const want = ports.includes('LOCKED') ? 'LOCKED' : ports.includes('HOLDOVER') ? 'HOLDOVER' : 'FREERUN';
          if (snapshot.value !== want)
            fail('synceDevice', `in ${snapshot.value} with ports ${JSON.stringify(ctx(snapshot).ports)}`);
        },
      },
      {
        name: 'context.current is the state',
        check: ({ snapshot }) => {
          const current = ctx(snapshot).current;
          if (snapshot.value === 'retired' || current === undefined) return;
          if (current !== snapshot.value)
            fail('synceDevice', `context.current ${String(current)} in ${String(snapshot.value)}`);
        },
      },
    ],
  },
  osClockDiscipline: {
    invariants: [
      {
        name: 'a profile with chronyd is never undisciplined',
        check: ({ snapshot }) => {
          if (ctx(snapshot).chronydEnabled === true && matches(snapshot, 'Undisciplined') === true)
            fail('osClockDiscipline', 'Undisciplined although chronyd owns CLOCK_REALTIME');
        },
      },
      {
        name: 'Undisciplined only from SourceSelected (settle timer or "already selected")',
        check: ({ snapshot, prev }) => {
          if (!prev || matches(snapshot, 'Undisciplined') !== true || matches(prev, 'Undisciplined') === true) return;
          if (matches(prev, 'SourceSelected') === false)
            fail('osClockDiscipline', `Undisciplined from ${JSON.stringify(prev.value)}`);
        },
      },
    ],
  },
  ptpSidecar: {
    // Its generation is an I/O object that parses lines and names clocks in place: by the time the step is
    // recomputed, the live step has already changed it, so the pure step would see a different generation.
    impure: true,
    // Kept for an explicit recomputation (the clocks are actor references; the generation an object).
    project: (s) => {
      const c = ctx(s);
      return {
        pendingRestart: c.pendingRestart,
        queue: Array.isArray(c.queue) ? c.queue.length : c.queue,
        queueDropped: c.queueDropped,
        loads: c.loads,
        clocks: Object.keys((c.clocks as object | undefined) ?? {}).sort(),
        generation: c.generation !== undefined,
      };
    },
    invariants: [
      {
        name: 'a pending restart only while loading',
        check: ({ snapshot }) => {
          if (ctx(snapshot).pendingRestart === true && matches(snapshot, 'loading') === false)
            fail('ptpSidecar', `pendingRestart in ${JSON.stringify(snapshot.value)}`);
        },
      },
      {
        name: 'the queue never exceeds queueMax',
        check: ({ snapshot }) => {
          const { queue, queueMax } = ctx(snapshot);
          if (Array.isArray(queue) && typeof queueMax === 'number' && queue.length > queueMax)
            fail('ptpSidecar', `queue of ${queue.length} > queueMax ${queueMax}`);
        },
      },
    ],
  },
  // The supervisor looks its children up in the actor system: no pure re-computation.
  supervisor: { impure: true },
};

export interface TraceCheckResult {
  /** Snapshots checked, by machine id. */
  checked: Record<string, number>;
  /** Pure re-computations compared, by machine id. */
  recomputed: Record<string, number>;
  failures: string[];
}

/** Replays a trace and runs the registry's checks on every snapshot of every machine actor. */
export function checkTrace(
  header: TraceHeader,
  records: TraceRecord[],
  registry: Record<string, MachineChecks> = traceChecks,
  maxFailures = 20,
): TraceCheckResult {
  const result: TraceCheckResult = { checked: {}, recomputed: {}, failures: [] };
  const effectsSeen = new Map<string, number>();
  const onSnapshot = (s: ReplaySnapshotStep) => {
    if (result.failures.length >= maxFailures) return;
    const from = effectsSeen.get(s.actor) ?? 0;
    effectsSeen.set(s.actor, s.effects.length);
    const step: TraceStep = { ...s, newEffects: s.effects.slice(from) };
    const entry = registry[s.machine] ?? {};
    const where = `line ${s.line || 1} (t=${s.t}), ${s.actor} [${s.machine}] after ${s.event.type}`;
    result.checked[s.machine] = (result.checked[s.machine] ?? 0) + 1;
    for (const inv of [...generic, ...(entry.invariants ?? [])]) {
      try {
        inv.check(step);
      } catch (err) {
        result.failures.push(`${where}: invariant "${inv.name}" broken: ${(err as Error).message}`);
      }
    }
    if (entry.impure || !s.prev || s.prev.status !== 'active' || s.event.type.startsWith('xstate.init')) return;
    let expected: AnyMachineSnapshot;
    try {
      [expected] = transition(s.logic, s.prev, s.event as never) as unknown as [AnyMachineSnapshot];
    } catch {
      return; // a step that needs the running system (e.g. a child's answer) is checked by the invariants only
    }
    result.recomputed[s.machine] = (result.recomputed[s.machine] ?? 0) + 1;
    if (!isDeepStrictEqual(toJson(expected.value), toJson(s.snapshot.value)))
      result.failures.push(
        `${where}: state ${JSON.stringify(s.snapshot.value)} but the machine computes ${JSON.stringify(expected.value)}`,
      );
    const project = entry.project ?? ((x: AnyMachineSnapshot) => x.context);
    const want = toJson(project(expected));
    const got = toJson(project(s.snapshot));
    if (!isDeepStrictEqual(want, got))
      result.failures.push(
        `${where}: context projection differs from the machine's own step\n    machine: ${short(want)}\n    trace:   ${short(got)}`,
      );
  };
  replayTrace(header, records, { onSnapshot });
  return result;
}

function toJson(v: unknown): unknown {
  return JSON.parse(
    JSON.stringify(v ?? null, (_k, x: unknown) =>
      typeof x === 'object' && x !== null && typeof (x as { send?: unknown }).send === 'function'
        ? `[actor ${(x as { id?: string }).id ?? ''}]`
        : x,
    ),
  ) as unknown;
}

function short(v: unknown): string {
  const s = JSON.stringify(v);
  return s.length > 400 ? `${s.slice(0, 400)}…` : s;
}
