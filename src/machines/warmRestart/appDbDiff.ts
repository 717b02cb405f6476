// The reconciliation diff of the APP_DB gate: what to write so that APP_DB PORT_TABLE matches what the service wants.
// Pure; the gate machine calls it with what readAppDb returned and what it held while closed.

import type { TableContent, TableOp } from '../portsync/events.js';

/** One desired APP_DB PORT_TABLE change, keyed by the table key (e.g. "Ethernet0", "PortConfigDone"). */
export type DesiredOp = TableOp;

/** Current APP_DB PORT_TABLE content: key → fields (including pending _PORT_TABLE:* entries, see appDbGate.ts). */
export type AppDbContent = TableContent;

export interface AppDbDiffOptions {
  /** Delete keys present in APP_DB that were never mentioned while closed (default true). */
  deleteUnmentioned?: boolean;
}

/**
 * A key needs a write when some desired field is missing or has another value. Extra fields already in APP_DB do
 * not count: a ProducerStateTable set is an HSET and would not remove them either.
 */
export function fieldsDiffer(current: Record<string, string> | undefined, desired: Record<string, string>): boolean {
  if (current === undefined) return true;
  for (const [field, value] of Object.entries(desired)) {
    if (current[field] !== value) return true;
  }
  return false;
}

/** The ops that turn `current` into `held` (latest desired op per key); keys in sorted order for stable output. */
export function appDbDiff(
  current: AppDbContent,
  held: Record<string, DesiredOp>,
  opts: AppDbDiffOptions = {},
): DesiredOp[] {
  const ops: DesiredOp[] = [];
  for (const key of Object.keys(held).sort()) {
    const op = held[key];
    if (op === undefined) continue;
    if (op.op === 'set') {
      if (fieldsDiffer(current[key], op.fields)) ops.push(op);
    } else if (key in current) {
      ops.push(op);
    }
  }
  if (opts.deleteUnmentioned ?? true) {
    for (const key of Object.keys(current).sort()) {
      if (!(key in held)) ops.push({ op: 'del', key });
    }
  }
  return ops;
}
