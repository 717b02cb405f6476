// What the supervisor is given about each child. Kept apart from the machine so that composition modules and tests
// can build specs without pulling the chart in.
import type { AnyActorLogic } from 'xstate';

/** Erlang/OTP restart policies. */
export type RestartPolicy =
  /** Always restarted, whether it stopped with an error or finished. */
  | 'permanent'
  /** Restarted only after an error; finishing normally is fine. */
  | 'transient'
  /** Never restarted. */
  | 'temporary';

export interface BackoffSpec {
  initialMs: number;
  maxMs: number;
  factor: number;
}

export interface ChildSpec {
  /** Actor id inside the supervisor, and the systemId unless `systemId` says otherwise. */
  id: string;
  systemId: string;
  logic: AnyActorLogic;
  input?: unknown;
  restart: RestartPolicy;
  /** Event-type prefixes the supervisor forwards to this child (e.g. ['netlink.']): sources → concerns. */
  receives?: string[];
  /**
   * On graceful shutdown, drain children are sent `{ type: 'shutdown' }` and given shutdownTimeoutMs to reach a final
   * state (a final save, closing connections); others are just stopped.
   */
  drain?: boolean;
  /** The child sends `child.ready` events; /readyz is 200 only when every such child is ready. */
  reportsReady?: boolean;
  /** Shutdown phases, lowest first: services (0) before sources (1) before http (2). */
  shutdownOrder?: number;
  /** Per-child intensity and backoff; the supervisor's defaults apply otherwise. */
  maxRestarts?: number;
  periodMs?: number;
  backoff?: BackoffSpec;
}

/** A service asks the supervisor to shut down gracefully and exit with `code` (e.g. ptp restart.mode=process). */
export interface SupervisorExitEvent {
  type: 'supervisor.exit';
  code: number;
  reason: string;
}

/** Exit codes of the daemon. */
export const exitCodes = {
  ok: 0,
  usage: 1,
  config: 2,
  /** A child exceeded its restart intensity (EX_SOFTWARE). */
  intensity: 70,
  /** ptp.restart.mode=process: CMD RESTART asks the external supervisor to restart us (EX_TEMPFAIL). */
  ptpRestart: 75,
} as const;
