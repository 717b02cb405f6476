// The trace format (JSONL): a header line, then one record per event that entered the actor system from outside.
//   {"format":"syncvisor-trace","version":1,"configHash":"…","machines":[{"systemId":"ptp","machine":"ptpSidecar"},…]}
//   {"t":12.5,"to":"portsync","event":{"type":"netlink.link",…}}
// t = monotonic milliseconds since the daemon started; to = the systemId of the receiving actor.
import { nodeCrypto } from '../lazyBuiltins.js';

export const traceFormat = 'syncvisor-trace';
export const traceVersion = 1;

/** A supervised child as the replay needs it: which machine, its input and its supervision settings. */
export interface TraceMachine {
  systemId: string;
  /** The machine id (`portsync`, `ptpSidecar`, …), or the logic kind of an I/O source (`callback`). */
  machine: string;
  input?: unknown;
  receives?: string[];
  drain?: boolean;
  reportsReady?: boolean;
  shutdownOrder?: number;
}

export interface TraceHeader {
  format: typeof traceFormat;
  version: number;
  configHash: string;
  machines: TraceMachine[];
  /**
   * machine id → version (a hash of the machine's structure) of every machine the recording ran. Absent in traces
   * recorded before versions were written; a replay then cannot tell whether a machine changed.
   */
  machineVersions?: Record<string, string>;
  /** The supervisor's intensity, backoff and drain settings. */
  supervisor: {
    maxRestarts: number;
    periodMs: number;
    backoff: { initialMs: number; maxMs: number; factor: number };
    shutdownTimeoutMs: number;
  };
}

export interface TraceRecord {
  t: number;
  to: string;
  event: { type: string; [k: string]: unknown };
}

export class TraceError extends Error {
  override name = 'TraceError';
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(`trace line ${line}: ${message}`);
  }
}

export function hashConfig(config: unknown): string {
  return nodeCrypto().createHash('sha256').update(JSON.stringify(config)).digest('hex').slice(0, 16);
}

/** Objects nested deeper than this are recorded as "[depth limit]" (a 3,000-deep ConfigMap value must not crash). */
export const maxTraceDepth = 64;

interface Pending {
  value: unknown;
  holder: Record<string | number, unknown>;
  key: string | number;
  depth: number;
}

/** holder[key] = value, except that a key "__proto__" (a CONFIG_DB field may be named so) becomes an own key. */
function put(holder: Record<string | number, unknown>, key: string | number, value: unknown): void {
  if (key === '__proto__')
    Object.defineProperty(holder, key, { value, enumerable: true, writable: true, configurable: true });
  else holder[key] = value;
}

/**
 * What an event becomes in a trace, built iteratively (no recursion, so no stack overflow at any depth): toTrace()
 * wins over toJSON(); Errors become {error}; functions and symbols are dropped (null in arrays); bigints become
 * strings; Buffers become {base64}; an object seen before becomes "[cycle]"; deeper than maxTraceDepth, "[depth limit]".
 */
