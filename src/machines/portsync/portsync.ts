// portsync: kernel link state → SONiC Redis (docs/portsync.md). It receives the netlink.* events the supervisor
// forwards from netlinkSource and decides what to write. Two children:
//   redisTables  (systemId redisTables) the one owner of Redis: applies redis.write, reports redis.up/down and the
//                initial CONFIG_DB / STATE_DB read, answers the warm-restart requests (src/actors/portsync/redisTables.ts)
//   warmRestart  (systemId warmRestart) the warm-restart concern (src/machines/warmRestart/warmRestart.ts): portsync
//                sends it link facts (netlink.* while the initial sync runs, the state file's port changes, the
//                CONFIG_DB port names) and every desired APP_DB write; it answers warmRestart.synced once the initial
//                sync is over and the gate is open.
// The phases are states of the parallel `running` state: links (tracking: every link event), redis (waiting / up / down), appDb (loadingConfig /
// waitingForPorts / portInitDone), dumpRequest (preparing / requested: the initial dump waits for the start-up
// reads when dumpPrepareMs is set), dump (initialDump / synced), initialSync (inProgress / done) and readiness
// (notReady / ready, reported to the parent on every change). `draining` flushes Redis and waits for the final
// state-file save side by side.
import {
  and,
  or,
  assign,
  enqueueActions,
  fromCallback,
  not,
  sendParent,
  sendTo,
  setup,
  stateIn,
  type ActorRefFrom,
} from 'xstate';
import * as table from './portTable.js';
import type { PortTable } from './portTable.js';
import { IFF_RUNNING, IFF_UP } from './linkFlags.js';
import type { RedisTablesCommand, RedisTablesEvent, TableOp } from './events.js';
import type {
  ChildReadyEvent,
  NetlinkOldNetdevsRetiredEvent,
  NetlinkRetireOldNetdevsEvent,
  NetlinkSourceEvent,
} from '../supervisor/sourceEvents.js';
import type {
  PortMap,
  PortRecord,
  WarmRestartDecidedEvent,
  WarmRestartFactEvent,
  WarmRestartSyncedEvent,
} from '../warmRestart/events.js';
import { expectedPortsOf, warmRestartMachine, type WarmRestartInput } from '../warmRestart/warmRestart.js';
import type { EoiuMode } from '../warmRestart/eoiuDetector.js';

export { IFF_RUNNING, IFF_UP, expectedPortsOf };
export type { RedisTablesCommand, RedisTablesEvent, TableOp };
/** One write to a table, keyed without the table prefix (the contract type TableOp). */
export type TableWrite = TableOp;

export interface PortsyncShutdownEvent {
  type: 'shutdown';
}

export type PortsyncEvent =
  | NetlinkSourceEvent
  | NetlinkOldNetdevsRetiredEvent
  | RedisTablesEvent
  | PortsyncShutdownEvent
  | WarmRestartSyncedEvent
  | WarmRestartDecidedEvent
  | { type: 'xstate.done.actor.warmRestart' };

/**
 * sonic.linkRules: portsyncd's link rules (STATE_DB only once orchagent consumed APPL_DB PORT_TABLE:<name>; old
 * netdevs set down and ignored at a cold start). on, off, or auto: on iff CONFIG_DB has DEVICE_METADATA|localhost.
 */
export type LinkRules = 'auto' | 'on' | 'off';

export interface PortsyncInput {
  /** portsync.portPattern: names that match are synced. */
  portPattern: string;
  /** sonic.linkRules (default off here; the daemon's configuration defaults to auto). */
  linkRules?: LinkRules;
  /** Upper bound of the final flush on shutdown (default 4000 ms). */
  drainTimeoutMs?: number;
  /** warmRestart.timeoutSecs and sonic.checkEnableTable. */
  warmRestart?: WarmRestartInput;
  /** eoiu.mode (default dump). */
  eoiuMode?: EoiuMode;
  /** stateFile.debounceMs (default 200). */
  stateFileDebounceMs?: number;
  /**
   * Set: the initial dump is requested once CONFIG_DB / STATE_DB were read and warm or cold is decided (the state
   * file answered), at the latest after this many ms, so those answers are not queued behind the dump's link events.
   * Unset: at once.
   */
  dumpPrepareMs?: number;
}

export interface PortState {
  ifindex: number;
  flags: number;
  mtu: number;
  /** IFLA_CARRIER_CHANGES of the latest message, absent when the kernel sent none. */
  carrierChanges?: number;
}

interface TrackedDump {
  seq: number;
  /** Ports seen since the dump started (dumped, or announced live meanwhile). */
  seen: PortTable<true>;
}

