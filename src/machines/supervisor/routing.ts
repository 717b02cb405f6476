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

const none: readonly string[] = [];

/** What a table answers for one event type: every receiver, and the one receiver when exactly one concern is. */
export interface Match {
  all: readonly string[];
  sole: string | undefined;
}

/** At most this many event types are remembered per table; others are matched against the prefixes each time. */
const maxCachedTypes = 1024;

function match(routes: readonly Route[], type: string): Match {
  let all: string[] | undefined;
  for (const r of routes) if (type.startsWith(r.prefix)) (all ??= []).push(r.systemId);
  return { all: all ?? none, sole: all?.length === 1 ? all[0] : undefined };
}

/**
 * The routes, built once and never changed, with the answer for each event type kept on the table itself (matched
 * against the prefixes the first time a type is asked about): a routed event costs one map lookup, or one comparison
 * when it has the type of the one before. The cache is a pure function of the routes, kept per table, and is not part
 * of the table's JSON (a snapshot shows the routes only).
 */
export class RoutingTable {
  readonly routes: readonly Route[];
  readonly #byType = new Map<string, Match>();
  /** The last type asked about and its answer: a stream of one type (each event asked twice) skips the map. */
  #lastType: string | undefined;
  #last: Match = { all: none, sole: undefined };

  constructor(routes: readonly Route[]) {
    this.routes = routes;
  }

  /** The receivers of an event of this type. */
  match(type: string): Match {
    if (type === this.#lastType) return this.#last;
    let out = this.#byType.get(type);
    if (out === undefined) {
      out = match(this.routes, type);
      if (this.#byType.size < maxCachedTypes) this.#byType.set(type, out);
    }
    this.#lastType = type;
    this.#last = out;
    return out;
  }

  toJSON(): readonly Route[] {
    return this.routes;
  }
}

export function routingTable(specs: readonly ChildSpec[]): RoutingTable {
  return new RoutingTable(specs.flatMap((s) => (s.receives ?? []).map((prefix) => ({ prefix, systemId: s.systemId }))));
}

/** The systemIds that receive an event of this type (none for most events). */
export function routesFor(table: RoutingTable, type: string): readonly string[] {
  return table.match(type).all;
}

/** The one systemId that receives this event type, when exactly one concern does (the usual case). */
export function soleRoute(table: RoutingTable, type: string): string | undefined {
  return table.match(type).sole;
}

/**
 * Hands an event of type `type` to every receiving concern that is there (`lookup`: the actor system's registry);
 * false when none was, for the caller to count or report the drop.
 */
export function deliverByRoute<T>(
  table: RoutingTable,
  type: string,
  lookup: (systemId: string) => T | undefined,
  send: (target: T) => void,
): boolean {
  let delivered = false;
  for (const systemId of table.match(type).all) {
    const target = lookup(systemId);
    if (target) {
      send(target);
      delivered = true;
    }
  }
  return delivered;
}