export function toTraceValue(value: unknown): unknown {
  const seen = new WeakSet<object>();
  const root: Record<string, unknown> = {};
  const stack: Pending[] = [{ value, holder: root, key: 'v', depth: 0 }];
  while (stack.length > 0) {
    const { value: original, holder, key, depth } = stack.pop()!;
    const inArray = Array.isArray(holder);
    let v = original;
    if (typeof v === 'object' && v !== null) {
      if (typeof (v as { toTrace?: unknown }).toTrace === 'function') v = (v as { toTrace: () => unknown }).toTrace();
      else if (!Buffer.isBuffer(v) && typeof (v as { toJSON?: unknown }).toJSON === 'function')
        v = (v as { toJSON: (k: string) => unknown }).toJSON(String(key));
    }
    if (v === undefined || typeof v === 'function' || typeof v === 'symbol') {
      if (inArray) put(holder, key, null);
      continue;
    }
    if (typeof v === 'bigint') {
      put(holder, key, v.toString());
      continue;
    }
    if (typeof v !== 'object' || v === null) {
      put(holder, key, v);
      continue;
    }
    if (v instanceof Error) {
      put(holder, key, { error: v.message });
      continue;
    }
    if (Buffer.isBuffer(v)) {
      put(holder, key, { base64: v.toString('base64') });
      continue;
    }
    if ((v as { type?: unknown }).type === 'Buffer' && Array.isArray((v as { data?: unknown }).data)) {
      put(holder, key, { base64: Buffer.from((v as { data: number[] }).data).toString('base64') });
      continue;
    }
    if (seen.has(v)) {
      put(holder, key, '[cycle]');
      continue;
    }
    seen.add(v);
    if (depth >= maxTraceDepth) {
      put(holder, key, '[depth limit]');
      continue;
    }
    if (Array.isArray(v)) {
      const out: unknown[] = new Array<unknown>(v.length).fill(null);
      put(holder, key, out);
      for (let i = v.length - 1; i >= 0; i--)
        stack.push({ value: v[i], holder: out as unknown as Record<number, unknown>, key: i, depth: depth + 1 });
    } else {
      const out: Record<string, unknown> = {};
      put(holder, key, out);
      const keys = Object.keys(v);
      for (let i = keys.length - 1; i >= 0; i--)
        stack.push({ value: (v as Record<string, unknown>)[keys[i]!], holder: out, key: keys[i]!, depth: depth + 1 });
    }
  }
  return root['v'];
}

/** JSON that survives what events carry (see toTraceValue); never recurses, so any depth is safe. */
export function toTraceJson(value: unknown): string {
  return JSON.stringify(toTraceValue(value));
}

/** Parses a whole trace; every problem names its line. */
export function parseTrace(
  text: string,
  knownTargets?: ReadonlySet<string>,
): { header: TraceHeader; records: TraceRecord[] } {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  if (lines.length === 0) throw new TraceError(1, 'empty file: expected a syncvisor-trace header');
  let header: TraceHeader;
  try {
    header = JSON.parse(lines[0]!) as TraceHeader;
  } catch {
    throw new TraceError(1, 'the header is not JSON');
  }
  if (header?.format !== traceFormat) throw new TraceError(1, `wrong header: format must be "${traceFormat}"`);
  if (header.version !== traceVersion)
    throw new TraceError(
      1,
      `unsupported trace version ${String(header.version)} (this syncvisor reads ${traceVersion})`,
    );
  if (!Array.isArray(header.machines)) throw new TraceError(1, 'wrong header: machines must be a list');
  if (
    header.machineVersions !== undefined &&
    (typeof header.machineVersions !== 'object' ||
      header.machineVersions === null ||
      Object.values(header.machineVersions).some((v) => typeof v !== 'string'))
  )
    throw new TraceError(1, 'wrong header: machineVersions must map machine ids to version strings');
  if (typeof header.supervisor !== 'object' || header.supervisor === null)
    throw new TraceError(1, 'wrong header: supervisor settings missing');
  // Nested machines (portsync's stateFile, the ptp clocks) are not in the header: without a list of known targets,
  // the replay says which target has no actor, with the line number.
  const targets = knownTargets;
  const records: TraceRecord[] = [];
  let last = 0;
  for (let i = 1; i < lines.length; i++) {
    const n = i + 1;
    let r: TraceRecord;
    try {
      r = JSON.parse(lines[i]!) as TraceRecord;
    } catch {
      throw new TraceError(
        n,
        i === lines.length - 1 ? 'truncated line (the recording stopped mid-write?)' : 'not JSON',
      );
    }
    if (typeof r?.t !== 'number' || !Number.isFinite(r.t) || r.t < last)
      throw new TraceError(n, 't must be a number, not decreasing');
    if (typeof r.to !== 'string' || r.to === '' || (targets && !targets.has(r.to)))
      throw new TraceError(n, `unknown target "${String(r?.to)}"`);
    if (typeof r.event?.type !== 'string') throw new TraceError(n, 'event.type missing');
    last = r.t;
    records.push(r);
  }
  return { header, records };
}
