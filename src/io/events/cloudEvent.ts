// The CloudEvents 1.0 envelope as cloud-event-proxy's v2 API sends it: specversion, id, source (the short resource
// path), type, time (UTC, RFC 3339 with nanoseconds), data {version "1.0", values}. No datacontenttype, dataschema or
// subject. Key order is fixed: consumers compare bodies byte for byte in tests.
import { nodeCrypto } from '../lazyBuiltins.js';

export interface CloudEventValue {
  ResourceAddress: string;
  data_type: string;
  value_type: string;
  value: string;
}

export interface CloudEventParts {
  id: string;
  source: string;
  type: string;
  time: string;
  values: readonly CloudEventValue[];
}

export const newEventId = (): string => nodeCrypto().randomUUID();

let lastNs = 0n;
/** Wall-clock time as Go's RFC3339Nano formats it (UTC, trailing zeros of the fraction trimmed), never repeating. */
export function rfc3339Nano(nowMs: number = Date.now()): string {
  let ns = BigInt(Math.floor(nowMs)) * 1_000_000n + (process.hrtime.bigint() % 1_000_000n);
  if (ns <= lastNs) ns = lastNs + 1n;
  lastNs = ns;
  const ms = Number(ns / 1_000_000n);
  const frac = (ns % 1_000_000_000n).toString().padStart(9, '0').replace(/0+$/, '');
  const base = new Date(ms).toISOString().slice(0, 19);
  return frac === '' ? `${base}Z` : `${base}.${frac}Z`;
}

export function encodeCloudEvent(e: CloudEventParts): string {
  return JSON.stringify({
    specversion: '1.0',
    id: e.id,
    source: e.source,
    type: e.type,
    time: e.time,
    data: {
      version: '1.0',
      values: e.values.map((v) => ({
        ResourceAddress: v.ResourceAddress,
        data_type: v.data_type,
        value_type: v.value_type,
        value: v.value,
      })),
    },
  });
}
