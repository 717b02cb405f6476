// Identifiers as CEP makes them: random v4 ids for subscriptions and events, and the client id of a consumer
// endpoint = a name-based (MD5, version 3) UUID of the EndpointUri in the URL namespace, so one EndpointUri is one
// client across restarts.
import { nodeCrypto } from '../lazyBuiltins.js';

const urlNamespace = Buffer.from('6ba7b8119dad11d180b400c04fd430c8', 'hex');

export const randomId = (): string => nodeCrypto().randomUUID();

export function nameUuid(name: string, namespace: Buffer = urlNamespace): string {
  const h = nodeCrypto().createHash('md5').update(namespace).update(name, 'utf8').digest();
  h[6] = (h[6]! & 0x0f) | 0x30;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}

/** JSON as Go's encoding/json writes it: <, > and & escaped (so a body compares equal to CEP's). */
export function goJson(value: unknown, indent?: number): string {
  return JSON.stringify(value, null, indent).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
