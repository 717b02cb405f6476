// portTable: a persistent (immutable, structurally shared) string-keyed table for machine context.
//
// Machine context must not be mutated in place (xstate/graph model tests explore several branches from one snapshot,
// traces replay from recorded snapshots), but copying a whole Record per netlink event made portsync quadratic in the
// number of ports (4,096 ports: ~20 s for one dump). Here a table is BUCKETS plain objects chosen by an FNV-1a hash of
// the key; an update copies the bucket array (BUCKETS refs) and one bucket (~n/BUCKETS entries), so for n = 4,096 an
// update copies ~128 references instead of 4,096. Old versions stay valid and unchanged. A table is plain JSON
// (an object with a size and an array of flat [key, value, …] arrays), so snapshots stay serialisable.
//
// Use it as a namespace: `import * as table from './portTable.js'`, then table.set(t, k, v), table.get(t, k) ...
// Keys and entries come in bucket order (deterministic for a given history, not sorted); toRecord sorts its keys.

/**
 * One bucket: a flat array `[key0, value0, key1, value1, …]`, frozen by convention, never mutated after it is built.
 * Arrays, not objects: a copy is one slice, and no object goes through `delete` into V8's dictionary mode or mints a
 * hidden class per key set (with objects, removing 4,096 keys one by one took ~1.4 s; with arrays ~20 ms).
 */
export type PortTableBucket<V> = readonly (string | V)[];

export interface PortTable<V> {
  /** Number of keys (kept as a field: O(1)). */
  readonly size: number;
  /** Exactly BUCKETS buckets. */
  readonly buckets: readonly PortTableBucket<V>[];
}

/** Number of buckets: 64 keeps an update near √n copies for the n = 4,096 ports of a large switch. */
export const BUCKETS = 64;
const BUCKET_BITS = 6;

const emptyBucket: PortTableBucket<never> = Object.freeze([]);
const emptyBuckets: readonly PortTableBucket<never>[] = Object.freeze(
  new Array<PortTableBucket<never>>(BUCKETS).fill(emptyBucket),
);
const emptyTable: PortTable<never> = Object.freeze({ size: 0, buckets: emptyBuckets });

/** The bucket of a key: FNV-1a (32 bit) over its UTF-16 code units, then mixed. */
export function bucketOf(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  // FNV's low bits depend only on the keys' low bits: mix (murmur3's finaliser step) and take the top bits.
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h >>> (32 - BUCKET_BITS);
}

/** The index of key in a bucket (even), or -1. */
function indexIn<V>(bucket: PortTableBucket<V>, key: string): number {
  for (let i = 0; i < bucket.length; i += 2) if (bucket[i] === key) return i;
  return -1;
}

/** obj[key] = value, except that "__proto__" becomes an own key (assignment would change the prototype). */
function put<V>(obj: Record<string, V>, key: string, value: V): void {
  if (key === '__proto__')
    Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  else obj[key] = value;
}

/** The empty table (shared). */
export function empty<V>(): PortTable<V> {
  return emptyTable;
}

export function has<V>(t: PortTable<V>, key: string): boolean {
  return indexIn(t.buckets[bucketOf(key)]!, key) >= 0;
}

export function get<V>(t: PortTable<V>, key: string): V | undefined {
  const bucket = t.buckets[bucketOf(key)]!;
  const i = indexIn(bucket, key);
  return i >= 0 ? (bucket[i + 1] as V) : undefined;
}

export function size<V>(t: PortTable<V>): number {
  return t.size;
}

/** A table with key set to value; the same table when it already held that very value. */
export function set<V>(t: PortTable<V>, key: string, value: V): PortTable<V> {
  const b = bucketOf(key);
  const bucket = t.buckets[b]!;
  const i = indexIn(bucket, key);
  if (i >= 0 && bucket[i + 1] === value) return t;
  const next = bucket.slice();
  if (i >= 0) next[i + 1] = value;
  else next.push(key, value);
  const buckets = t.buckets.slice();
  buckets[b] = next;
  return { size: i >= 0 ? t.size : t.size + 1, buckets };
}

