// A plain, serializable picture of a state machine's structure, read from its StateNode tree: nested states,
// initial states and labelled transitions (events, `after` delays, `always`, onDone/onError). The local inspector
// draws it in the browser and scripts/gen-machine-docs.ts turns it into mermaid. The machine definition itself
// (`machine.definition`) is not used as is: it holds functions for inline guards/actions and omits `always`.
import type { AnyStateMachine, AnyStateNode } from 'xstate';

export type ChartStateType = 'atomic' | 'compound' | 'parallel' | 'final' | 'history';
export type ChartTransitionKind = 'event' | 'after' | 'always' | 'done' | 'error';

export interface ChartTransition {
  kind: ChartTransitionKind;
  /** The raw event type (`NEXT`, `xstate.after.longWait.m.a`, `` for always). */
  event: string;
  /** Human label: `NEXT`, `after longWait`, `after 500ms`, `always`, `onDone loader`, `onError loader`. */
  label: string;
  /** Ids of the target state nodes ([] for a targetless transition). */
  targets: string[];
  guard?: string;
  actions: string[];
}

export interface ChartInvoke {
  src: string;
  id: string;
  systemId?: string;
}

export interface ChartNode {
  /** Full state node id, e.g. `warmRestart.initialSyncInProgress`. */
  id: string;
  key: string;
  type: ChartStateType;
  /** Id of the initial child (compound states). */
  initial?: string;
  description?: string;
  states: ChartNode[];
  transitions: ChartTransition[];
  invoke: ChartInvoke[];
  entry: string[];
  exit: string[];
  tags: string[];
}

/** The names of the implementations a machine uses: those declared in setup() and those referenced in the chart. */
export interface MachineNames {
  actors: string[];
  guards: string[];
  delays: string[];
  actions: string[];
}

function nameOf(x: unknown): string {
  if (typeof x === 'string') return x;
  if ((typeof x === 'object' || typeof x === 'function') && x !== null && 'type' in x) {
    const t = (x as { type: unknown }).type;
    if (typeof t === 'string') return t;
  }
  if (typeof x === 'function') return x.name && x.name !== 'anonymous' ? x.name : 'inline';
  return 'inline';
}

/** `and([a, b])` → `a && b`, `not(a)` → `!a`, `or([a, b])` → `a || b`; otherwise the guard's name. */
function guardName(g: unknown): string {
  if (typeof g === 'function' && Array.isArray((g as { guards?: unknown }).guards)) {
    const parts = (g as unknown as { guards: unknown[] }).guards.map(guardName);
    if (g.name === 'and') return parts.join(' && ');
    if (g.name === 'or') return parts.map((p) => (p.includes(' ') ? `(${p})` : p)).join(' || ');
    if (g.name === 'not') return `!${parts[0]!.includes(' ') ? `(${parts[0]})` : parts[0]}`;
  }
  return nameOf(g);
}

// Built-in actions XState inserts (raise/cancel for `after`, assign, sendTo, …) are not the author's names.
const builtinAction = /^xstate\./;

function actionNames(list: unknown): string[] {
  if (!Array.isArray(list)) return [];
  return list.map(nameOf).filter((n) => !builtinAction.test(n));
}

function describeTransition(event: string, delay: unknown): { kind: ChartTransitionKind; label: string } {
  if (event === '') return { kind: 'always', label: 'always' };
  if (event.startsWith('xstate.after.')) {
    const d = delay ?? event.slice('xstate.after.'.length).split('.')[0];
    const label = typeof d === 'number' || /^\d+$/.test(String(d)) ? `after ${String(d)}ms` : `after ${String(d)}`;
    return { kind: 'after', label };
  }
  if (event.startsWith('xstate.done.actor.')) {
    return { kind: 'done', label: `onDone ${event.slice('xstate.done.actor.'.length)}` };
  }
  if (event.startsWith('xstate.error.actor.')) {
    return { kind: 'error', label: `onError ${event.slice('xstate.error.actor.'.length)}` };
  }
  if (event.startsWith('xstate.done.state.')) return { kind: 'done', label: 'onDone' };
  return { kind: 'event', label: event };
}

interface RawTransition {
  eventType?: string;
  delay?: unknown;
  target?: ReadonlyArray<{ id: string }> | undefined;
  guard?: unknown;
  actions?: unknown;
}

