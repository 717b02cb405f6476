// The checksum's fast path (ports with exactly the six known fields) must hash the same text as the generic
// canonical JSON walk, and anything else must still go through the walk; the encoder must write the same bytes as
// the simple encoder (generic walk + JSON.stringify) for any input, and decode to the same content.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  canonicalJson,
  decodeStateFile,
  encodeStateFileSimple,
  stateFileChecksum,
} from '../../../src/io/warmRestart/stateFileCodec.js';
import type { PersistedPort } from '../../../src/io/warmRestart/stateFileCodec.js';
import { encodeStateFile, StateFileEncoder } from '../../../src/io/warmRestart/stateFileEncoder.js';

const generic = (ports: unknown, savedAt: number, version: number): string =>
  createHash('sha256').update(canonicalJson({ ports, savedAt, version })).digest('hex');

const port = fc.record({
  name: fc.string(),
  adminState: fc.constantFrom('up' as const, 'down' as const),
  operState: fc.constantFrom('up' as const, 'down' as const),
  flags: fc.nat(),
  mtu: fc.nat(),
  ifindex: fc.nat(),
});

// Names that exercise the fast path's guards: escapes, surrogates, array-index-like and prototype keys.
const name = fc.oneof(
  fc.string(),
  fc.string({ unit: 'grapheme' }),
  fc.constantFrom('0', '10', '9', '01', '__proto__', 'constructor', 'a"b', 'a\\b', '\u0001', '\ud800', 'Ethernet0'),
  fc.nat().map((n) => `Ethernet${n}`),
);
const value = fc.oneof(
  fc.nat(),
  fc.integer(),
  fc.double(),
  fc.constantFrom('up', 'down', Number.NaN, Number.POSITIVE_INFINITY, -0, null, true),
  fc.string(),
);
const anyPort = fc.oneof(
  { weight: 4, arbitrary: port },
  // Any field order, any primitive values, sometimes an extra, missing or nested field.
  fc
    .tuple(
      fc.shuffledSubarray(['name', 'adminState', 'operState', 'flags', 'mtu', 'ifindex', 'extra'], {
        minLength: 5,
      }),
      fc.array(value, { minLength: 7, maxLength: 7 }),
      fc.boolean(),
    )
    .map(([keys, values, nested]) => {
      const out: Record<string, unknown> = {};
      keys.forEach((k, i) => (out[k] = nested && i === 0 ? { z: values[i], a: 1 } : values[i]));
      return out;
    }),
);

