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

/** At most this many event types are remembered per table; others are matched against the prefixes each time. */
const maxCachedTypes = 1024;

/** Per routing table (the supervisor's context holds one for its life): event type → receivers, matched once. */
const cache = new WeakMap<readonly Route[], Map<string, readonly string[]>>();

function match(routes: readonly Route[], type: string): readonly string[] {
  let out: string[] | undefined;
  for (const r of routes) if (type.startsWith(r.prefix)) (out ??= []).push(r.systemId);
  return out ?? none;
}

/**
 * The systemIds that receive an event of this type (none for most events). The prefixes are matched once per event
 * type and table: a forwarded event costs one map lookup.
 */
export function routesFor(routes: readonly Route[], type: string): readonly string[] {
  let byType = cache.get(routes);
  if (byType === undefined) cache.set(routes, (byType = new Map()));
  let out = byType.get(type);
  if (out === undefined) {
    out = match(routes, type);
    if (byType.size < maxCachedTypes) byType.set(type, out);
  }
  return out;
}

/** The last answer of soleRoute: the supervisor asks twice per routed event (its guard, then its send's target). */
let lastRoutes: readonly Route[] | undefined;
let lastType: string | undefined;
let lastSole: string | undefined;

/**
 * The one systemId that receives this event type, when exactly one concern does (the usual case). The last answer
 * is kept (a stream of events of one type, each asked about twice, costs two comparisons instead of two lookups);
 * it is a function of (routes, type) only: a routing table is never changed once built.
 */
export function soleRoute(routes: readonly Route[], type: string): string | undefined {
  if (routes === lastRoutes && type === lastType) return lastSole;
  const r = routesFor(routes, type);
  const sole = r.length === 1 ? r[0] : undefined;
  lastRoutes = routes;
  lastType = type;
  lastSole = sole;
  return sole;
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
