// The warm-restart state file format, version 1 (one line of JSON; the ports are written as their canonical text):
//   {version, savedAt, checksum, ports: {name: {adminState, flags, ifindex, mtu, name, operState}}}
// checksum = sha256 (hex) over the canonical JSON (sorted keys, no spaces) of {ports, savedAt, version}, so a
// truncated or hand-edited file is detected. Errors are values: decode returns a typed result, never throws.
import { createHash } from 'node:crypto';
import type { PortRecord } from '../../machines/warmRestart/events.js';

export const stateFileVersion = 1;

/** A port as the file keeps it: the warm-restart contract type PortRecord. */
export type PersistedPort = PortRecord;

export interface StateFileContent {
  version: number;
  /** Milliseconds since the epoch. */
  savedAt: number;
  ports: Record<string, PersistedPort>;
}

export type StateFileErrorReason = 'missing' | 'unreadable' | 'parse' | 'checksum' | 'version' | 'shape';

export class StateFileError extends Error {
  constructor(
    readonly reason: StateFileErrorReason,
    message: string,
    /** For reason 'version': the version found in the file. */
    readonly foundVersion?: number,
  ) {
    super(message);
    this.name = 'StateFileError';
  }

  /** A file written by a newer syncvisor: we do not guess its meaning, and its backup is likely of the same kind. */
  get isFutureVersion(): boolean {
    return this.reason === 'version' && this.foundVersion !== undefined && this.foundVersion > stateFileVersion;
  }
}

export type DecodeResult = { ok: true; value: StateFileContent } | { ok: false; error: StateFileError };

/** JSON with object keys sorted at every level: the same data always gives the same bytes. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj)
    .filter((k) => obj[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(',')}}`;
}

const primitiveTypes = new Set(['string', 'number', 'boolean']);

/**
 * canonicalJson of a ports map, fast path: when every port has exactly the six known fields with primitive values,
 * each port is rebuilt as an object whose keys are already in sorted order, the rebuilt ports are put into one object
 * in sorted name order, and one native JSON.stringify writes the text (same bytes as the generic walk, which sorts
 * the keys of every object and joins strings in JS: ~12 of a ~16 ms encode for 4,096 ports, docs/performance.md P7).
 * Returns undefined otherwise (extra, missing or nested fields; a name that looks like an array index, which an
 * object would order numerically); the caller takes the generic walk. Property-tested against it in
 * test/io/warmRestart/checksum.test.ts.
 */
function canonicalPorts(ports: Record<string, unknown>): string | undefined {
  const names = Object.keys(ports).sort();
  const sorted: Record<string, unknown> = {};
  for (const name of names) {
    const p = ports[name];
    if (p === undefined) continue;
    if (typeof p !== 'object' || p === null || Array.isArray(p) || Object.keys(p).length !== 6) return undefined;
    if (startsWithDigit.test(name) || name === '__proto__') return undefined;
    const { adminState, flags, ifindex, mtu, name: n, operState } = p as Record<string, unknown>;
    for (const v of [adminState, flags, ifindex, mtu, n, operState])
      if (v !== null && !primitiveTypes.has(typeof v)) return undefined;
    // Keys in sorted order: adminState, flags, ifindex, mtu, name, operState.
    sorted[name] = { adminState, flags, ifindex, mtu, name: n, operState };
  }
  return JSON.stringify(sorted);
}

/** Array-index-like keys are ordered numerically by every JS object: such names go through the generic walk. */
const startsWithDigit = /^[0-9]/;

/** The canonical text of the ports map: the fast path when the ports allow it, else the generic walk. */
function canonicalPortsText(ports: unknown): string {
  return (isRecord(ports) ? canonicalPorts(ports) : undefined) ?? canonicalJson(ports);
}

/** canonicalJson({ports, savedAt, version}) from the canonical text of the ports. */
function checksummedFrom(portsText: string, savedAt: unknown, version: unknown): string {
  return `{"ports":${portsText},"savedAt":${canonicalJson(savedAt)},"version":${canonicalJson(version)}}`;
}

