import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as table from '../../../src/machines/portsync/portTable.js';

type Op = { op: 'set'; key: string; value: number } | { op: 'remove'; key: string };

// Few distinct keys so that sets overwrite and removes hit; plus names that are prototype members.
const key = fc.oneof(
  fc.constantFrom('Ethernet0', 'Ethernet4', 'Ethernet8', 'PortChannel1', '__proto__', 'toString', 'constructor', ''),
  fc.string({ maxLength: 4 }),
);
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('set' as const), key, value: fc.integer() }),
  fc.record({ op: fc.constant('remove' as const), key }),
);

function apply(t: table.PortTable<number>, o: Op): table.PortTable<number> {
  return o.op === 'set' ? table.set(t, o.key, o.value) : table.remove(t, o.key);
}

function sameAsModel(t: table.PortTable<number>, model: Map<string, number>): void {
  expect(table.size(t)).toBe(model.size);
  expect(new Map(table.entries(t))).toEqual(model);
  expect(table.keys(t).sort()).toEqual([...model.keys()].sort());
  for (const [k, v] of model) {
    expect(table.has(t, k)).toBe(true);
    expect(table.get(t, k)).toBe(v);
  }
}

describe('portTable', () => {
  it('a random sequence of sets and removes holds what a Map holds', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), fc.array(key, { maxLength: 10 }), (ops, probes) => {
        let t = table.empty<number>();
        const model = new Map<string, number>();
        for (const o of ops) {
          t = apply(t, o);
          if (o.op === 'set') model.set(o.key, o.value);
          else model.delete(o.key);
        }
        sameAsModel(t, model);
        for (const p of probes) {
          expect(table.has(t, p)).toBe(model.has(p));
          expect(table.get(t, p)).toBe(model.get(p));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('an old version is unchanged by updates of a newer one', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), fc.array(op, { maxLength: 40 }), (before, after) => {
        const old = before.reduce(apply, table.empty<number>());
        const frozen = JSON.stringify(old);
        const oldModel = new Map(table.entries(old));
        const newer = after.reduce(apply, old);
        // A branch from the same version does not see the other branch's updates either.
        after.reduce(apply, old);
        expect(JSON.stringify(old)).toBe(frozen);
        sameAsModel(old, oldModel);
        expect(table.size(newer)).toBe(new Map(table.entries(newer)).size);
      }),
      { numRuns: 300 },
    );
  });

  it('fromEntries equals the same sets one by one (a repeated key keeps its first place, takes its last value); keySet holds the keys', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(key, fc.integer()), { maxLength: 80 }), (list) => {
        const built = table.fromEntries(list);
        const byUpdates = list.reduce((t, [k, v]) => table.set(t, k, v), table.empty<number>());
        // Same content and the same bucket order as n updates (set appends a new key to its bucket).
        expect(table.entries(built)).toEqual(table.entries(byUpdates));
        expect(table.size(built)).toBe(table.size(byUpdates));
        expect([...table.keySet(built)].sort()).toEqual(table.keys(byUpdates).sort());
        expect(table.toMap(built)).toEqual(new Map(table.entries(byUpdates)));
        // fromRecord (and fromRecordMapped) of a record equal the entries one by one, in Object.keys order.
        const record: Record<string, number> = {};
        for (const [k, v] of list)
          Object.defineProperty(record, k, { value: v, enumerable: true, writable: true, configurable: true });
        const mapped = table.fromRecordMapped(record, (k, v) => `${k}=${v}`);
        expect(table.entries(mapped)).toEqual(
          table.entries(table.fromEntries(Object.entries(record).map(([k, v]) => [k, `${k}=${v}`] as const))),
        );
        expect(table.entries(table.fromRecord(record))).toEqual(
          table.entries(table.fromEntries(Object.entries(record))),
        );
      }),
      { numRuns: 300 },
    );
  });

  it('fromRecord / toRecord round-trip, toRecord sorts, JSON keeps the content', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ maxLength: 6 }), fc.integer(), { maxKeys: 50 }), (record) => {
        const t = table.fromRecord(record);
        expect(table.toRecord(t)).toEqual(record);
        expect(table.size(t)).toBe(Object.keys(record).length);
        const back = JSON.parse(JSON.stringify(t)) as table.PortTable<number>;
        expect(table.toRecord(back)).toEqual(record);
      }),
      { numRuns: 200 },
    );
    expect(Object.keys(table.toRecord(table.fromKeys(['Ethernet8', 'Ethernet0', 'Ethernet4'])))).toEqual([
      'Ethernet0',
      'Ethernet4',
      'Ethernet8',
    ]);
  });

  it('"__proto__" is an ordinary key, and prototype members are not found', () => {
    const t = table.set(table.empty<number>(), '__proto__', 1);
    expect(table.get(t, '__proto__')).toBe(1);
    expect(table.size(t)).toBe(1);
    expect(table.has(t, 'toString')).toBe(false);
    expect(table.get(t, 'toString')).toBeUndefined();
    expect(Object.getPrototypeOf(table.toRecord(t))).toBe(Object.prototype);
    expect(table.toRecord(t)).toHaveProperty(['__proto__'], 1);
    expect(table.remove(t, '__proto__').size).toBe(0);
  });

  it('an update shares every untouched bucket and returns the same table when nothing changes', () => {
    const names = Array.from({ length: 4096 }, (_, i) => `Ethernet${i * 4}`);
    const t = table.fromKeys(names);
    expect(table.size(t)).toBe(4096);
    const u = table.set(t, 'Ethernet100000', true);
    const changed = u.buckets.filter((b, i) => b !== t.buckets[i]);
    expect(changed).toHaveLength(1);
    expect(Object.keys(changed[0]!).length).toBeLessThan(4096 / 16);
    expect(table.set(t, 'Ethernet0', true)).toBe(t);
    expect(table.remove(t, 'nope')).toBe(t);
    expect(table.size(table.remove(u, 'Ethernet0'))).toBe(4096);
  });

  it('spreads port names over the buckets', () => {
    const counts = new Array<number>(table.BUCKETS).fill(0);
    for (let i = 0; i < 4096; i++) counts[table.bucketOf(`Ethernet${i * 4}`)]! += 1;
    expect(Math.min(...counts)).toBeGreaterThan(20);
    expect(Math.max(...counts)).toBeLessThan(160);
  });
});
