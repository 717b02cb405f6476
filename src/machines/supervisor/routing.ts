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

/** The systemIds that receive an event of this type (none for most events). */
export function routesFor(routes: readonly Route[], type: string): readonly string[] {
  let out: string[] | undefined;
  for (const r of routes) if (type.startsWith(r.prefix)) (out ??= []).push(r.systemId);
  return out ?? none;
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
