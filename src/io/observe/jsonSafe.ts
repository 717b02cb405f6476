// Plain JSON out of whatever an actor system holds (contexts, event payloads), bounded in depth and size, so the
// inspector can show it and send it: actor references become {actor: id}, Errors {error: message}, Maps and Sets
// objects and arrays, Buffers base64, bigints strings, cycles "[cycle]", functions dropped. Past `maxNodes` values,
// or `maxDepth` levels, the rest is replaced by a marker that says how much was cut.
import type { JsonValue } from './inspectorStore.js';

export interface JsonSafeOptions {
  /** Nesting levels kept (default 12). */
  maxDepth?: number;
  /** Values visited before the rest is cut (default 20 000). */
  maxNodes?: number;
  /** Strings longer than this are cut, with their length (default 4096). */
  maxString?: number;
  /** Keys whose values are withheld, with a note of what they held (e.g. raw peer input lines). */
  withhold?: ReadonlySet<string>;
  /** The note for withheld values (default: "withheld"). */
  withheldNote?: string;
}

function isActorRef(v: object): v is { sessionId: string; id?: string } {
  return (
    typeof (v as { sessionId?: unknown }).sessionId === 'string' && typeof (v as { send?: unknown }).send === 'function'
  );
}

export function toJsonSafe(value: unknown, opts: JsonSafeOptions = {}): JsonValue {
  const maxDepth = opts.maxDepth ?? 12;
  const maxString = opts.maxString ?? 4096;
  let budget = opts.maxNodes ?? 20_000;
  const seen = new Set<object>();
  const walk = (v: unknown, depth: number): JsonValue | undefined => {
    budget -= 1;
    if (budget < 0) return '[cut: too large]';
    if (v === null) return null;
    switch (typeof v) {
      case 'string':
        return v.length > maxString ? `${v.slice(0, maxString)}… [${v.length} chars]` : v;
      case 'number':
        return Number.isFinite(v) ? v : String(v);
      case 'boolean':
        return v;
      case 'bigint':
        return v.toString();
      case 'undefined':
      case 'function':
      case 'symbol':
        return undefined;
      default:
        break;
    }
    const o = v as object;
    if (isActorRef(o)) return { actor: o.id ?? o.sessionId };
    if (o instanceof Error) return { error: o.message };
    if (Buffer.isBuffer(o)) return { base64: o.toString('base64') };
    if (depth >= maxDepth) return '[cut: too deep]';
    if (seen.has(o)) return '[cycle]';
    seen.add(o);
    try {
      const traced = (o as { toTrace?: unknown }).toTrace;
      if (typeof traced === 'function') return walk((traced as () => unknown).call(o), depth);
      if (o instanceof Map) {
        const out: Record<string, JsonValue> = {};
        for (const [k, x] of o) {
          const w = walk(x, depth + 1);
          if (w !== undefined) out[String(k)] = w;
        }
        return out;
      }
      if (o instanceof Set || Array.isArray(o)) {
        const out: JsonValue[] = [];
        for (const x of o as Iterable<unknown>) {
          if (budget < 0) {
            out.push('[cut: too large]');
            break;
          }
          const w = walk(x, depth + 1);
          out.push(w === undefined ? null : w);
        }
        return out;
      }
      const toJSON = (o as { toJSON?: unknown }).toJSON;
      if (typeof toJSON === 'function') return walk((toJSON as () => unknown).call(o), depth);
      const out: Record<string, JsonValue> = {};
      for (const k of Object.keys(o)) {
        if (budget < 0) {
          out['…'] = '[cut: too large]';
          break;
        }
        const x = (o as Record<string, unknown>)[k];
        if (opts.withhold?.has(k) && x !== undefined) {
          out[k] = { withheld: describeWithheld(x), note: opts.withheldNote ?? 'withheld' };
          continue;
        }
        const w = walk(x, depth + 1);
        if (w !== undefined) out[k] = w;
      }
      return out;
    } finally {
      seen.delete(o);
    }
  };
  return walk(value, 0) ?? null;
}

function describeWithheld(x: unknown): string {
  if (Array.isArray(x)) return `${x.length} item${x.length === 1 ? '' : 's'}`;
  if (typeof x === 'string') return `${x.length} chars`;
  return typeof x;
}
