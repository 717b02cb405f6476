// The checksum's fast path (ports with exactly the six known fields) must hash the same text as the generic
// canonical JSON walk, and anything else must still go through the walk.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  canonicalJson,
  decodeStateFile,
  encodeStateFile,
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
});
