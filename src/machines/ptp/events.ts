// The contract of the PTP data plane, declared once and type-only: src/io/ptp (the parser) produces these values,
// src/actors/ptp carries them, src/machines/ptp decides on them, and observers (the O-RAN events API, logs) receive
// the state-change events. Nothing here has a runtime value, so both sides of the layer wall may import it.

/** What the log says about a clock (an edge = a change of this per clock, not every line). */
export type ClockVerdict =
  /** The servo is locked and the offset is in range (min < offset < max). */
  | 'locked'
  /** The servo is locked but the offset is out of range. */
  | 'outOfRange'
  /** s0/s1 of an offset line, or a status line's s0 / unknown sN: the clock runs free. */
  | 'freerun'
  /** A SLAVE port was lost (FAULTY / MASTER / LISTENING): the sidecar's own holdover timer runs. */
  | 'holdover'
  /**
   * A status line (dpll / GM / T-BC / gnss `s1`, ts2phc's trailing `holdover`) says HOLDOVER: the daemon's verdict,
   * reported as given, with no sidecar timer on top; the daemon itself reports when holdover ends.
   */
  | 'daemonHoldover'
  /** A status line says LOCKED (s2): the daemon's verdict, no range check. */
  | 'daemonLocked'
  /**
   * phc2sys's `PTP_PROCESS_STATUS 0`, for its CLOCK_REALTIME: FREERUN, unless the profile runs chronyd (NTP
   * failover), where the clock keeps its state until chronyd takes CLOCK_REALTIME over.
   */
  | 'processDown';

/** The state of one clock, as the openshift_ptp_clock_state gauge encodes it (0 FREERUN, 1 LOCKED, 2 HOLDOVER). */
export type ClockStateName = 'FREERUN' | 'LOCKED' | 'HOLDOVER';

/** Who a clock is: one statechart per key. */
export interface ClockIdentity {
  /** `<process>/<iface>`. */
  key: string;
  /** The process the line came from: ptp4l, phc2sys, ts2phc, chronyd, synce4l, GM, T-BC, dpll, gnss. */
  process: string;
  /** The interface (or its alias), or CLOCK_REALTIME. */
  iface: string;
  /** The ConfigMap profile of the config the line named ('' for chronyd without a profile). */
  profile: string;
  /**
   * synce4l only. A port clock (`synce4l/<port>`, from an `eec_state` line): `{ device, level: 'port' }`. The device's
   * overall state (`synce4l/<device>`, src/machines/ptp/synceDevice.ts): `{ device, level: 'device' }`, with `iface`
   * = the device name.
   */
  synce?: { device: string; level: 'port' | 'device' };
}

/** What the clock-state statechart of a clock starts with. */
export interface ClockSeed extends ClockIdentity {
  /** From the profile's holdOverTimeout (already in ms). */
  holdoverTimeoutMs: number;
}

/**
 * phc2sys's automatic source selection, line by line (src/machines/ptp/osClockDiscipline.ts): `reconfiguring after
 * port state change`, `selecting <NIC> for synchronization` (sourceSelected), `<NIC> as (out-of-)domain source clock`
 * (sourceMarker), `selecting CLOCK_REALTIME for synchronization`, `waiting` / `postponing` (aborted), `… is already
 * selected`, and a CLOCK_REALTIME offset sample while a selection window may be open.
 */
export type OsClockSignal =
  | 'reconfiguring'
  | 'sourceSelected'
  | 'sourceMarker'
  | 'realtimeSelected'
  | 'aborted'
  | 'alreadySelected'
  | 'realtimeSample';

/** The key prefix of the OS-clock discipline edges: `phc2sys-discipline/<profile>`. */
export const osClockDisciplinePrefix = 'phc2sys-discipline/';

/**
 * NTP failover (src/machines/ptp/osClockOwner.ts): a chronyd source line (`Selected source`, `no selectable
 * sources`) or a phc2sys CLOCK_REALTIME offset of a profile with `chronydOpts`.
 */
export type OsClockOwnerSignal = 'chronydSource' | 'phc2sysSample';

/** The key prefix of the CLOCK_REALTIME owner edges: `os-clock-owner/<profile>`. */
export const osClockOwnerPrefix = 'os-clock-owner/';

/**
 * A verdict change for one clock, produced by the parser in line order; or, with a key `phc2sys-discipline/<profile>`,
 * one OsClockSignal for the profile's osClockDiscipline chart; or, with a key `os-clock-owner/<profile>`, one
 * OsClockOwnerSignal for the profile's osClockOwner chart.
 */