/** canonicalJson({ports, savedAt, version}), the checksummed text. */
function checksummedText(ports: unknown, savedAt: unknown, version: unknown): string {
  if (ports === undefined) return canonicalJson({ ports, savedAt, version });
  return checksummedFrom(canonicalPortsText(ports), savedAt, version);
}

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

export function stateFileChecksum(content: StateFileContent): string {
  return sha256(checksummedText(content.ports, content.savedAt, content.version));
}

/** The file's bytes around a canonical ports text: version, savedAt and checksum first, the ports as they were hashed. */
function fileText(savedAt: number, checksum: string, portsText: string): string {
  return `{"version":${stateFileVersion},"savedAt":${JSON.stringify(savedAt)},"checksum":${JSON.stringify(checksum)},"ports":${portsText}}\n`;
}

/**
 * The simple encoder, the reference the fast one must equal byte for byte (test/io/warmRestart/checksum.test.ts):
 * the generic canonical walk of the ports, hashed with savedAt and version, and written as the file's ports.
 */
export function encodeStateFileSimple(ports: Record<string, PersistedPort>, savedAt: number): string {
  const checksum = sha256(canonicalJson({ ports, savedAt, version: stateFileVersion }));
  return fileText(savedAt, checksum, canonicalJson(ports));
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isNonNegInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0;
}

function portShapeError(name: string, port: unknown): string | undefined {
  if (!isRecord(port)) return `port ${name}: not an object`;
  if (port.name !== name) return `port ${name}: name field ${JSON.stringify(port.name)} does not match its key`;
  if (port.adminState !== 'up' && port.adminState !== 'down') return `port ${name}: adminState must be up|down`;
  if (port.operState !== 'up' && port.operState !== 'down') return `port ${name}: operState must be up|down`;
  for (const f of ['flags', 'mtu', 'ifindex'] as const) {
    if (!isNonNegInt(port[f])) return `port ${name}: ${f} must be a non-negative integer`;
  }
  return undefined;
}

export function decodeStateFile(text: string): DecodeResult {
  const fail = (reason: StateFileErrorReason, message: string, foundVersion?: number): DecodeResult => ({
    ok: false,
    error: new StateFileError(reason, message, foundVersion),
  });
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    return fail('parse', `not JSON: ${(err as Error).message}`);
  }
  if (!isRecord(raw)) return fail('shape', 'top level is not an object');
  // Version first: a future format may change every other field.
  if (!isNonNegInt(raw.version)) return fail('shape', 'version must be a non-negative integer');
  if (raw.version !== stateFileVersion) {
    return fail('version', `unsupported version ${raw.version} (this build reads ${stateFileVersion})`, raw.version);
  }
  if (!isNonNegInt(raw.savedAt)) return fail('shape', 'savedAt must be a non-negative integer (ms since epoch)');
  if (typeof raw.checksum !== 'string') return fail('shape', 'checksum must be a string');
  if (!isRecord(raw.ports)) return fail('shape', 'ports must be an object');
  const ports: Record<string, PersistedPort> = {};
  for (const [name, port] of Object.entries(raw.ports)) {
    const problem = portShapeError(name, port);
    if (problem) return fail('shape', problem);
    const p = port as unknown as PersistedPort;
    ports[name] = {
      name: p.name,
      adminState: p.adminState,
      operState: p.operState,
      flags: p.flags,
      mtu: p.mtu,
      ifindex: p.ifindex,
    };
  }
  // The checksum covers the file's own port objects, so unknown extra fields are detected as tampering too.
  const expected = createHash('sha256')
    .update(checksummedText(raw.ports, raw.savedAt, raw.version))
    .digest('hex');
  if (expected !== raw.checksum) return fail('checksum', 'checksum mismatch: the file is truncated or was edited');
  return { ok: true, value: { version: raw.version, savedAt: raw.savedAt, ports } };
}
