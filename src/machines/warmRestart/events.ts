// The contract of the warm-restart concern, types only: the state file's port record (the same shape the codec in
// src/io/warmRestart persists), and the events between portsync and its warmRestart child. Imported with
// `import type` from machines, actors and io alike.
import type { TableOp } from '../portsync/events.js';

/** One port as the state file keeps it. */
export interface PortRecord {
  name: string;
  /** 'up' | 'down' (IFF_UP). */
  adminState: 'up' | 'down';
  /** 'up' | 'down' (IFF_RUNNING). */
  operState: 'up' | 'down';
  /** ifi_flags as received. */
  flags: number;
  mtu: number;
  ifindex: number;
}

export type PortMap = Record<string, PortRecord>;
/** The state file's two slots: the file itself and its `.backup`. */
export type StateFileSlot = 'current' | 'backup';
export type ColdReason = 'stale' | 'missing' | 'corrupt' | 'futureVersion';
export type CompletionReason = 'eoiu' | 'timeout' | 'cold';
export type StartMode = 'warm' | 'cold';

/** The state file follows the kernel: what portsync tells warmRestart about its synced links. */
export type StateFileChange =
  | { type: 'stateFile.upsert'; port: PortRecord }
  | { type: 'stateFile.remove'; name: string }
  | { type: 'stateFile.replace'; ports: PortMap };

/** Link facts and desired writes portsync sends to its warmRestart child. */
export type WarmRestartFactEvent =
  | StateFileChange
  /** CONFIG_DB PORT names, once read: with the state file they give the ports the initial sync waits for. */
  | { type: 'config.ports'; names: string[] }
  /** Desired APPL_DB PORT_TABLE writes: held while a warm initial sync runs, reconciled, then passed through. */
  | { type: 'appDb.write'; ops: TableOp[] };

/** The decision warmRestart tells portsync: the initial sync is over and the APP_DB gate is open. */
export interface WarmRestartSyncedEvent {
  type: 'warmRestart.synced';
  mode: StartMode;
  reason: CompletionReason;
  /** What the reconciliation wrote (0/0 on a cold start). */
  set: number;
  del: number;
}

/** Sent to portsync as soon as warm or cold is decided. */
export interface WarmRestartDecidedEvent {
  type: 'warmRestart.decided';
  mode: StartMode;
}
