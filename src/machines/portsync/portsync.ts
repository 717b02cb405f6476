// portsync: kernel link state → SONiC Redis (ARCHITECTURE.md §4). It receives the netlink.* events the supervisor
// forwards from netlinkSource and decides what to write; the I/O is the 'redisTables' actor, which the composition
// provides (src/actors/portsync/redisTables.ts). Warm restart (docs/warm-restart.md) is four child machines, each with an
// explicit id and systemId:
//   stateFile     loads/saves the port state file; portsync feeds it link changes (upsert/remove, replace per dump)
//   eoiuDetector  gets every netlink.* event until the initial sync is over; portsync tells it the expected ports
//   warmRestart   decides warm/cold, runs the timeout guard, keeps WARM_RESTART_TABLE|portsyncd (through portsync)
//   appDbGate     every APP_DB write ('writeAppDb') goes through it: held while a warm initial sync runs, then
//                 reconciled against APP_DB, then passed through to redisTables
// The children talk to each other through portsync (sendParent → relay), so every edge is visible here. Their I/O
// actors (state file store, Redis reads) are provided by the composition: see portsyncChildren below.
import { assign, enqueueActions, fromCallback, sendParent, sendTo, setup, type ActorRefFrom } from 'xstate';
import { appDbGateMachine, type DesiredOp } from '../warmRestart/appDbGate.js';
import { eoiuDetectorMachine, type EoiuMode } from '../warmRestart/eoiuDetector.js';
import * as table from './portTable.js';
import type { PortTable } from './portTable.js';
import type { ChildReadyEvent, NetlinkSourceEvent } from '../supervisor/sourceEvents.js';
import {
  stateFileMachine,
  type ColdReason,
  type PortMap,
  type PortRecord,
  type StateFileSlot,
} from '../warmRestart/stateFile.js';
import { warmRestartMachine, type WarmRestartInput, type WarmRestartTableState } from '../warmRestart/warmRestart.js';

/** IFF_UP: administratively up. */
export const IFF_UP = 0x1;
/** IFF_RUNNING: operationally up (carrier). */
export const IFF_RUNNING = 0x40;

/** One write to a table, keyed without the table prefix. */
export type TableWrite = { op: 'set'; key: string; fields: Record<string, string> } | { op: 'del'; key: string };

/** Commands portsync sends to its redisTables actor. */
export type RedisTablesCommand =
  | { type: 'redis.write'; table: 'state' | 'app'; ops: TableWrite[] }
  /** Flush everything pending within timeoutMs, then answer redis.drained. */
  | { type: 'redis.drain'; timeoutMs: number }
  /** STATE_DB WARM_RESTART_TABLE|portsyncd state. */
  | { type: 'redis.warmRestartState'; state: WarmRestartTableState }
  /** STATE_DB WARM_RESTART_TABLE|portsyncd restore_count += 1. */
  | { type: 'redis.incrementRestoreCount' };

/** What the redisTables actor reports. */
export type RedisTablesEvent =
  | { type: 'redis.up' }
  | { type: 'redis.down' }
  /** Read once, on the first connection: CONFIG_DB PORT entries and the port names STATE_DB holds now. */
  | { type: 'redis.initialState'; configPorts: Record<string, Record<string, string>>; statePorts: string[] }
  | { type: 'redis.drained'; complete: boolean };

export interface PortsyncShutdownEvent {
  type: 'shutdown';
}

/** What the warm-restart children tell portsync (their notify/bookkeeping actions are sendParent). */
export type WarmRestartChildEvent =
  | { type: 'stateFile.loaded'; ports: PortMap; slot: StateFileSlot; savedAt: number }
  | { type: 'stateFile.cold'; reason: ColdReason }
  | { type: 'eoiu.detected'; messagesSeen: number; dumpedInterfaces: number }
  | { type: 'warmRestart.state'; state: WarmRestartTableState }
  | { type: 'warmRestart.incrementRestoreCount' }
  | { type: 'warmRestart.openGate'; reconcile: boolean }
  | { type: 'appDbGate.forward'; ops: DesiredOp[] }
  | { type: 'appDbGate.opened'; set: number; del: number };

