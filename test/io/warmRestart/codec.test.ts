// The state file codec: round trip, canonical checksum, and a typed error for every kind of bad input.
import { describe, expect, it } from 'vitest';
import {
  canonicalJson,
  decodeStateFile,
  stateFileVersion,
  type PersistedPort,
} from '../../../src/io/warmRestart/stateFileCodec.js';
import { encodeStateFile } from '../../../src/io/warmRestart/stateFileEncoder.js';

const ports: Record<string, PersistedPort> = {
  Ethernet0: { name: 'Ethernet0', adminState: 'up', operState: 'down', flags: 0x1003, mtu: 9100, ifindex: 5 },
  Ethernet4: { name: 'Ethernet4', adminState: 'down', operState: 'down', flags: 0x1002, mtu: 1500, ifindex: 6 },
};

function reason(text: string): string | undefined {
  const r = decodeStateFile(text);
  return r.ok ? undefined : r.error.reason;
}

describe('state file codec', () => {
  it('round-trips and writes the documented fields', () => {
    const text = encodeStateFile(ports, 1_700_000_000_000);
    const raw = JSON.parse(text) as Record<string, unknown>;
    expect(Object.keys(raw).sort()).toEqual(['checksum', 'ports', 'savedAt', 'version']);
    expect(raw.version).toBe(stateFileVersion);
    expect(raw.checksum).toMatch(/^[0-9a-f]{64}$/);
    expect(decodeStateFile(text)).toEqual({ ok: true, value: { version: 1, savedAt: 1_700_000_000_000, ports } });
  });

  it('the checksum does not depend on key order', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { y: 1, x: 2 }], c: 'x' } })).toBe(
      '{"a":{"c":"x","d":[2,{"x":2,"y":1}]},"b":1}',
    );
    const text = encodeStateFile(ports, 1);
    const raw = JSON.parse(text) as { ports: Record<string, Record<string, unknown>> };
    const reordered = { ...raw, ports: { Ethernet4: raw.ports.Ethernet4, Ethernet0: raw.ports.Ethernet0 } };
    expect(decodeStateFile(JSON.stringify(reordered)).ok).toBe(true);
  });

  it('detects truncation as a parse error', () => {
    const text = encodeStateFile(ports, 1);
    expect(reason(text.slice(0, text.length / 2))).toBe('parse');
    expect(reason('')).toBe('parse');
  });

  it('detects an edited value as a checksum error', () => {
    const text = encodeStateFile(ports, 1).replace('"mtu":9100', '"mtu":9000');
    expect(reason(text)).toBe('checksum');
  });

  it('detects an unknown extra field as a checksum error', () => {
    const raw = JSON.parse(encodeStateFile(ports, 1)) as { ports: Record<string, Record<string, unknown>> };
    raw.ports.Ethernet0!.speed = 100000;
    expect(reason(JSON.stringify(raw))).toBe('checksum');
  });

  it('reports a future version with the version found', () => {
    const r = decodeStateFile(JSON.stringify({ version: 2, whatever: true }));
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.reason).toBe('version');
      expect(r.error.foundVersion).toBe(2);
      expect(r.error.isFutureVersion).toBe(true);
    }
    const old = decodeStateFile(JSON.stringify({ version: 0 }));
    expect(!old.ok && old.error.reason === 'version' && !old.error.isFutureVersion).toBe(true);
  });

  it('rejects bad shapes with a clear message', () => {
    const base = JSON.parse(encodeStateFile(ports, 1)) as Record<string, unknown>;
    expect(reason('[]')).toBe('shape');
    expect(reason(JSON.stringify({ ...base, version: 'one' }))).toBe('shape');
    expect(reason(JSON.stringify({ ...base, savedAt: -1 }))).toBe('shape');
    expect(reason(JSON.stringify({ ...base, ports: [] }))).toBe('shape');
    const wrongName = structuredClone(base) as { ports: Record<string, Record<string, unknown>> };
    wrongName.ports.Ethernet0!.name = 'Ethernet8';
    const r = decodeStateFile(JSON.stringify(wrongName));
    expect(!r.ok && r.error.reason === 'shape' && r.error.message.includes('Ethernet0')).toBe(true);
    const badMtu = structuredClone(base) as { ports: Record<string, Record<string, unknown>> };
    badMtu.ports.Ethernet4!.mtu = '1500';
    expect(reason(JSON.stringify(badMtu))).toBe('shape');
  });
});
