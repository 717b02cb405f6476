import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  deliverByRoute,
  routesFor,
  routingTable,
  soleRoute,
  type Route,
} from '../../../src/machines/supervisor/routing.js';
import type { ChildSpec } from '../../../src/machines/supervisor/spec.js';

/** The simple version: every prefix matched on every call, nothing remembered. */
function simpleSole(routes: readonly Route[], type: string): string | undefined {
  const hits = routes.filter((r) => type.startsWith(r.prefix)).map((r) => r.systemId);
  return hits.length === 1 ? hits[0] : undefined;
}

const spec = (id: string, receives: string[]): ChildSpec =>
  ({ id, systemId: id, logic: {} as never, restart: 'permanent', receives }) as ChildSpec;

const prefixes = ['netlink.', 'socket.', 'test.', 'te', 'socket.l', ''];
const types = ['netlink.link', 'socket.line', 'socket.command', 'test.ping', 'child.up', 'tx', 'socket.'];

describe('routing', () => {
  it('soleRoute and routesFor (matched once per table and type) equal the simple match over any sequence of tables and event types', () => {
    fc.assert(
      fc.property(
        // A few tables, each a few specs with prefixes drawn from overlapping ones.
        fc.array(fc.array(fc.subarray(prefixes), { minLength: 0, maxLength: 3 }), { minLength: 1, maxLength: 3 }),
        // The calls: which table, which type (repeats are what the per-table cache serves; several tables catch a cache that ignores the table).
        fc.array(fc.tuple(fc.nat(), fc.constantFrom(...types)), { minLength: 1, maxLength: 40 }),
        (tableSpecs, calls) => {
          const tables = tableSpecs.map((specs) => routingTable(specs.map((r, i) => spec(`c${i}`, r))));
          for (const [t, type] of calls) {
            const table = tables[t % tables.length]!;
            const routes = table.routes;
            const expected = routes.filter((r) => type.startsWith(r.prefix)).map((r) => r.systemId);
            expect(soleRoute(table, type)).toBe(simpleSole(routes, type));
            expect([...routesFor(table, type)]).toEqual(expected);
            const delivered: string[] = [];
            deliverByRoute(
              table,
              type,
              (id) => id,
              (id) => delivered.push(id),
            );
            expect(delivered).toEqual(expected);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it("a table's JSON is its routes: the answers it keeps do not show in a snapshot", () => {
    const table = routingTable([spec('a', ['test.']), spec('b', ['socket.'])]);
    const before = JSON.stringify({ routes: table });
    routesFor(table, 'test.ping');
    soleRoute(table, 'socket.line');
    expect(JSON.stringify({ routes: table })).toBe(before);
    expect(JSON.parse(before)).toEqual({
      routes: [
        { prefix: 'test.', systemId: 'a' },
        { prefix: 'socket.', systemId: 'b' },
      ],
    });
  });
});
