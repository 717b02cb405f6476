// What the kill -9 test saves for each generation, shared by the saving child and the checking test.
import { createHash } from 'node:crypto';
import { canonicalJson, type PersistedPort } from '../../../src/io/warmRestart/stateFileCodec.js';

/** The ports saved for generation `gen`: sizes vary so that the kill lands in writes of different lengths. */
export function portsFor(gen: number): Record<string, PersistedPort> {
  const out: Record<string, PersistedPort> = {};
  const n = 20 + ((gen * 37) % 400);
  for (let i = 0; i < n; i++) {
    const name = `Ethernet${i * 4}`;
    out[name] = {
      name,
      adminState: (gen + i) % 2 ? 'up' : 'down',
      operState: (gen + i) % 3 ? 'up' : 'down',
      flags: 0x1003 + (gen % 7),
      mtu: 1500 + ((gen + i) % 8000),
      ifindex: 2 + i,
    };
  }
  return out;
}

export function digest(ports: Record<string, PersistedPort>): string {
  return createHash('sha256').update(canonicalJson(ports)).digest('hex');
}
