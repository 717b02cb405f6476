// Events that the I/O source actors (children of the supervisor) send back, and that their lifecycle routes to the
// concern machines by systemId. They are the contract between src/actors and src/machines, and the unit of traces.

/** One RTM_NEWLINK / RTM_DELLINK, decoded. `inDump` is true when it answers our RTM_GETLINK dump. */
export interface NetlinkLinkEvent {
  type: 'netlink.link';
  kind: 'new' | 'del';
  name: string;
  ifindex: number;
  /** ifi_flags (IFF_UP = 0x1, IFF_RUNNING = 0x40, …). */
  flags: number;
  /** ifi_change. */
  change: number;
  mtu: number;
  /** IFLA_OPERSTATE (RFC 2863: 0 unknown … 6 up), or undefined when absent. */
  operstate: number | undefined;
  /** IFLA_MASTER ifindex, 0 when none. */
  master: number;
  /** IFLA_INFO_KIND ("veth", "team", …), '' when absent. */
  linkKind: string;
  /**
   * IFLA_CARRIER_CHANGES, absent when the kernel did not send it (and in events recorded before it was decoded).
   * STATE_DB PORT_TABLE carrier_changes, as portsyncd writes it when the kernel reports it.
   */
  carrierChanges?: number;
  inDump: boolean;
  /** The dump sequence number when inDump. */
  seq: number;
}

/** NLMSG_DONE of our dump with sequence `seq`. `interrupted` is true when NLM_F_DUMP_INTR was seen in it. */
export interface NetlinkDumpDoneEvent {
  type: 'netlink.dumpDone';
  seq: number;
  interrupted: boolean;
}

/** The kernel dropped messages (ENOBUFS) or the bounded queue to JS overflowed: a re-dump follows. */
export interface NetlinkOverflowEvent {
  type: 'netlink.overflow';
  source: 'kernel' | 'queue';
}

/** A dump request sent by the source (reason: start, overflow, interrupted, request). */
export interface NetlinkDumpStartedEvent {
  type: 'netlink.dumpStarted';
  seq: number;
  reason: 'start' | 'overflow' | 'interrupted' | 'request';
}

export type NetlinkSourceEvent =
  NetlinkLinkEvent | NetlinkDumpDoneEvent | NetlinkOverflowEvent | NetlinkDumpStartedEvent;

/** Sent to netlinkSource (systemId "netlinkSource") to ask for a fresh dump, e.g. when portsync (re)starts. */
export interface NetlinkRequestDumpEvent {
  type: 'netlink.requestDump';
}

/**
 * Sent to netlinkSource at a SONiC cold start: set these pre-existing links admin down (RTM_NEWLINK, IFF_UP cleared)
 * and ignore every later message of their ifindexes for the life of the process. Done once per process: a repeated
 * request (a restarted portsync) sets nothing down and is answered with the set of the first.
 */
export interface NetlinkRetireOldNetdevsEvent {
  type: 'netlink.retireOldNetdevs';
  links: { ifindex: number; name: string }[];
}

/** netlinkSource's answer to netlink.retireOldNetdevs: the ifindexes now ignored for the life of the process. */
export interface NetlinkOldNetdevsRetiredEvent {
  type: 'netlink.oldNetdevsRetired';
  ifindexes: number[];
}

/**
 * Complete lines read from one connection. Lines are batched per read (one event per chunk, not per line) so the
 * data plane stays near the line-read ceiling; CMD lines and empty lines never appear here.
 */
export interface SocketLineEvent {
  type: 'socket.line';
  connId: number;
  /**
   * The lines, each followed by `\n` (none holds one; a trailing `\r` is stripped): one text per read chunk, mostly
   * the chunk's decoded text itself, so no string is made per line. Traces of earlier builds carry an array of
   * lines here instead; the replay reads them as this text. (The inspector withholds `lines`: raw peer input.)
   */
  lines: string;
}

/** A control line: `CMD RESTART`, `CMD LIVE_START`, or any other `CMD …` (name holds the text after `CMD `). */
export interface SocketCommandEvent {
  type: 'socket.command';
  connId: number;
  command: string;
}

export interface SocketConnectionEvent {
  type: 'socket.connected' | 'socket.disconnected';
  connId: number;
}

export type SocketSourceEvent = SocketLineEvent | SocketCommandEvent | SocketConnectionEvent;

/** Sent by a service to its parent (the supervisor) whenever its readiness changes. */
export interface ChildReadyEvent {
  type: 'child.ready';
  id: string;
  ready: boolean;
}