export type PortsyncEvent = NetlinkSourceEvent | RedisTablesEvent | PortsyncShutdownEvent | WarmRestartChildEvent;

export interface PortsyncInput {
  /** portsync.portPattern: names that match are synced. */
  portPattern: string;
  /** Upper bound of the final flush on shutdown (default 4000 ms). */
  drainTimeoutMs?: number;
  /** warmRestart.timeoutSecs and sonic.checkEnableTable. */
  warmRestart?: WarmRestartInput;
  /** eoiu.mode (default dump). */
  eoiuMode?: EoiuMode;
  /** stateFile.debounceMs (default 200). */
  stateFileDebounceMs?: number;
}

export interface PortState {
  ifindex: number;
  flags: number;
  mtu: number;
}

interface TrackedDump {
  seq: number;
  /** Ports seen since the dump started (dumped, or announced live meanwhile). */
  seen: PortTable<true>;
}

export interface PortsyncContext {
  portPattern: string;
  drainTimeoutMs: number;
  // The per-port collections are persistent tables (src/machines/portsync/portTable.ts): a netlink.link event costs the same
  // with 4,096 ports as with 4, and no snapshot is ever mutated.
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
  dumpsCompleted: number;
  redisUp: boolean;
  /** Redis has been up before: a later redis.up is a reconnect. */
  redisWasUp: boolean;
  /** The readiness last reported to the parent. */
  ready: boolean;
  warmRestart: WarmRestartInput;
  eoiuMode: EoiuMode;
  stateFileDebounceMs: number;
  /** Port names of the loaded state file ([] when cold); undefined until the stateFile machine answered. */
  stateFilePorts: string[] | undefined;
  /** The expected ports sent to the eoiuDetector (once both the state file and CONFIG_DB are known). */
  expectedPorts: string[] | undefined;
  /** The eoiuDetector fired (kept: warmRestart may not be listening yet). */
  eoiuDetected: boolean;
  /** The gate is open: the initial sync (cold, EOIU or timeout) is over. */
  initialSyncDone: boolean;
  /** Shutdown: the stateFile machine finished its final save. */
  stateSaved: boolean;
  /** Shutdown: redisTables answered redis.drained. */
  redisDrained: boolean;
}

const patterns = new Map<string, RegExp>();
function compiled(pattern: string): RegExp {
  let re = patterns.get(pattern);
  if (!re) {
    re = new RegExp(pattern);
    patterns.set(pattern, re);
  }
  return re;
}