export interface PortsyncContext {
  portPattern: string;
  drainTimeoutMs: number;
  // The per-port collections are persistent tables (src/machines/portsync/portTable.ts): a netlink.link event costs
  // the same with 4,096 ports as with 4, and no snapshot is ever mutated.
  /** Synced ports the kernel has now. */
  ports: PortTable<PortState>;
  /** String(ifindex) → name of the synced port with that ifindex (rename detection without a scan). */
  byIfindex: PortTable<string>;
  /** Every synced port name seen since start (PortInitDone waits for all CONFIG_DB ports to be in it). */
  everSeen: PortTable<true>;
  /** CONFIG_DB PORT names, once read. */
  configPorts: string[] | undefined;
  /** CONFIG_DB PORT names not in everSeen yet (once CONFIG_DB was read). */
  configUnseen: PortTable<true> | undefined;
  /** STATE_DB port names found at start that no completed dump has confirmed yet. */
  unconfirmed: PortTable<true>;
  /** The dump whose start we saw; only such a dump can prove a port is gone. */
  dump: TrackedDump | undefined;
  /** CONFIG_DB PORT entries of the latest read, until they are copied to APP_DB (cold start or rebuild). */
  configSnapshot: Record<string, Record<string, string>> | undefined;
  /** The input of the warmRestart child. */
  warmRestart: WarmRestartInput;
  /** How often the configured ports that never appeared were reported (first after 5 s, then every 60 s). */
  missingReports: number;
  /** sonic.linkRules as given. */
  linkRulesMode: LinkRules;
  /** The link rules in force: undefined while `auto` waits for the CONFIG_DB read. */
  linkRules: 'on' | 'off' | undefined;
  /** CONFIG_DB DEVICE_METADATA|localhost switch_type (dpu: old netdevs are kept). */
  switchType: string | undefined;
  /**
   * Links the kernel has whose APPL_DB PORT_TABLE:<name> has not been seen yet (link rules on): no STATE_DB entry,
   * not counted toward PortInitDone, re-checked until orchagent's consumer has popped them.
   */
  pending: PortTable<true>;
  /** APPL_DB checks since a link last became pending (the re-check backs off: 100 ms doubling to 1 s). */
  appDbChecks: number;
  /** String(ifindex) of the netdevs retired at a cold start: their messages are ignored for the life of the process. */
  oldIfindexes: PortTable<true>;
  /**
   * CONFIG_DB ports whose consumed APPL_DB PORT_TABLE:<name> already had admin_status at the latest CONFIG_DB read
   * (redis.initialState); a cold start does not wait for them before PortInitDone (portsyncd's rule).
   */
  appDbAdminStatus: string[];
  /** PortsyncInput.dumpPrepareMs. */
  dumpPrepareMs: number | undefined;
}

/** SONiC's front-panel prefix: the netdevs a cold start sets down (portsyncd: INTFS_PREFIX, not PortChannel). */
const FRONT_PANEL_PREFIX = 'Ethernet';

const patterns = new Map<string, RegExp>();
function compiled(pattern: string): RegExp {
  let re = patterns.get(pattern);
  if (!re) {
    re = new RegExp(pattern);
    patterns.set(pattern, re);
  }
  return re;
}

/**
 * STATE_DB PORT_TABLE fields of a link, as SONiC portsyncd writes them: state, netdev_oper_status, admin_status, mtu
 * (decimal), and carrier_changes (decimal) when the kernel reported IFLA_CARRIER_CHANGES.
 */
export function statePortFields(flags: number, mtu: number, carrierChanges?: number): Record<string, string> {
  const fields: Record<string, string> = {
    state: 'ok',
    netdev_oper_status: flags & IFF_RUNNING ? 'up' : 'down',
    admin_status: flags & IFF_UP ? 'up' : 'down',
    mtu: String(mtu),
  };
  if (carrierChanges !== undefined) fields.carrier_changes = String(carrierChanges);
  return fields;
}

/** The PortState of a link message (carrierChanges only when the kernel sent it). */
function portStateOf(e: { ifindex: number; flags: number; mtu: number; carrierChanges?: number }): PortState {
  const p: PortState = { ifindex: e.ifindex, flags: e.flags, mtu: e.mtu };
  if (e.carrierChanges !== undefined) p.carrierChanges = e.carrierChanges;
  return p;
}

type LinkEvent = Extract<PortsyncEvent, { type: 'netlink.link' }>;

/** The state file's record of a synced link. */
export function portRecord(name: string, p: PortState): PortRecord {
  return {
    name,
    adminState: p.flags & IFF_UP ? 'up' : 'down',
    operState: p.flags & IFF_RUNNING ? 'up' : 'down',
    flags: p.flags,
    mtu: p.mtu,
    ifindex: p.ifindex,
  };
}

/** A fact for the warmRestart child (typed; sent by child id). */
function fact(e: WarmRestartFactEvent): WarmRestartFactEvent {
  return e;
}

// enqueueActions inside setup() cannot name sibling actions in a typed way yet; this builds the same action object.
function stateDbDeletes(keys: string[]): never {
  return { type: 'writeStateDb', params: { ops: keys.map((key) => ({ op: 'del', key })) } } as never;
}

/** Cold start: CONFIG_DB PORT entries → APP_DB PORT_TABLE, then PortConfigDone {count}. */
export function configCopyOps(configPorts: Record<string, Record<string, string>>): TableOp[] {
  const entries = Object.entries(configPorts);
  const ops: TableOp[] = entries.map(([key, fields]) => ({ op: 'set', key, fields }));
  ops.push({ op: 'set', key: 'PortConfigDone', fields: { count: String(entries.length) } });
  return ops;
}

/**
 * Publishes links that were pending: their STATE_DB entries are written and they count toward PortInitDone. Only names
 * still pending and still known are taken.
 */
function publishOps(context: PortsyncContext, names: Iterable<string>) {
  let { pending, everSeen, configUnseen } = context;
  const ops: TableOp[] = [];
  for (const name of names) {
    const p = table.get(context.ports, name);
    if (!p || !table.has(pending, name)) continue;
    pending = table.remove(pending, name);
    everSeen = table.set(everSeen, name, true);
    configUnseen = configUnseen && table.remove(configUnseen, name);
    ops.push({ op: 'set', key: name, fields: statePortFields(p.flags, p.mtu, p.carrierChanges) });
  }
  return { assign: { pending, everSeen, configUnseen }, ops };
}