export interface ClockEdge extends ClockSeed {
  verdict: ClockVerdict | OsClockSignal | OsClockOwnerSignal;
  /** The offset (ns) of the line that changed the verdict, when the line carries one. */
  offset?: number;
  /** The config's last CLOCK_CLASS_CHANGE, when one was seen. */
  clockClass?: number;
}

/**
 * One loaded generation as the sidecar machine sees it: the clocks known at load. The rest (parser, metrics) is the
 * data-plane actor's business (src/actors/ptp/generationActor.ts), which takes the same object as input.
 */
export interface SidecarGeneration {
  /** Clocks whose statechart starts at load (FREERUN). */
  readonly seeds: readonly ClockSeed[];
  /**
   * Parses lines (a text of lines each followed by `\n`, as the socket hands them over), updates metrics, returns
   * verdict edges. Never throws.
   */
  ingest(text: string): ClockEdge[];
  /** Sets openshift_ptp_clock_state for one clock. */
  setClockState(process: string, iface: string, state: ClockStateName): void;
  /** Removes that series (optional: a generation without it keeps the series). */
  clearClockState?(process: string, iface: string): void;
  /** Drops the generation's metrics registry. */
  stop(): void;
}

// ---- Events between the sidecar and its data-plane actors --------------------------------------------------------

/** sidecar → generation actor: a batch of log lines (in arrival order), each followed by `\n`. */
export interface GenerationLinesEvent {
  type: 'ptp.lines';
  lines: string;
}

/**
 * sidecar → generation actor: a clock entered a state (the actor sets the clock_state gauge); `null` removes the
 * series (the CLOCK_REALTIME of an owner that handed it over).
 */
export interface GenerationClockStateEvent {
  type: 'ptp.clockState';
  process: string;
  iface: string;
  state: ClockStateName | null;
}

/**
 * generation actor → itself: its ingest, called by the socketServer on the direct path of lines, threw; the actor
 * fails with that error, as it does when the ingest of a `ptp.lines` event throws.
 */
export interface GenerationIngestFailedEvent {
  type: 'ptp.ingestFailed';
  error: unknown;
}

export type GenerationInputEvent = GenerationLinesEvent | GenerationClockStateEvent | GenerationIngestFailedEvent;

/** sidecar → clock bank → the synceDevice chart of `device`: one of its ports entered a state. */
export interface SyncePortStateEvent {
  type: 'synce.portState';
  device: string;
  port: string;
  profile: string;
  state: ClockStateName;
}

/** generation actor → sidecar: the verdict edges of one batch (never empty). */
export interface GenerationEdgesEvent {
  type: 'ptp.edges';
  edges: readonly ClockEdge[];
}

/** osClockDiscipline → sidecar: CLOCK_REALTIME of the profile is (again) disciplined by phc2sys, or not. */
export interface OsClockDisciplineChanged {
  type: 'ptp.osClockDiscipline';
  profile: string;
  disciplined: boolean;
}

/** osClockOwner → sidecar: who disciplines CLOCK_REALTIME in a profile with NTP failover. */
export interface OsClockOwnerChanged {
  type: 'ptp.osClockOwner';
  profile: string;
  owner: 'phc2sys' | 'chronyd';
}

// ---- Events observers receive -------------------------------------------------------------------------------------

/**
 * One clock entered a state. Emitted by the sidecar (`sidecarRef.on('clock.stateChanged', …)`) exactly once per
 * change, in order; `from` is null for the first state of a clock (FREERUN at start).
 */
export interface ClockStateChanged extends ClockIdentity {
  type: 'clock.stateChanged';
  from: ClockStateName | null;
  to: ClockStateName;
  /** The offset (ns) of the line that caused the change, when known. */
  offset?: number;
  /** The config's clock class when known. */
  clockClass?: number;
}

/**
 * The OS clock (CLOCK_REALTIME, O-RAN sync-state source E3) of a profile changed: the worst of phc2sys's own state and
 * the PTP clock's (ptp4l, or the T-BC / GM clock of the profile). Emitted by the sidecar once per change.
 */
export interface OsClockStateChanged {
  type: 'ptp.osClockStateChanged';
  profile: string;
  from: ClockStateName | null;
  to: ClockStateName;
}

/** The node's overall sync state (the worst clock of all) changed. Emitted once per change. */
export interface SyncStateChanged {
  type: 'ptp.syncStateChanged';
  from: ClockStateName | null;
  to: ClockStateName;
}

export type SidecarEmitted = ClockStateChanged | OsClockStateChanged | SyncStateChanged;
