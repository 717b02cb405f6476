// The checksum's fast path (ports with exactly the six known fields) must hash the same text as the generic
// canonical JSON walk, and anything else must still go through the walk; the encoder must write the same bytes as
// the simple encoder (generic walk + JSON.stringify) for any input, and decode to the same content.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  canonicalJson,
  decodeStateFile,
  encodeStateFile,
  encodeStateFileSimple,
  stateFileChecksum,
} from '../../../src/io/warmRestart/stateFileCodec.js';
import type { PersistedPort } from '../../../src/io/warmRestart/stateFileCodec.js';

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