const linkSetOps = ({ event }: { event: PortsyncEvent }): { ops: TableOp[] } => {
  const e = event as LinkEvent;
  return { ops: [{ op: 'set', key: e.name, fields: statePortFields(e.flags, e.mtu, e.carrierChanges) }] };
};
const linkDelOps = ({ event }: { event: PortsyncEvent }): { ops: TableOp[] } => ({
  ops: [{ op: 'del', key: (event as LinkEvent).name }],
});
const portCount = ({ context }: { context: PortsyncContext }) => ({ count: table.size(context.ports) });

export const portsyncMachine = setup({
  types: {
    context: {} as PortsyncContext,
    events: {} as PortsyncEvent,
    input: {} as PortsyncInput,
  },
  actors: {
    /** Owns the Redis connections and writers; provided by src/daemon/portsync.ts. */
    redisTables: fromCallback<RedisTablesCommand>(() => undefined),
    warmRestart: warmRestartMachine,
  },
  guards: {
    /** Not ours: the name does not match portPattern, a team link, or the DELLINK of a link with a master. */
    isIgnoredLink: ({ context, event }) => {
      const e = event as LinkEvent;
      if (!compiled(context.portPattern).test(e.name)) return true;
      // SONiC: team devices are owned by teamsyncd.
      if (e.linkKind === 'team') return true;
      // SONiC: a DELLINK with a master is the port leaving a bridge/bond, not the port going away.
      return e.kind === 'del' && e.master !== 0;
    },
    isDelLink: ({ event }) => (event as LinkEvent).kind === 'del',
    /** A message of a netdev that existed at a SONiC cold start (set down then): ignored for the life of the process. */
    isOldNetdev: ({ context, event }) => table.has(context.oldIfindexes, String((event as LinkEvent).ifindex)),
    /**
     * The link's STATE_DB entry is written at once: the link rules are off, or the link is known and its APPL_DB
     * PORT_TABLE entry was seen (published).
     */
    isPublishedLink: ({ context, event }) => {
      if (context.linkRules === 'off') return true;
      const { name } = event as LinkEvent;
      return table.has(context.ports, name) && !table.has(context.pending, name);
    },
    linkRulesOn: ({ context }) => context.linkRules === 'on',
    linkRulesOff: ({ context }) => context.linkRules === 'off',
    hasPendingLinks: ({ context }) => context.pending.size > 0,
    configRead: ({ context }) => context.configPorts !== undefined,
    isDpu: ({ context }) => context.switchType === 'dpu',
    /** The cold start's old netdevs are known (retired or kept): a pending link can be published. */
    oldNetdevsSettled: not(stateIn({ running: { oldNetdevs: 'deciding' } })),
    allConfigPortsSeen: ({ context }) => (context.configUnseen?.size ?? 0) === 0,
    completesTrackedDump: ({ context, event }) =>
      event.type === 'netlink.dumpDone' && !event.interrupted && context.dump?.seq === event.seq,
    isInterruptedDump: ({ event }) => event.type === 'netlink.dumpDone' && event.interrupted,
    /** warmRestart said the initial sync is over (and the gate open). */
    initialSyncDone: stateIn({ running: { initialSync: 'done' } }),
    /** A dump has completed already (the dump region is in synced). */
    dumpCompleted: stateIn({ running: { dump: 'synced' } }),
    /**
     * Ready: Redis is up, the kernel was dumped, CONFIG_DB was read (its APP_DB copy is on its way) and the initial
     * sync is over.
     */
    allPhasesReady: and([
      stateIn({ running: { redis: 'up' } }),
      stateIn({ running: { dump: 'synced' } }),
      stateIn({ running: { appDb: 'portInitDone' } }),
      stateIn({ running: { initialSync: 'done' } }),
    ]),
    /** No preparation wanted (dumpPrepareMs unset): the initial dump is requested at once. */
    dumpsAtOnce: ({ context }) => context.dumpPrepareMs === undefined,
    /** The start-up reads are answered: CONFIG_DB / STATE_DB read, warm or cold decided (the state file answered). */
    startupReadsDone: and([
      not(stateIn({ running: { appDb: 'loadingConfig' } })),
      not(stateIn({ running: { startMode: 'undecided' } })),
    ]),
    decidedWarm: ({ event }) => event.type === 'warmRestart.decided' && event.mode === 'warm',
    isColdStart: stateIn({ running: { startMode: 'cold' } }),
    isWarmStart: stateIn({ running: { startMode: 'warm' } }),
    /**
     * PortInitDone can be sent: every CONFIG_DB port was seen, and (warm start) the initial sync is over, so that it
     * reaches the open gate and is sent again, as portsyncd sends it at every start.
     */
    portInitDoneDue: and([
      'allConfigPortsSeen',
      or([stateIn({ running: { startMode: 'cold' } }), stateIn({ running: { initialSync: 'done' } })]),
    ]),
  },
  delays: {
    drainTimeout: ({ context }) => context.drainTimeoutMs + 500,
    missingPortsReport: ({ context }) => (context.missingReports === 0 ? 5_000 : 60_000),
    /** Re-check of the pending links' APPL_DB entries: 100 ms, doubling to 1 s while they stay pending. */
    appDbRecheck: ({ context }) => Math.min(1_000, 100 * 2 ** Math.max(0, Math.min(context.appDbChecks - 1, 4))),
    /** Upper bound of one APPL_DB check (redisTables answers or fails a request within ~5 s). */
    appDbCheckTimeout: 10_000,
    /** How long the netlink source may take to answer netlink.retireOldNetdevs. */
    retireTimeout: 2_000,
    dumpPrepareTimeout: ({ context }) => context.dumpPrepareMs ?? 0,
  },
  actions: {
    /** The one seam for STATE_DB writes. */
    writeStateDb: sendTo('redisTables', (_, params: { ops: TableOp[] }) => ({
      type: 'redis.write' as const,
      table: 'state' as const,
      ops: params.ops,
    })),
    /** The one seam for APP_DB writes: through warmRestart's gate, which holds them during a warm initial sync. */
    writeAppDb: sendTo('warmRestart', (_, params: { ops: TableOp[] }) =>
      fact({ type: 'appDb.write', ops: params.ops }),
    ),
    /** Redis may have come back empty (a restarted server): every known port is written again. */
    rewriteStateDb: sendTo('redisTables', ({ context }) => ({
      type: 'redis.write' as const,
      table: 'state' as const,
      ops: table
        .entries(context.ports)
        .filter(([key]) => !table.has(context.pending, key))
        .map(([key, p]) => ({
          op: 'set' as const,
          key,
          fields: statePortFields(p.flags, p.mtu, p.carrierChanges),
        })),
    })),
    /** Netlink facts reach warmRestart (its eoiuDetector) while the initial sync runs. */
    tellWarmRestart: sendTo('warmRestart', ({ event }) => event as NetlinkSourceEvent),
    /** The CONFIG_DB port names go to warmRestart: with the state file they give the expected ports. */
    tellConfigPorts: sendTo('warmRestart', ({ event }) =>
      fact({ type: 'config.ports', names: event.type === 'redis.initialState' ? Object.keys(event.configPorts) : [] }),
    ),
    /** The state file follows the kernel: a link seen or changed. */
    upsertStateFilePort: enqueueActions(({ context, event, enqueue }) => {
      const e = event as LinkEvent;
      const p = table.get(context.ports, e.name);
      if (p) enqueue.sendTo('warmRestart', fact({ type: 'stateFile.upsert', port: portRecord(e.name, p) }));
    }),
    removeStateFilePort: sendTo('warmRestart', ({ event }) =>
      fact({ type: 'stateFile.remove', name: (event as LinkEvent).name }),
    ),
    /** After a completed dump the kernel's truth replaces the state file's port set. */
    replaceStateFilePorts: sendTo('warmRestart', ({ context }) => {
      const ports: PortMap = {};
      for (const [name, p] of table.entries(context.ports)) ports[name] = portRecord(name, p);
      return fact({ type: 'stateFile.replace', ports });
    }),
    /** syncvisor_portsync_ports; provided by the composition. */
    reportPortCount: (_, _params: { count: number }) => undefined,
    /** A (re)started portsync asks the source for a fresh dump, so it re-syncs from the kernel's truth. */
    requestDump: enqueueActions(({ system, enqueue }) => {
      const source = system.get('netlinkSource');
      if (source) enqueue.sendTo(source, { type: 'netlink.requestDump' });
    }),
    /** child.ready to the supervisor. */
    reportReadiness: sendParent((_, params: { ready: boolean }): ChildReadyEvent => ({
      type: 'child.ready',
      id: 'portsync',
      ready: params.ready,
    })),
    /** A NEWLINK whose ifindex belongs to a known port under another name: the port was renamed; drop the old name. */
    forgetRenamedPort: enqueueActions(({ context, event, enqueue }) => {
      const e = event as LinkEvent;
      if (e.kind !== 'new') return;
      const old = table.get(context.byIfindex, String(e.ifindex));
      if (old === undefined || old === e.name || table.get(context.ports, old)?.ifindex !== e.ifindex) return;
      const ports = table.remove(context.ports, old);
      enqueue.assign({
        ports,
        byIfindex: table.remove(context.byIfindex, String(e.ifindex)),
        pending: table.remove(context.pending, old),
      });
      enqueue(stateDbDeletes([old]));
      enqueue.sendTo('warmRestart', fact({ type: 'stateFile.remove', name: old }));
      enqueue({ type: 'reportPortCount', params: { count: table.size(ports) } } as never);
    }),
    rememberPort: assign(({ context, event }) => {
      const e = event as LinkEvent;
      const before = table.get(context.ports, e.name);
      let byIfindex = context.byIfindex;
      // The same name with a new ifindex (deleted and re-created while we missed the DELLINK): drop the old entry.
      if (before && before.ifindex !== e.ifindex && table.get(byIfindex, String(before.ifindex)) === e.name) {
        byIfindex = table.remove(byIfindex, String(before.ifindex));
      }
      const unchanged =
        before &&
        before.ifindex === e.ifindex &&
        before.flags === e.flags &&
        before.mtu === e.mtu &&
        before.carrierChanges === e.carrierChanges;
      const seen = context.dump && table.set(context.dump.seen, e.name, true);
      return {
        ports: unchanged ? context.ports : table.set(context.ports, e.name, portStateOf(e)),
        byIfindex: table.set(byIfindex, String(e.ifindex), e.name),
        dump: context.dump && seen !== context.dump.seen ? { ...context.dump, seen: seen! } : context.dump,
      };
    }),
    /** A published link was seen: it counts toward PortInitDone. */
    markPortSeen: assign(({ context, event }) => {
      const { name } = event as LinkEvent;
      return {
        everSeen: table.set(context.everSeen, name, true),
        configUnseen: context.configUnseen && table.remove(context.configUnseen, name),
      };
    }),
    /** A link whose APPL_DB entry was not seen yet: pending (no STATE_DB entry, not counted toward PortInitDone). */
    markPortPending: assign(({ context, event }) => {
      const { name } = event as LinkEvent;
      if (table.has(context.pending, name)) return {};
      return { pending: table.set(context.pending, name, true), appDbChecks: 0 };
    }),
    /** Link rules off: every pending link is published at once. */
    publishAllPending: enqueueActions(({ context, enqueue }) => {
      const { assign: next, ops } = publishOps(context, table.keys(context.pending));
      enqueue.assign({ ...next, pending: table.empty<true>() });
      if (ops.length > 0) enqueue({ type: 'writeStateDb', params: { ops } } as never);
    }),
    /** orchagent's consumer has popped these: their STATE_DB entries are written (portsyncd: linksync.cpp). */
    publishConsumedLinks: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'redis.appDbPorts') return;
      const { assign: next, ops } = publishOps(context, event.present);
      enqueue.assign({ ...next, appDbChecks: context.appDbChecks + 1 });
      if (ops.length > 0) enqueue({ type: 'writeStateDb', params: { ops } } as never);
    }),
    countAppDbCheck: assign({ appDbChecks: ({ context }) => context.appDbChecks + 1 }),
    /** Which pending links have their APPL_DB PORT_TABLE entry now. */
    askAppDbPorts: sendTo('redisTables', ({ context }) => ({
      type: 'redis.checkAppDbPorts' as const,
      names: table.keys(context.pending),
    })),
    /**
     * Redis came back empty (link rules on): APPL_DB has no consumed entries any more, so every link is pending again
     * and counts toward PortInitDone only once orchagent has popped it again.
     */
    unpublishAll: assign(({ context }) => ({
      pending: table.fromKeys(table.keys(context.ports)),
      everSeen: table.empty<true>(),
      appDbChecks: 0,
    })),
    /** The link rules, once CONFIG_DB was read (auto: on iff DEVICE_METADATA|localhost exists), and the switch type. */
    resolveLinkRules: assign(({ context, event }) => {
      if (event.type !== 'redis.initialState') return {};
      const present = event.deviceMetadata?.present ?? false;
      const rules =
        context.linkRules ?? (context.linkRulesMode === 'auto' ? (present ? 'on' : 'off') : context.linkRulesMode);
      return { linkRules: rules, switchType: event.deviceMetadata?.switchType };
    }),
    /**
     * SONiC cold start: every known Ethernet* netdev existed before us; it is set admin down (by the netlink source)
     * and its ifindex is ignored from now on. Its STATE_DB entry and state-file record go (an ignored link has none).
     */
    retireOldNetdevs: enqueueActions(({ context, enqueue, system }) => {
      const links: NetlinkRetireOldNetdevsEvent['links'] = [];
      for (const [name, p] of table.entries(context.ports)) {
        if (name.startsWith(FRONT_PANEL_PREFIX)) links.push({ ifindex: p.ifindex, name });
      }
      let { ports, byIfindex, pending, oldIfindexes } = context;
      for (const { ifindex, name } of links) {
        ports = table.remove(ports, name);
        pending = table.remove(pending, name);
        byIfindex = table.remove(byIfindex, String(ifindex));
        oldIfindexes = table.set(oldIfindexes, String(ifindex), true);
        enqueue.sendTo('warmRestart', fact({ type: 'stateFile.remove', name }));
      }
      enqueue.assign({ ports, byIfindex, pending, oldIfindexes });
      if (links.length > 0) enqueue(stateDbDeletes(links.map((l) => l.name)));
      enqueue({ type: 'reportPortCount', params: { count: table.size(ports) } } as never);
      const source = system.get('netlinkSource');
      if (source) enqueue.sendTo(source, { type: 'netlink.retireOldNetdevs', links } as NetlinkRetireOldNetdevsEvent);
    }),
    /** The source's answer: its process-wide set (a restarted portsync learns the first run's set here). */
    forgetOldNetdevs: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'netlink.oldNetdevsRetired') return;
      let { ports, byIfindex, pending, oldIfindexes } = context;
      const removed: string[] = [];
      for (const ifindex of event.ifindexes) {
        const key = String(ifindex);
        oldIfindexes = table.set(oldIfindexes, key, true);
        const name = table.get(byIfindex, key);
        if (name !== undefined && table.get(ports, name)?.ifindex === ifindex) {
          ports = table.remove(ports, name);
          pending = table.remove(pending, name);
          byIfindex = table.remove(byIfindex, key);
          removed.push(name);
          enqueue.sendTo('warmRestart', fact({ type: 'stateFile.remove', name }));
        }
      }
      enqueue.assign({ ports, byIfindex, pending, oldIfindexes });
      if (removed.length > 0) {
        enqueue(stateDbDeletes(removed));
        enqueue({ type: 'reportPortCount', params: { count: table.size(ports) } } as never);
      }
    }),
    forgetPort: assign(({ context, event }) => {
      const { name } = event as LinkEvent;
      const gone = table.get(context.ports, name);
      const byIfindex =
        gone && table.get(context.byIfindex, String(gone.ifindex)) === name
          ? table.remove(context.byIfindex, String(gone.ifindex))
          : context.byIfindex;
      const seen = context.dump && table.remove(context.dump.seen, name);
      return {
        ports: table.remove(context.ports, name),
        byIfindex,
        pending: table.remove(context.pending, name),
        unconfirmed: table.remove(context.unconfirmed, name),
        dump: context.dump && seen !== context.dump.seen ? { ...context.dump, seen: seen! } : context.dump,
      };
    }),
    trackDump: assign({
      dump: ({ event }) =>
        event.type === 'netlink.dumpStarted' ? { seq: event.seq, seen: table.empty<true>() } : undefined,
    }),
    /** Messages were lost: the running dump proves nothing; the source dumps again. */
    forgetDump: assign({ dump: undefined }),
    /** A completed dump is the truth: known ports it did not show are gone. */
    pruneMissingPorts: enqueueActions(({ context, enqueue }) => {
      // Once per completed dump, O(ports): the seen names as one Set (table.has per port is a bucket scan each,
      // ~n²/64 compares, which was most of dump done → EOIU with 16,384 ports).
      const seen = table.keySet(context.dump?.seen ?? table.empty<true>());
      const gone = new Set<string>();
      for (const name of table.keys(context.ports)) if (!seen.has(name)) gone.add(name);
      for (const name of table.keys(context.unconfirmed)) if (!seen.has(name)) gone.add(name);
      let { ports, byIfindex } = context;
      for (const name of gone) {
        const p = table.get(ports, name);
        if (p && table.get(byIfindex, String(p.ifindex)) === name)
          byIfindex = table.remove(byIfindex, String(p.ifindex));
        ports = table.remove(ports, name);
      }
      let pending = context.pending;
      for (const name of gone) pending = table.remove(pending, name);
      enqueue.assign({
        ports,
        byIfindex,
        pending,
        unconfirmed: table.empty<true>(),
        dump: undefined,
      });
      if (gone.size > 0) enqueue(stateDbDeletes([...gone]));
      enqueue({ type: 'reportPortCount', params: { count: table.size(ports) } } as never);
    }),
    /** CONFIG_DB was read; STATE_DB ports no dump has confirmed wait for the first completed dump. */
    recordInitialState: assign(({ context, event }) => {
      if (event.type !== 'redis.initialState') return {};
      const pattern = compiled(context.portPattern);
      const stale = event.statePorts.filter((name) => pattern.test(name) && !table.has(context.ports, name));
      const configPorts = Object.keys(event.configPorts);
      const configUnseen = table.fromKeys(configPorts.filter((name) => !table.has(context.everSeen, name)));
      return { configPorts, configUnseen, unconfirmed: table.fromKeys(stale) };
    }),
    /** A dump already completed without these STATE_DB ports: they are gone. */
    deleteStaleStatePorts: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'redis.initialState') return;
      const pattern = compiled(context.portPattern);
      const stale = event.statePorts.filter((name) => pattern.test(name) && !table.has(context.ports, name));
      const configPorts = Object.keys(event.configPorts);
      const configUnseen = table.fromKeys(configPorts.filter((name) => !table.has(context.everSeen, name)));
      enqueue.assign({ configPorts, configUnseen });
      if (stale.length > 0) enqueue(stateDbDeletes(stale));
    }),
    /** Cold start (and a rebuild after Redis came back empty): CONFIG_DB PORT → APP_DB, then PortConfigDone. */
    copyConfigToAppDb: enqueueActions(({ context, enqueue }) => {
      const config = context.configSnapshot;
      if (config) enqueue({ type: 'writeAppDb', params: { ops: configCopyOps(config) } } as never);
    }),
    keepConfigSnapshot: assign(({ event }) =>
      event.type === 'redis.initialState'
        ? { configSnapshot: event.configPorts, appDbAdminStatus: event.appDbAdminStatus ?? [] }
        : {},
    ),
    /**
     * portsyncd at a cold start: the configured ports whose APPL_DB PORT_TABLE:<name> already has admin_status are
     * taken out of the set PortInitDone waits for (they need not be seen as netdevs first).
     */
    dropPortsWithAppDbAdminStatus: assign(({ context }) => {
      if (!context.configUnseen || context.appDbAdminStatus.length === 0) return { appDbAdminStatus: [] };
      let configUnseen = context.configUnseen;
      for (const name of context.appDbAdminStatus) configUnseen = table.remove(configUnseen, name);
      return { configUnseen, appDbAdminStatus: [] };
    }),
    /** syncvisor_portsync_missing_ports and a log line naming them; provided by the composition. */
    reportMissingPorts: (_, _params: { names: string[]; awaitingAppDb?: string[] }) => undefined,
    /** A warm start waits for every expected port (portsyncd applies the admin_status rule at a cold start only). */
    forgetAppDbAdminStatus: assign({ appDbAdminStatus: () => [] as string[] }),
    countMissingReport: assign({ missingReports: ({ context }) => context.missingReports + 1 }),
    askToFlush: sendTo('redisTables', ({ context }) => ({
      type: 'redis.drain' as const,
      timeoutMs: context.drainTimeoutMs,
    })),
    askForFinalSave: sendTo('warmRestart', { type: 'shutdown' }),
  },
}).createMachine({
  id: 'portsync',
  context: ({ input }) => ({
    portPattern: input.portPattern,
    drainTimeoutMs: input.drainTimeoutMs ?? 4_000,
    ports: table.empty<PortState>(),
    byIfindex: table.empty<string>(),
    everSeen: table.empty<true>(),
    configPorts: undefined,
    configUnseen: undefined,
    unconfirmed: table.empty<true>(),
    dump: undefined,
    configSnapshot: undefined,
    missingReports: 0,
    linkRulesMode: input.linkRules ?? 'off',
    linkRules: (input.linkRules ?? 'off') === 'auto' ? undefined : ((input.linkRules ?? 'off') as 'on' | 'off'),
    switchType: undefined,
    pending: table.empty<true>(),
    appDbChecks: 0,
    oldIfindexes: table.empty<true>(),
    appDbAdminStatus: [],
    dumpPrepareMs: input.dumpPrepareMs,
    warmRestart: {
      ...(input.warmRestart ?? {}),
      eoiuMode: input.eoiuMode ?? input.warmRestart?.eoiuMode ?? 'dump',
      stateFileDebounceMs: input.stateFileDebounceMs ?? input.warmRestart?.stateFileDebounceMs ?? 200,
    },
  }),
  invoke: [
    { id: 'redisTables', systemId: 'redisTables', src: 'redisTables' },
    {
      id: 'warmRestart',
      systemId: 'warmRestart',
      src: 'warmRestart',
      input: ({ context }) => context.warmRestart,
    },
  ],
  initial: 'running',
  states: {
    running: {
      type: 'parallel',
      on: {
        shutdown: { target: 'draining' },
      },
      states: {
        links: {
          // The kernel's links: every netlink.link lands here, whatever the other phases are.
          initial: 'tracking',
          states: {
            tracking: {
              on: {
                'netlink.link': [
                  // portsyncd: "Ignoring message for old interface".
                  { guard: 'isOldNetdev' },
                  { guard: 'isIgnoredLink', actions: 'forgetRenamedPort' },
                  {
                    guard: 'isDelLink',
                    actions: [
                      'removeStateFilePort',
                      'forgetPort',
                      { type: 'writeStateDb', params: linkDelOps },
                      { type: 'reportPortCount', params: portCount },
                    ],
                  },
                  {
                    guard: 'isPublishedLink',
                    actions: [
                      'forgetRenamedPort',
                      'rememberPort',
                      'markPortSeen',
                      'upsertStateFilePort',
                      { type: 'writeStateDb', params: linkSetOps },
                      { type: 'reportPortCount', params: portCount },
                    ],
                  },
                  {
                    // Its APPL_DB PORT_TABLE entry was not seen yet: no STATE_DB entry until it is (appDbWatch).
                    actions: [
                      'forgetRenamedPort',
                      'rememberPort',
                      'markPortPending',
                      'upsertStateFilePort',
                      { type: 'reportPortCount', params: portCount },
                    ],
                  },
                ],
                'netlink.dumpStarted': { actions: 'trackDump' },
                'netlink.overflow': { actions: 'forgetDump' },
              },
            },
          },
        },
        redis: {
          initial: 'waiting',
          states: {
            waiting: { on: { 'redis.up': 'up' } },
            up: { on: { 'redis.down': 'down' } },
            // Redis may come back empty (a restarted server): the writers only hold what changed while it was away,
            // so every known port is written again; HSET of an unchanged value is harmless.
            down: { on: { 'redis.up': { target: 'up', actions: 'rewriteStateDb' } } },
          },
        },
        startMode: {
          // warmRestart's decision; a rebuild after Redis came back empty is a cold start.
          initial: 'undecided',
          on: { 'redis.emptied': '.cold' },
          states: {
            undecided: {
              on: {
                'warmRestart.decided': [{ guard: 'decidedWarm', target: 'warm' }, { target: 'cold' }],
              },
            },
            cold: {},
            warm: {},
          },
        },
        appDb: {
          initial: 'loadingConfig',
          // Redis came back empty: APP_DB is rebuilt from a fresh CONFIG_DB read, as a cold start would.
          on: { 'redis.emptied': '.loadingConfig' },
          states: {
            loadingConfig: {
              on: {
                'redis.initialState': [
                  {
                    guard: 'dumpCompleted',
                    target: 'deciding',
                    actions: ['resolveLinkRules', 'deleteStaleStatePorts', 'keepConfigSnapshot', 'tellConfigPorts'],
                  },
                  {
                    target: 'deciding',
                    actions: ['resolveLinkRules', 'recordInitialState', 'keepConfigSnapshot', 'tellConfigPorts'],
                  },
                ],
              },
            },
            deciding: {
              // portsyncd's APP_DB contract: CONFIG_DB is copied (and PortConfigDone written) on a cold start only.
              always: [
                {
                  guard: 'isColdStart',
                  target: 'waitingForPorts',
                  actions: ['dropPortsWithAppDbAdminStatus', 'copyConfigToAppDb'],
                },
                { guard: 'isWarmStart', target: 'waitingForPorts', actions: 'forgetAppDbAdminStatus' },
              ],
            },
            waitingForPorts: {
              always: { guard: 'portInitDoneDue', target: 'portInitDone' },
              after: {
                missingPortsReport: {
                  target: 'waitingForPorts',
                  reenter: true,
                  actions: [
                    'countMissingReport',
                    {
                      type: 'reportMissingPorts',
                      params: ({ context }) => {
                        const names = table.keys(context.configUnseen ?? table.empty()).sort();
                        return { names, awaitingAppDb: names.filter((n) => table.has(context.pending, n)) };
                      },
                    },
                  ],
                },
              },
            },
            portInitDone: {
              entry: [
                assign({ configSnapshot: undefined, missingReports: 0 }),
                { type: 'writeAppDb', params: { ops: [{ op: 'set', key: 'PortInitDone', fields: { lanes: '0' } }] } },
                { type: 'reportMissingPorts', params: { names: [] } },
              ],
            },
          },
        },
        oldNetdevs: {
          // portsyncd at a cold start: the Ethernet* netdevs that exist already are set down and ignored for the life
          // of the process (the platform creates them anew); kept on a warm start, on a DPU, with the link rules off.
          initial: 'deciding',
          states: {
            deciding: {
              always: [
                { guard: 'linkRulesOff', target: 'kept' },
                { guard: 'isWarmStart', target: 'kept' },
                { guard: and(['configRead', 'isDpu']), target: 'kept' },
                {
                  guard: and(['configRead', 'linkRulesOn', 'isColdStart', 'dumpCompleted']),
                  target: 'retiring',
                  actions: 'retireOldNetdevs',
                },
              ],
            },
            retiring: {
              on: { 'netlink.oldNetdevsRetired': { target: 'retired', actions: 'forgetOldNetdevs' } },
              after: { retireTimeout: 'retired' },
            },
            retired: {},
            kept: {},
          },
        },
        appDbWatch: {
          // portsyncd writes STATE_DB for a link, and counts it toward PortInitDone, only once APPL_DB
          // PORT_TABLE:<name> exists (orchagent's consumer popped it). Pending links are checked, and re-checked after
          // 100 ms doubling to 1 s while any stays pending: one pipelined EXISTS per pending link (bounded by the links).
          initial: 'idle',
          on: { 'redis.emptied': { guard: 'linkRulesOn', actions: 'unpublishAll' } },
          states: {
            idle: {
              always: [
                { guard: and(['linkRulesOff', 'hasPendingLinks']), actions: 'publishAllPending' },
                { guard: and(['linkRulesOn', 'hasPendingLinks', 'oldNetdevsSettled']), target: 'checking' },
              ],
            },
            checking: {
              entry: 'askAppDbPorts',
              on: {
                'redis.appDbPorts': { target: 'rechecking', actions: 'publishConsumedLinks' },
                'redis.appDbPortsFailed': { target: 'rechecking', actions: 'countAppDbCheck' },
              },
              // An answer that never comes (a lost reply) must not stop the watch.
              after: { appDbCheckTimeout: { target: 'rechecking', actions: 'countAppDbCheck' } },
            },
            rechecking: {
              always: { guard: not('hasPendingLinks'), target: 'idle' },
              after: { appDbRecheck: 'checking' },
            },
          },
        },
        dumpRequest: {
          // The initial dump is asked for once the start-up reads are answered (or after dumpPrepareMs): thousands
          // of link events in a row would otherwise queue those answers, and the warm restart after them, behind it.
          initial: 'preparing',
          states: {
            preparing: {
              always: { guard: or(['dumpsAtOnce', 'startupReadsDone']), target: 'requested' },
              after: { dumpPrepareTimeout: 'requested' },
            },
            requested: { entry: 'requestDump' },
          },
        },
        initialSync: {
          // Before the dump region: a dump's end reaches warmRestart (its EOIU, then the gate's APPL_DB read) before
          // the dump region's work on it (O(ports)), so that the read's round trip runs while that work does.
          initial: 'inProgress',
          states: {
            inProgress: {
              on: {
                'netlink.link': { actions: 'tellWarmRestart' },
                'netlink.dumpStarted': { actions: 'tellWarmRestart' },
                'netlink.dumpDone': { actions: 'tellWarmRestart' },
                'netlink.overflow': { actions: 'tellWarmRestart' },
                'warmRestart.synced': [
                  // The state file gets the kernel's truth of the dump that completed meanwhile now, after the
                  // reconciliation (its saves were held until then): not inside the window dump done → reconciled.
                  { guard: 'dumpCompleted', target: 'done', actions: 'replaceStateFilePorts' },
                  { target: 'done' },
                ],
              },
            },
            done: {},
          },
        },
        dump: {
          initial: 'initialDump',
          states: {
            // A completed dump prunes the ports it did not show and replaces the state file's ports with the
            // kernel's; while the initial sync runs the replace waits for warmRestart.synced (initialSync region).
            initialDump: {
              on: {
                'netlink.dumpDone': [
                  {
                    guard: and(['completesTrackedDump', 'initialSyncDone']),
                    target: 'synced',
                    actions: ['pruneMissingPorts', 'replaceStateFilePorts'],
                  },
                  { guard: 'completesTrackedDump', target: 'synced', actions: 'pruneMissingPorts' },
                  { guard: 'isInterruptedDump', actions: 'forgetDump' },
                ],
              },
            },
            synced: {
              on: {
                'netlink.dumpDone': [
                  {
                    guard: and(['completesTrackedDump', 'initialSyncDone']),
                    actions: ['pruneMissingPorts', 'replaceStateFilePorts'],
                  },
                  { guard: 'completesTrackedDump', actions: 'pruneMissingPorts' },
                  { guard: 'isInterruptedDump', actions: 'forgetDump' },
                ],
              },
            },
          },
        },
        readiness: {
          initial: 'notReady',
          states: {
            notReady: {
              always: {
                guard: 'allPhasesReady',
                target: 'ready',
                actions: { type: 'reportReadiness', params: { ready: true } },
              },
            },
            ready: {
              always: {
                guard: not('allPhasesReady'),
                target: 'notReady',
                actions: { type: 'reportReadiness', params: { ready: false } },
              },
            },
          },
        },
      },
    },
    draining: {
      // The final state-file save and the Redis flush run side by side; portsync is final when both are over.
      type: 'parallel',
      entry: ['askForFinalSave', 'askToFlush'],
      onDone: 'stopped',
      after: { drainTimeout: 'stopped' },
      states: {
        stateFile: {
          initial: 'saving',
          states: {
            // warmRestart is final once the state file's final save on shutdown is over.
            saving: { on: { 'xstate.done.actor.warmRestart': 'saved' } },
            saved: { type: 'final' },
          },
        },
        redis: {
          initial: 'flushing',
          states: {
            flushing: { on: { 'redis.drained': 'flushed' } },
            flushed: { type: 'final' },
          },
        },
      },
    },
    stopped: { type: 'final' },
  },
});

export type PortsyncActor = ActorRefFrom<typeof portsyncMachine>;
