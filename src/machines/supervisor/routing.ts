// The supervisor's routing table: which concern receives which source events. Built once from the ChildSpecs'
// `receives` prefixes; used by the supervisor (events sent to it) and by each child lifecycle (events a source sends
// back), so both deliver the same way.
import type { ChildSpec } from './spec.js';

export interface Route {
  /** Event-type prefix, e.g. 'netlink.'. */
  prefix: string;
  /** systemId of the concern that receives it. */
  systemId: string;
}

export function routingTable(specs: readonly ChildSpec[]): Route[] {
  return specs.flatMap((s) => (s.receives ?? []).map((prefix) => ({ prefix, systemId: s.systemId })));
}

const none: readonly string[] = [];

/** What a table answers for one event type: every receiver, and the one receiver when exactly one concern is. */
interface Match {
  all: readonly string[];
  sole: string | undefined;
}

/** At most this many event types are remembered per table; others are matched against the prefixes each time. */
const maxCachedTypes = 1024;

/**
 * Per routing table (the supervisor's context holds one for its life, and a table is never changed once built):
 * event type → its match, made once. Keyed by the table itself, so a table's answers go when the table goes.
 */
const cache = new WeakMap<readonly Route[], Map<string, Match>>();

function match(routes: readonly Route[], type: string): Match {
  let all: string[] | undefined;
  for (const r of routes) if (type.startsWith(r.prefix)) (all ??= []).push(r.systemId);
  return { all: all ?? none, sole: all?.length === 1 ? all[0] : undefined };
}

function lookup(routes: readonly Route[], type: string): Match {
  let byType = cache.get(routes);
  if (byType === undefined) cache.set(routes, (byType = new Map()));
  let out = byType.get(type);
  if (out === undefined) {
    out = match(routes, type);
    if (byType.size < maxCachedTypes) byType.set(type, out);
  }
  return out;
}

/**
 * The systemIds that receive an event of this type (none for most events). The prefixes are matched once per event
 * type and table: a forwarded event costs one map lookup.
 */
export function routesFor(routes: readonly Route[], type: string): readonly string[] {
  return lookup(routes, type).all;
}

/**
 * The one systemId that receives this event type, when exactly one concern does (the usual case); matched once per
 * event type and table, like routesFor.
 */
export function soleRoute(routes: readonly Route[], type: string): string | undefined {
  return lookup(routes, type).sole;
}

/**
 * Hands an event of type `type` to every receiving concern that is there (`lookup`: the actor system's registry);
 * false when none was, for the caller to count or report the drop.
 */
export function deliverByRoute<T>(
  routes: readonly Route[],
  type: string,
  lookup: (systemId: string) => T | undefined,
  send: (target: T) => void,
): boolean {
  let delivered = false;
  for (const systemId of routesFor(routes, type)) {
    const target = lookup(systemId);
    if (target) {
      send(target);
      delivered = true;
    }
  }
  return delivered;
}
