import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { routesFor, routingTable, soleRoute, type Route } from '../../../src/machines/supervisor/routing.js';
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
            const routes = tables[t % tables.length]!;
            expect(soleRoute(routes, type)).toBe(simpleSole(routes, type));
            expect([...routesFor(routes, type)]).toEqual(
              routes.filter((r) => type.startsWith(r.prefix)).map((r) => r.systemId),
            );
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