/** STATE_DB PORT_TABLE fields of a link (SONiC portsyncd: state, netdev_oper_status, admin_status, mtu). */
export function statePortFields(flags: number, mtu: number): Record<string, string> {
  return {
    state: 'ok',
    netdev_oper_status: flags & IFF_RUNNING ? 'up' : 'down',
    admin_status: flags & IFF_UP ? 'up' : 'down',
    mtu: String(mtu),
  };
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

/**
 * The ports EOIU waits for: those of the state file that CONFIG_DB still configures (a port removed from the config
 * will not come back; a configured port that never existed would always cost the timeout). Without CONFIG_DB ports,
 * the state file's; without state-file ports, CONFIG_DB's.
 */
export function expectedPortsOf(stateFilePorts: readonly string[], configPorts: readonly string[]): string[] {
  if (stateFilePorts.length === 0) return [...configPorts].sort();
  if (configPorts.length === 0) return [...stateFilePorts].sort();
  const configured = new Set(configPorts);
  return stateFilePorts.filter((p) => configured.has(p)).sort();
}

/**
 * The warm-restart children as portsync wires them: every notification and bookkeeping action goes to portsync
 * (sendParent), which relays it. The composition provides their I/O actors on top of these (machine.provide merges).
 */
export const portsyncChildren = {
  stateFile: stateFileMachine.provide({
    actions: {
      notifyLoaded: sendParent(({ context }) => ({
        type: 'stateFile.loaded' as const,
        ports: table.toRecord(context.ports),
        slot: context.origin === 'backup' ? ('backup' as const) : ('current' as const),
        savedAt: context.savedAt,
      })),
      notifyCold: sendParent(({ context }) => ({
        type: 'stateFile.cold' as const,
        reason: context.coldReason ?? ('missing' as const),
      })),
    },
  }),
  eoiuDetector: eoiuDetectorMachine.provide({
    actions: {
      notifyDetected: sendParent(({ context }) => ({
        type: 'eoiu.detected' as const,
        messagesSeen: context.messagesSeen,
        dumpedInterfaces: context.dumpedInterfaces,
      })),
    },
  }),
  warmRestart: warmRestartMachine.provide({
    actions: {
      setWarmRestartState: sendParent((_, params: { state: WarmRestartTableState }) => ({
        type: 'warmRestart.state' as const,
        state: params.state,
      })),
      incrementRestoreCount: sendParent({ type: 'warmRestart.incrementRestoreCount' }),
      openAppDbGate: sendParent((_, params: { reconcile: boolean }) => ({
        type: 'warmRestart.openGate' as const,
        reconcile: params.reconcile,
      })),
    },
  }),
  appDbGate: appDbGateMachine.provide({
    actions: {
      forwardToAppDb: sendParent((_, params: { ops: DesiredOp[] }) => ({
        type: 'appDbGate.forward' as const,
        ops: params.ops,
      })),
      notifyOpened: sendParent(({ context }) => ({
        type: 'appDbGate.opened' as const,
        set: context.reconciled?.set ?? 0,
        del: context.reconciled?.del ?? 0,
      })),
    },
  }),
};

/** An event for a child looked up with system.get (typed as a plain event object there). */
function event_<T extends { type: string }>(e: T): { type: string } {
  return e;
}

/** Sends to a child by systemId when it is (still) alive: warmRestart is final once the initial sync is over. */
function toChild(systemId: string, event: { type: string }): never {
  return enqueueActions(({ system, enqueue }) => {
    const child = system.get(systemId);
    if (child) enqueue.sendTo(child, event);
  }) as never;
}

// enqueueActions inside setup() cannot name sibling actions in a typed way yet; this builds the same action object.
function stateDbDeletes(keys: string[]): never {
  return { type: 'writeStateDb', params: { ops: keys.map((key) => ({ op: 'del', key })) } } as never;
}

/** Cold start: CONFIG_DB PORT entries → APP_DB PORT_TABLE, then PortConfigDone {count}. */
export function configCopyOps(configPorts: Record<string, Record<string, string>>): TableWrite[] {
  const entries = Object.entries(configPorts);
  const ops: TableWrite[] = entries.map(([key, fields]) => ({ op: 'set', key, fields }));
  ops.push({ op: 'set', key: 'PortConfigDone', fields: { count: String(entries.length) } });
  return ops;
}

export const portsyncMachine = setup({
  types: {
    context: {} as PortsyncContext,
    events: {} as PortsyncEvent,
    input: {} as PortsyncInput,
  },
  actors: {
    /** Owns the Redis connections and writers; provided by src/daemon/portsync.ts. */
    redisTables: fromCallback<RedisTablesCommand>(() => undefined),
    ...portsyncChildren,
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
    allConfigPortsSeen: ({ context }) => (context.configUnseen?.size ?? 0) === 0,
    redisReconnected: ({ context }) => context.redisWasUp,
    completesTrackedDump: ({ context, event }) =>
      event.type === 'netlink.dumpDone' && !event.interrupted && context.dump?.seq === event.seq,
  },
  delays: {
    drainTimeout: ({ context }) => context.drainTimeoutMs + 500,
  },
  actions: {
    /** The one seam for STATE_DB writes. */
    writeStateDb: sendTo('redisTables', (_, params: { ops: TableWrite[] }) => ({
      type: 'redis.write' as const,
      table: 'state' as const,
      ops: params.ops,
    })),
    /** The one seam for APP_DB writes: through the gate, which holds them during a warm initial sync. */
    writeAppDb: sendTo('appDbGate', (_, params: { ops: TableWrite[] }) => ({
      type: 'appDb.write' as const,
      ops: params.ops,
    })),
    /** What the open gate lets through (or its cold-start flush) goes to Redis. */
    writeAppDbThroughGate: sendTo('redisTables', (_, params: { ops: TableWrite[] }) => ({
      type: 'redis.write' as const,
      table: 'app' as const,
      ops: params.ops,
    })),
    /** Every netlink.* event reaches the eoiuDetector until the initial sync is over. */
    feedEoiuDetector: enqueueActions(({ context, event, system, enqueue }) => {
      if (context.initialSyncDone) return;
      const detector = system.get('eoiuDetector');
      if (detector) enqueue.sendTo(detector, event);
    }),
    /** Once the state file and CONFIG_DB are known: the expected ports go to the eoiuDetector (once). */
    sendExpectedPorts: enqueueActions(({ context, system, enqueue }) => {
      if (context.expectedPorts || !context.stateFilePorts || !context.configPorts) return;
      const ports = expectedPortsOf(context.stateFilePorts, context.configPorts);
      enqueue.assign({ expectedPorts: ports });
      const detector = system.get('eoiuDetector');
      if (detector) enqueue.sendTo(detector, event_({ type: 'eoiu.setExpectedPorts', ports }));
    }),
    /** The state file follows the kernel: a link seen or changed. */
    upsertStateFilePort: enqueueActions(({ context, event, system, enqueue }) => {
      const e = event as LinkEvent;
      const p = table.get(context.ports, e.name);
      const stateFile = system.get('stateFile');
      if (p && stateFile) enqueue.sendTo(stateFile, event_({ type: 'stateFile.upsert', port: portRecord(e.name, p) }));
    }),
    removeStateFilePort: enqueueActions(({ event, system, enqueue }) => {
      const stateFile = system.get('stateFile');
      if (stateFile) enqueue.sendTo(stateFile, event_({ type: 'stateFile.remove', name: (event as LinkEvent).name }));
    }),
    /** After a completed dump the kernel's truth replaces the state file's port set. */
    replaceStateFilePorts: enqueueActions(({ context, system, enqueue }) => {
      const stateFile = system.get('stateFile');
      if (!stateFile) return;
      const ports: PortMap = {};
      for (const [name, p] of table.entries(context.ports)) ports[name] = portRecord(name, p);
      enqueue.sendTo(stateFile, event_({ type: 'stateFile.replace', ports }));
    }),
    /** syncvisor_portsync_ports; provided by the composition. */
    reportPortCount: (_, _params: { count: number }) => undefined,
    /** A (re)started portsync asks the source for a fresh dump, so it re-syncs from the kernel's truth. */
    requestDump: enqueueActions(({ system, enqueue }) => {
      const source = system.get('netlinkSource');
      if (source) enqueue.sendTo(source, { type: 'netlink.requestDump' });
    }),
    reportReadiness: enqueueActions(({ context, self, enqueue }) => {
      // Ready once the kernel was dumped, Redis is up, CONFIG_DB was read (its APP_DB copy is on its way) and the
      // initial sync is over.
      const ready =
        context.dumpsCompleted > 0 && context.redisUp && context.configPorts !== undefined && context.initialSyncDone;
      if (ready === context.ready) return;
      enqueue.assign({ ready });
      if (self._parent) {
        enqueue.sendParent({ type: 'child.ready', id: 'portsync', ready } satisfies ChildReadyEvent);
      }
    }),
    /** A NEWLINK whose ifindex belongs to a known port under another name: the port was renamed; drop the old name. */
    forgetRenamedPort: enqueueActions(({ context, event, system, enqueue }) => {
      const e = event as LinkEvent;
      if (e.kind !== 'new') return;
      const old = table.get(context.byIfindex, String(e.ifindex));
      if (old === undefined || old === e.name || table.get(context.ports, old)?.ifindex !== e.ifindex) return;
      const ports = table.remove(context.ports, old);
      enqueue.assign({ ports, byIfindex: table.remove(context.byIfindex, String(e.ifindex)) });
      enqueue(stateDbDeletes([old]));
      const stateFile = system.get('stateFile');
      if (stateFile) enqueue.sendTo(stateFile, event_({ type: 'stateFile.remove', name: old }));
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
      const unchanged = before && before.ifindex === e.ifindex && before.flags === e.flags && before.mtu === e.mtu;
      const seen = context.dump && table.set(context.dump.seen, e.name, true);
      return {
        ports: unchanged
          ? context.ports
          : table.set(context.ports, e.name, { ifindex: e.ifindex, flags: e.flags, mtu: e.mtu }),
        byIfindex: table.set(byIfindex, String(e.ifindex), e.name),
        everSeen: table.set(context.everSeen, e.name, true),
        configUnseen: context.configUnseen && table.remove(context.configUnseen, e.name),
        dump: context.dump && seen !== context.dump.seen ? { ...context.dump, seen: seen! } : context.dump,
      };
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
      // Once per completed dump: O(ports) here is fine.
      const seen = context.dump?.seen ?? table.empty<true>();
      const gone = new Set<string>();
      for (const name of table.keys(context.ports)) if (!table.has(seen, name)) gone.add(name);
      for (const name of table.keys(context.unconfirmed)) if (!table.has(seen, name)) gone.add(name);
      let { ports, byIfindex } = context;
      for (const name of gone) {
        const p = table.get(ports, name);
        if (p && table.get(byIfindex, String(p.ifindex)) === name)
          byIfindex = table.remove(byIfindex, String(p.ifindex));
        ports = table.remove(ports, name);
      }
      enqueue.assign({
        ports,
        byIfindex,
        unconfirmed: table.empty<true>(),
        dump: undefined,
        dumpsCompleted: context.dumpsCompleted + 1,
      });
      if (gone.size > 0) enqueue(stateDbDeletes([...gone]));
      enqueue({ type: 'reportPortCount', params: { count: table.size(ports) } } as never);
    }),
    applyInitialState: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'redis.initialState') return;
      const pattern = compiled(context.portPattern);
      const stale = event.statePorts.filter((name) => pattern.test(name) && !table.has(context.ports, name));
      const configPorts = Object.keys(event.configPorts);
      const configUnseen = table.fromKeys(configPorts.filter((name) => !table.has(context.everSeen, name)));
      if (context.dumpsCompleted > 0) {
        // A dump already completed without these ports: they are gone.
        if (stale.length > 0) enqueue(stateDbDeletes(stale));
        enqueue.assign({ configPorts, configUnseen });
      } else {
        enqueue.assign({ configPorts, configUnseen, unconfirmed: table.fromKeys(stale) });
      }
    }),
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
    dumpsCompleted: 0,
    redisUp: false,
    redisWasUp: false,
    ready: false,
    warmRestart: input.warmRestart ?? {},
    eoiuMode: input.eoiuMode ?? 'dump',
    stateFileDebounceMs: input.stateFileDebounceMs ?? 200,
    stateFilePorts: undefined,
    expectedPorts: undefined,
    eoiuDetected: false,
    initialSyncDone: false,
    stateSaved: false,
    redisDrained: false,
  }),
  invoke: [
    { id: 'redisTables', src: 'redisTables' },
    {
      id: 'stateFile',
      systemId: 'stateFile',
      src: 'stateFile',
      input: ({ context }) => ({ debounceMs: context.stateFileDebounceMs }),
      // It is done only after its final save on shutdown: see 'draining'. A broken state file store must not take
      // portsync down (it is a cold start without saves then), nor hold up the shutdown.
      onError: { actions: assign({ stateSaved: true }) },
    },
    {
      id: 'eoiuDetector',
      systemId: 'eoiuDetector',
      src: 'eoiuDetector',
      input: ({ context }) => ({ mode: context.eoiuMode, awaitExpectedPorts: true }),
    },
    {
      id: 'warmRestart',
      systemId: 'warmRestart',
      src: 'warmRestart',
      input: ({ context }) => context.warmRestart,
    },
    { id: 'appDbGate', systemId: 'appDbGate', src: 'appDbGate', input: {} },
  ],
  on: {
    // Relays between the warm-restart children (see portsyncChildren).
    'stateFile.loaded': {
      actions: [
        assign({ stateFilePorts: ({ event }) => Object.keys(event.ports) }),
        toChild('warmRestart', { type: 'stateFile.loaded' }),
        'sendExpectedPorts',
      ],
    },
    'stateFile.cold': {
      actions: [
        assign({ stateFilePorts: [] }),
        enqueueActions(({ event, system, enqueue }) => {
          const warm = system.get('warmRestart');
          if (warm) enqueue.sendTo(warm, event_({ type: 'stateFile.cold', reason: event.reason }));
        }),
        'sendExpectedPorts',
      ],
    },
    'eoiu.detected': {
      actions: [assign({ eoiuDetected: true }), toChild('warmRestart', { type: 'eoiu.detected' })],
    },
    'warmRestart.state': {
      actions: [
        sendTo('redisTables', ({ event }) => ({ type: 'redis.warmRestartState' as const, state: event.state })),
        // EOIU may have come before warmRestart reached initialSyncInProgress (it ignores it elsewhere): repeat it.
        enqueueActions(({ context, event, system, enqueue }) => {
          const warm = system.get('warmRestart');
          if (event.state === 'restored' && context.eoiuDetected && warm) {
            enqueue.sendTo(warm, { type: 'eoiu.detected' });
          }
        }),
      ],
    },
    'warmRestart.incrementRestoreCount': {
      actions: sendTo('redisTables', { type: 'redis.incrementRestoreCount' }),
    },
    'warmRestart.openGate': {
      actions: sendTo('appDbGate', ({ event }) => ({ type: 'appDbGate.open' as const, reconcile: event.reconcile })),
    },
    'appDbGate.forward': {
      actions: { type: 'writeAppDbThroughGate', params: ({ event }) => ({ ops: event.ops }) },
    },
    'appDbGate.opened': {
      actions: [
        assign({ initialSyncDone: true }),
        toChild('warmRestart', { type: 'appDbGate.opened' }),
        'reportReadiness',
      ],
    },
  },
  initial: 'running',
  states: {
    running: {
      type: 'parallel',
      entry: 'requestDump',
      on: {
        'netlink.link': [
          { guard: 'isIgnoredLink', actions: ['feedEoiuDetector', 'forgetRenamedPort'] },
          {
            guard: 'isDelLink',
            actions: [
              'feedEoiuDetector',
              'removeStateFilePort',
              'forgetPort',
              { type: 'writeStateDb', params: ({ event }) => ({ ops: [{ op: 'del', key: event.name }] }) },
              { type: 'reportPortCount', params: ({ context }) => ({ count: table.size(context.ports) }) },
            ],
          },
          {
            actions: [
              'feedEoiuDetector',
              'forgetRenamedPort',
              'rememberPort',
              'upsertStateFilePort',
              {
                type: 'writeStateDb',
                params: ({ event }) => ({
                  ops: [{ op: 'set', key: event.name, fields: statePortFields(event.flags, event.mtu) }],
                }),
              },
              { type: 'reportPortCount', params: ({ context }) => ({ count: table.size(context.ports) }) },
            ],
          },
        ],
        'netlink.dumpStarted': { actions: ['feedEoiuDetector', 'trackDump'] },
        'netlink.overflow': { actions: ['feedEoiuDetector', 'forgetDump'] },
        'redis.up': [
          {
            // Redis may come back empty (a restarted server): the writers only hold what changed while it was away,
            // so every known port is written again; HSET of an unchanged value is harmless.
            guard: 'redisReconnected',
            actions: [
              assign({ redisUp: true }),
              {
                type: 'writeStateDb',
                params: ({ context }) => ({
                  ops: table.entries(context.ports).map(([key, p]) => ({
                    op: 'set' as const,
                    key,
                    fields: statePortFields(p.flags, p.mtu),
                  })),
                }),
              },
              'reportReadiness',
            ],
          },
          { actions: [assign({ redisUp: true, redisWasUp: true }), 'reportReadiness'] },
        ],
        'redis.down': { actions: [assign({ redisUp: false }), 'reportReadiness'] },
        shutdown: { target: 'draining' },
      },
      states: {
        appDb: {
          initial: 'loadingConfig',
          states: {
            loadingConfig: {
              on: {
                'redis.initialState': {
                  target: 'waitingForPorts',
                  actions: [
                    'applyInitialState',
                    { type: 'writeAppDb', params: ({ event }) => ({ ops: configCopyOps(event.configPorts) }) },
                    'sendExpectedPorts',
                    'reportReadiness',
                  ],
                },
              },
            },
            waitingForPorts: {
              always: { guard: 'allConfigPortsSeen', target: 'portInitDone' },
            },
            portInitDone: {
              entry: {
                type: 'writeAppDb',
                params: { ops: [{ op: 'set', key: 'PortInitDone', fields: { lanes: '0' } }] },
              },
            },
          },
        },
        dump: {
          initial: 'initialDump',
          states: {
            initialDump: {
              on: {
                'netlink.dumpDone': [
                  {
                    guard: 'completesTrackedDump',
                    target: 'synced',
                    actions: ['feedEoiuDetector', 'pruneMissingPorts', 'replaceStateFilePorts', 'reportReadiness'],
                  },
                  { guard: ({ event }) => event.interrupted, actions: ['feedEoiuDetector', 'forgetDump'] },
                  { actions: 'feedEoiuDetector' },
                ],
              },
            },
            synced: {
              on: {
                'netlink.dumpDone': [
                  {
                    guard: 'completesTrackedDump',
                    actions: ['feedEoiuDetector', 'pruneMissingPorts', 'replaceStateFilePorts'],
                  },
                  { guard: ({ event }) => event.interrupted, actions: ['feedEoiuDetector', 'forgetDump'] },
                  { actions: 'feedEoiuDetector' },
                ],
              },
            },
          },
        },
      },
    },
    draining: {
      // The final state-file save and the Redis flush run side by side; portsync is final when both are over.
      entry: [
        toChild('stateFile', { type: 'shutdown' }),
        sendTo('redisTables', ({ context }) => ({
          type: 'redis.drain' as const,
          timeoutMs: context.drainTimeoutMs,
        })),
      ],
      always: { guard: ({ context }) => context.stateSaved && context.redisDrained, target: 'stopped' },
      on: {
        'redis.drained': { actions: assign({ redisDrained: true }) },
        'xstate.done.actor.stateFile': { actions: assign({ stateSaved: true }) },
      },
      after: { drainTimeout: 'stopped' },
    },
    stopped: { type: 'final' },
  },
});

export type PortsyncActor = ActorRefFrom<typeof portsyncMachine>;