/** A table without key; the same table when it did not hold it. */
export function remove<V>(t: PortTable<V>, key: string): PortTable<V> {
  const b = bucketOf(key);
  const bucket = t.buckets[b]!;
  const i = indexIn(bucket, key);
  if (i < 0) return t;
  const next = bucket.slice();
  next.splice(i, 2);
  const buckets = t.buckets.slice();
  buckets[b] = next;
  return { size: t.size - 1, buckets };
}

export function keys<V>(t: PortTable<V>): string[] {
  const out: string[] = [];
  for (const bucket of t.buckets) for (let i = 0; i < bucket.length; i += 2) out.push(bucket[i] as string);
  return out;
}

export function entries<V>(t: PortTable<V>): [string, V][] {
  const out: [string, V][] = [];
  for (const bucket of t.buckets)
    for (let i = 0; i < bucket.length; i += 2) out.push([bucket[i] as string, bucket[i + 1] as V]);
  return out;
}

/**
 * Built in one pass (O(n)), not by n updates. A repeated key keeps its first place and takes its last value; the
 * repeats are found with a Map (a scan of the bucket per key made this O(n²/BUCKETS): 16,384 ports ≈ 2M compares).
 */
export function fromEntries<V>(list: Iterable<readonly [string, V]>): PortTable<V> {
  const unique = new Map<string, V>();
  for (const [key, value] of list) unique.set(key, value);
  if (unique.size === 0) return emptyTable;
  const buckets: (string | V)[][] = Array.from({ length: BUCKETS }, () => []);
  for (const [key, value] of unique) buckets[bucketOf(key)]!.push(key, value);
  return { size: unique.size, buckets };
}

/** The keys as a Set, for many membership tests in one pass (has() scans a bucket: ~n/BUCKETS compares each). */
export function keySet<V>(t: PortTable<V>): Set<string> {
  const out = new Set<string>();
  for (const bucket of t.buckets) for (let i = 0; i < bucket.length; i += 2) out.add(bucket[i] as string);
  return out;
}

export function fromRecord<V>(record: Readonly<Record<string, V>>): PortTable<V> {
  return fromRecordMapped(record, (_, value) => value);
}

/**
 * fromRecord with every value passed through `f` (key, value): one pass over the record's keys (unique already), no
 * entry arrays and no repeat check. The order is fromRecord's (Object.keys).
 */
export function fromRecordMapped<V, W>(
  record: Readonly<Record<string, V>>,
  f: (key: string, value: V) => W,
): PortTable<W> {
  const names = Object.keys(record);
  if (names.length === 0) return emptyTable;
  const buckets: (string | W)[][] = Array.from({ length: BUCKETS }, () => []);
  for (const key of names) buckets[bucketOf(key)]!.push(key, f(key, record[key]!));
  return { size: names.length, buckets };
}

/** The content as a Map, for many lookups in one pass (get() scans a bucket: ~n/BUCKETS compares each). */
export function toMap<V>(t: PortTable<V>): Map<string, V> {
  const out = new Map<string, V>();
  for (const bucket of t.buckets)
    for (let i = 0; i < bucket.length; i += 2) out.set(bucket[i] as string, bucket[i + 1] as V);
  return out;
}

/** A set of names as a table of `true`. */
export function fromKeys(names: Iterable<string>): PortTable<true> {
  const list: [string, true][] = [];
  for (const name of names) list.push([name, true]);
  return fromEntries(list);
}

/**
 * A plain record with the keys sorted (for a save, a notification, a comparison): O(n log n), once per use.
 * (JavaScript still lists integer-like keys first, in numeric order.)
 */
export function toRecord<V>(t: PortTable<V>): Record<string, V> {
  const out: Record<string, V> = {};
  for (const [key, value] of entries(t).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    put(out, key, value);
  }
  return out;
}