function toTransition(t: RawTransition, invokeSrc: Map<string, string>): ChartTransition {
  const event = t.eventType ?? '';
  const described = describeTransition(event, t.delay);
  const { kind } = described;
  let { label } = described;
  // onDone/onError of an invoke without an explicit id: name it by its src instead of XState's generated id.
  const generated = /^(onDone|onError) (\d+\..*)$/.exec(label);
  if (generated && invokeSrc.has(generated[2]!)) label = `${generated[1]!} ${invokeSrc.get(generated[2]!)!}`;
  const out: ChartTransition = {
    kind,
    event,
    label,
    targets: (t.target ?? []).map((n) => n.id),
    actions: actionNames(t.actions),
  };
  if (t.guard !== undefined) out.guard = guardName(t.guard);
  return out;
}

/** Walk a StateNode and its descendants into a ChartNode. */
export function chartOfNode(node: AnyStateNode): ChartNode {
  const invokeSrc = new Map<string, string>(node.invoke.map((inv) => [inv.id, nameOf(inv.src)]));
  const transitions: ChartTransition[] = [];
  for (const list of node.transitions.values()) {
    for (const t of list) transitions.push(toTransition(t as unknown as RawTransition, invokeSrc));
  }
  for (const t of node.always ?? []) transitions.push(toTransition(t as unknown as RawTransition, invokeSrc));
  const initialTarget = (node.initial as { target?: ReadonlyArray<{ id: string }> } | undefined)?.target?.[0];
  const out: ChartNode = {
    id: node.id,
    key: node.key,
    type: node.type as ChartStateType,
    states: Object.values(node.states as Record<string, AnyStateNode>).map(chartOfNode),
    transitions,
    invoke: node.invoke.map((inv) => {
      const i: ChartInvoke = { src: nameOf(inv.src), id: inv.id };
      if (inv.systemId) i.systemId = inv.systemId;
      return i;
    }),
    entry: actionNames(node.entry),
    exit: actionNames(node.exit),
    tags: [...node.tags],
  };
  if (node.type === 'compound' && initialTarget) out.initial = initialTarget.id;
  if (node.description) out.description = node.description;
  return out;
}

/** Is this actor logic a state machine (rather than a callback/promise/observable logic)? */
export function isStateMachine(logic: unknown): logic is AnyStateMachine {
  return (
    typeof logic === 'object' &&
    logic !== null &&
    'root' in logic &&
    'implementations' in logic &&
    typeof (logic as { getInitialSnapshot?: unknown }).getInitialSnapshot === 'function'
  );
}

export function chartOf(machine: AnyStateMachine): ChartNode {
  return chartOfNode(machine.root);
}

function walk(node: ChartNode, f: (n: ChartNode) => void): void {
  f(node);
  for (const c of node.states) walk(c, f);
}

/** Names declared in setup() plus names referenced in the chart, each list sorted. */
export function machineNames(machine: AnyStateMachine, chart: ChartNode = chartOf(machine)): MachineNames {
  const impl = machine.implementations as Partial<Record<keyof MachineNames, Record<string, unknown>>>;
  const sets: Record<keyof MachineNames, Set<string>> = {
    actors: new Set(Object.keys(impl.actors ?? {})),
    guards: new Set(Object.keys(impl.guards ?? {})),
    delays: new Set(Object.keys(impl.delays ?? {})),
    actions: new Set(Object.keys(impl.actions ?? {})),
  };
  walk(chart, (n) => {
    for (const inv of n.invoke) if (inv.src !== 'inline') sets.actors.add(inv.src);
    for (const a of [...n.entry, ...n.exit]) if (a !== 'inline') sets.actions.add(a);
    for (const t of n.transitions) {
      if (t.guard) {
        for (const g of t.guard.split(/[\s()!&|]+/)) if (g && g !== 'inline') sets.guards.add(g);
      }
      for (const a of t.actions) if (a !== 'inline') sets.actions.add(a);
      if (t.kind === 'after') {
        const d = t.label.slice('after '.length);
        if (!/^\d+ms$/.test(d)) sets.delays.add(d);
      }
    }
  });
  const sorted = (s: Set<string>) => [...s].sort();
  return {
    actors: sorted(sets.actors),
    guards: sorted(sets.guards),
    delays: sorted(sets.delays),
    actions: sorted(sets.actions),
  };
}