describe('state file checksum', () => {
  it('hashes the same canonical text as the generic walk, for any port names and values', () => {
    fc.assert(
      fc.property(fc.array(port, { maxLength: 20 }), fc.nat(), (list, savedAt) => {
        const ports: Record<string, PersistedPort> = {};
        for (const p of list) ports[p.name] = p;
        expect(stateFileChecksum({ version: 1, savedAt, ports })).toBe(generic(ports, savedAt, 1));
      }),
      { numRuns: 200 },
    );
  });

  it('falls back to the generic walk for ports with extra or nested fields, so tampering is still detected', () => {
    const ports = {
      Ethernet0: { name: 'Ethernet0', adminState: 'up', operState: 'up', flags: 1, mtu: 9100, ifindex: 3 },
    };
    const text = encodeStateFile(ports as Record<string, PersistedPort>, 1000);
    const tampered = JSON.parse(text) as { ports: Record<string, Record<string, unknown>> };
    tampered.ports['Ethernet0']!['extra'] = { z: 1, a: 2 };
    const result = decodeStateFile(JSON.stringify(tampered));
    expect(result.ok).toBe(false);
    expect(result.ok ? '' : result.error.reason).toBe('checksum');
    // A file whose checksum was computed by the generic walk over the extra field verifies: the fallback was taken.
    const rehashed = { ...tampered, checksum: generic(tampered.ports, 1000, 1) };
    const back = decodeStateFile(JSON.stringify(rehashed));
    expect(back.ok && back.value.ports).toEqual(ports);
  });

  it('encodes the same bytes as the simple encoder, and decodes the same, for any ports', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(name, anyPort), { maxLength: 30 }), fc.nat(), (list, savedAt) => {
        const ports: Record<string, PersistedPort> = {};
        for (const [n, p] of list) Object.defineProperty(ports, n, { value: p, enumerable: true, writable: true });
        const fast = encodeStateFile(ports, savedAt);
        expect(fast).toBe(encodeStateFileSimple(ports, savedAt));
        expect(decodeStateFile(fast)).toEqual(decodeStateFile(encodeStateFileSimple(ports, savedAt)));
      }),
      { numRuns: 500 },
    );
  });

  it('encodes 4,096 well-formed ports the same as the simple encoder, in any insertion order', () => {
    fc.assert(
      fc.property(fc.array(port, { minLength: 1, maxLength: 4096 }), fc.nat(), (list, savedAt) => {
        const ports: Record<string, PersistedPort> = {};
        for (const p of list) Object.defineProperty(ports, p.name, { value: p, enumerable: true, writable: true });
        const text = encodeStateFile(ports, savedAt);
        expect(text).toBe(encodeStateFileSimple(ports, savedAt));
        const back = decodeStateFile(text);
        expect(back.ok && Object.keys(back.value.ports).length).toBe(Object.keys(ports).length);
      }),
      { numRuns: 10 },
    );
  });

  it('stays equal to the simple encoder over a sequence of saves that change, reorder, add and drop ports', () => {
    const step = fc.oneof(
      fc.record({ kind: fc.constant('set' as const), i: fc.nat(7), p: port }),
      fc.record({ kind: fc.constant('mutate' as const), i: fc.nat(7), mtu: fc.oneof(fc.nat(), fc.constant(-0)) }),
      // delete + re-add: same values, another key order (then the port is no longer in file order).
      fc.record({ kind: fc.constant('reorder' as const), i: fc.nat(7) }),
      fc.record({ kind: fc.constant('drop' as const), i: fc.nat(7) }),
    );
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 25 }), (steps) => {
        const ports: Record<string, PersistedPort> = {};
        for (const st of steps) {
          const name = `Ethernet${st.i * 4}`;
          if (st.kind === 'set') ports[name] = { ...st.p, name };
          else if (st.kind === 'drop') delete ports[name];
          else if (ports[name]) {
            // In place, on the very object the previous save encoded (no encoder may keep stale text).
            const target = ports[name] as unknown as Record<string, unknown>;
            if (st.kind === 'mutate') target['mtu'] = st.mtu;
            else {
              const v = target['adminState'];
              delete target['adminState'];
              target['adminState'] = v;
            }
          }
          expect(encodeStateFile(ports, 1)).toBe(encodeStateFileSimple(ports, 1));
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('StateFileEncoder over a sequence of saves', () => {
  const names = ['Ethernet0', 'Ethernet4', 'Ethernet12', 'Ethernet100', '10', 'a"b', 'é', '\ud83d\ude00x', '__proto__'];
  const fieldNames = ['name', 'adminState', 'operState', 'flags', 'mtu', 'ifindex'] as const;
  const step = fc.oneof(
    // A new object for a port (what the stateFile machine's table holds after an upsert).
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('set' as const), n: fc.nat(names.length - 1), p: anyPort }) },
    // In place, on the very object the previous save encoded: a field's value, a new field, a dropped field, or the
    // same values in another key order.
    fc.record({
      kind: fc.constant('field' as const),
      n: fc.nat(names.length - 1),
      f: fc.constantFrom(...fieldNames),
      v: fc.oneof(value, fc.constant({ nested: 1 })),
    }),
    fc.record({ kind: fc.constant('addField' as const), n: fc.nat(names.length - 1), v: value }),
    fc.record({
      kind: fc.constant('dropField' as const),
      n: fc.nat(names.length - 1),
      f: fc.constantFrom(...fieldNames),
    }),
    fc.record({ kind: fc.constant('reorder' as const), n: fc.nat(names.length - 1) }),
    fc.record({ kind: fc.constant('drop' as const), n: fc.nat(names.length - 1) }),
    fc.record({ kind: fc.constant('undefined' as const), n: fc.nat(names.length - 1) }),
    // A new record holding the same port objects, its keys inserted in another order (as a new toRecord gives).
    fc.record({ kind: fc.constant('rebuild' as const), seed: fc.nat() }),
    fc.record({ kind: fc.constant('savedAt' as const), at: fc.nat() }),
  );

  it('writes the bytes of the simple encoder after any changes, in place or not, with or without done()', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(step, fc.boolean()), { minLength: 1, maxLength: 40 }), (steps) => {
        let ports: Record<string, PersistedPort> = {};
        const define = (rec: Record<string, unknown>, n: string, v: unknown): void => {
          Object.defineProperty(rec, n, { value: v, enumerable: true, writable: true, configurable: true });
        };
        const encoder = new StateFileEncoder();
        let savedAt = 1;
        for (const [st, handBack] of steps) {
          const name = 'n' in st ? names[st.n]! : '';
          // Own ports only: ports['__proto__'] without one is Object.prototype, which the steps must not change.
          const target = (Object.hasOwn(ports, name) ? (ports as Record<string, unknown>)[name] : undefined) as
            Record<string, unknown> | undefined;
          const isObject = typeof target === 'object' && target !== null;
          // A copy: the steps below change ports in place, and fast-check may run the same values again.
          if (st.kind === 'set') define(ports, name, structuredClone(st.p));
          else if (st.kind === 'drop') delete (ports as Record<string, unknown>)[name];
          else if (st.kind === 'undefined') define(ports, name, undefined);
          else if (st.kind === 'savedAt') savedAt = st.at;
          else if (st.kind === 'rebuild') {
            const keys = Object.keys(ports);
            const order = keys.map((k, i) => [k, (i * 7919 + st.seed) % 101] as const).sort((x, y) => x[1] - y[1]);
            const next: Record<string, unknown> = {};
            for (const [k] of order) define(next, k, (ports as Record<string, unknown>)[k]);
            ports = next as Record<string, PersistedPort>;
          } else if (isObject && st.kind === 'field') target[st.f] = st.v;
          else if (isObject && st.kind === 'addField') target['extra'] = st.v;
          else if (isObject && st.kind === 'dropField') delete target[st.f];
          else if (isObject && st.kind === 'reorder') {
            const first = Object.keys(target)[0];
            if (first !== undefined) {
              const v = target[first];
              delete target[first];
              target[first] = v;
            }
          }
          const bytes = encoder.encode(ports, savedAt);
          expect(bytes.toString('utf8')).toBe(encodeStateFileSimple(ports, savedAt));
          expect(bytes.equals(Buffer.from(encodeStateFileSimple(ports, savedAt)))).toBe(true);
          if (handBack) encoder.done(bytes);
        }
      }),
      { numRuns: 400 },
    );
  });

  it('re-encodes only the changed ports and copies the rest; a cold encode writes the same bytes', () => {
    const ports: Record<string, PersistedPort> = {};
    for (let i = 0; i < 1000; i++) {
      const name = `Ethernet${i * 4}`;
      ports[name] = { name, adminState: 'up', operState: 'up', flags: 0x11043, mtu: 9100, ifindex: 100 + i };
    }
    const encoder = new StateFileEncoder();
    encoder.encode(ports, 1);
    expect(encoder.lastReused).toBe(0);
    for (let round = 0; round < 5; round++) {
      // One flap: a new object for one port (its text gets longer or shorter: 'up' ↔ 'down').
      const name = `Ethernet${round * 404}`;
      const p = ports[name]!;
      ports[name] = { ...p, operState: p.operState === 'up' ? 'down' : 'up' };
      const bytes = encoder.encode(ports, 2 + round);
      expect(encoder.lastReused).toBe(999);
      expect(bytes.toString('utf8')).toBe(encodeStateFileSimple(ports, 2 + round));
      expect(bytes.equals(new StateFileEncoder().encode(ports, 2 + round))).toBe(true);
      encoder.done(bytes);
    }
    // In place: the same object with another value is re-encoded, not copied.
    ports['Ethernet8']!.mtu = 1500;
    const bytes = encoder.encode(ports, 9);
    expect(encoder.lastReused).toBe(999);
    expect(bytes.toString('utf8')).toBe(encodeStateFileSimple(ports, 9));
    expect(decodeStateFile(bytes.toString('utf8')).ok).toBe(true);
  });

  it('never hands out memory it did not allocate, nor the previous output it copies from', () => {
    const ports: Record<string, PersistedPort> = {
      Ethernet0: { name: 'Ethernet0', adminState: 'up', operState: 'up', flags: 1, mtu: 9100, ifindex: 3 },
    };
    const encoder = new StateFileEncoder();
    const foreign = Buffer.alloc(4096, 0x41);
    encoder.done(foreign);
    const a = encoder.encode(ports, 1);
    expect(a.buffer).not.toBe(foreign.buffer);
    encoder.done(a);
    const b = encoder.encode(ports, 2);
    expect(b.buffer).not.toBe(a.buffer);
    expect(a.toString('utf8')).toBe(encodeStateFileSimple(ports, 1));
    encoder.done(b);
    const c = encoder.encode(ports, 3);
    expect(c.buffer).toBe(a.buffer);
    expect(c.toString('utf8')).toBe(encodeStateFileSimple(ports, 3));
    expect(foreign.every((x) => x === 0x41)).toBe(true);
  });
});
