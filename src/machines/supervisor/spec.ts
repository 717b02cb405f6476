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
  /** Actor id of the child (inside its lifecycle) and of its lifecycle inside the supervisor. */
  id: string;
  /** systemId of the child: how routes and other actors find it (`system.get`). */
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

/**
 * Exit codes of the daemon (sysexits.h where one fits). The CLI maps each error kind to one of these in one table
 * (src/cli/errors.ts); docs/operations.md lists them.
 */
export const exitCodes = {
  ok: 0,
  /** `syncvisor replay --expect`: the replayed snapshot differs from the expected one (as diff(1) exits 1). */
  differs: 1,
  /** EX_USAGE: an unknown command, flag or argument. */
  usage: 64,
  /** EX_DATAERR: an input file (a trace) is malformed. */
  dataErr: 65,
  /** EX_NOINPUT: an input file (a trace) cannot be read. */
  noInput: 66,
  /** EX_UNAVAILABLE: `syncvisor ctl`: nothing answers on the sidecar socket. */
  unavailable: 69,
  /** EX_SOFTWARE: a child exceeded its restart intensity, or an unexpected internal failure. */
  software: 70,
  /** EX_TEMPFAIL: ptp restart.mode=process — CMD RESTART asks the external supervisor to restart us. */
  tempfail: 75,
  /** EX_CONFIG: the configuration is invalid (a key, a value, a file it names, a listen address). */
  config: 78,
} as const;

export type ExitCode = (typeof exitCodes)[keyof typeof exitCodes];
