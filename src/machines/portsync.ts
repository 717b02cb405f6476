// portsync: kernel link state → SONiC Redis (ARCHITECTURE.md §4), cold path. It receives the netlink.* events the
// supervisor forwards from netlinkSource and decides what to write; the I/O is the 'redisTables' actor, which the
// composition provides (src/actors/redisTables.ts). Every APP_DB write goes through the one 'writeAppDb' action so
// that a warm-restart gate can later hold it; on cold start the gate is open.
import { assign, enqueueActions, fromCallback, sendTo, setup, type ActorRefFrom } from 'xstate';
import type { ChildReadyEvent, NetlinkSourceEvent } from './sourceEvents.js';

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
  | { type: 'redis.drain'; timeoutMs: number };

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

export type PortsyncEvent = NetlinkSourceEvent | RedisTablesEvent | PortsyncShutdownEvent;

export interface PortsyncInput {
  /** portsync.portPattern: names that match are synced. */
  portPattern: string;
  /** Upper bound of the final flush on shutdown (default 4000 ms). */
  drainTimeoutMs?: number;
}

export interface PortState {
  ifindex: number;
  flags: number;
  mtu: number;
}

interface TrackedDump {
  seq: number;
  /** Ports seen since the dump started (dumped, or announced live meanwhile). */
  seen: Record<string, true>;
}

export interface PortsyncContext {
  portPattern: string;
  drainTimeoutMs: number;
  /** Synced ports the kernel has now. */
  ports: Record<string, PortState>;
  /** Every synced port name seen since start (PortInitDone waits for all CONFIG_DB ports to be in it). */
  everSeen: Record<string, true>;
  /** CONFIG_DB PORT names, once read. */
  configPorts: string[] | undefined;
  /** STATE_DB port names found at start that no completed dump has confirmed yet. */
  unconfirmed: Record<string, true>;
  /** The dump whose start we saw; only such a dump can prove a port is gone. */
  dump: TrackedDump | undefined;
  dumpsCompleted: number;
  redisUp: boolean;
  /** The readiness last reported to the parent. */
  ready: boolean;
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
    /** Owns the Redis connections and writers; provided by src/compose/portsync.ts. */
    redisTables: fromCallback<RedisTablesCommand>(() => undefined),
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
    allConfigPortsSeen: ({ context }) => (context.configPorts ?? []).every((name) => context.everSeen[name]),
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
    /** The one seam for APP_DB writes (a warm-restart gate replaces this to hold writes). */
    writeAppDb: sendTo('redisTables', (_, params: { ops: TableWrite[] }) => ({
      type: 'redis.write' as const,
      table: 'app' as const,
      ops: params.ops,
    })),
    /** syncvisor_portsync_ports; provided by the composition. */
    reportPortCount: (_, _params: { count: number }) => undefined,
    /** A (re)started portsync asks the source for a fresh dump, so it re-syncs from the kernel's truth. */
    requestDump: enqueueActions(({ system, enqueue }) => {
      const source = system.get('netlinkSource');
      if (source) enqueue.sendTo(source, { type: 'netlink.requestDump' });
    }),
    reportReadiness: enqueueActions(({ context, self, enqueue }) => {
      const ready = context.dumpsCompleted > 0 && context.redisUp;
      if (ready === context.ready) return;
      enqueue.assign({ ready });
      if (self._parent) {
        enqueue.sendParent({ type: 'child.ready', id: 'portsync', ready } satisfies ChildReadyEvent);
      }
    }),
    /** A NEWLINK whose ifindex belongs to a known port under another name: the port was renamed; drop the old name. */
    forgetRenamedPort: enqueueActions(({ context, event, enqueue }) => {
      const e = event as LinkEvent;
      if (e.kind !== 'new') return;
      const old = Object.keys(context.ports).filter((n) => n !== e.name && context.ports[n]!.ifindex === e.ifindex);
      if (old.length === 0) return;
      const ports = { ...context.ports };
      for (const name of old) delete ports[name];
      enqueue.assign({ ports });
      enqueue(stateDbDeletes(old));
      enqueue({ type: 'reportPortCount', params: { count: Object.keys(ports).length } } as never);
    }),
    rememberPort: assign(({ context, event }) => {
      const e = event as LinkEvent;
      return {
        ports: { ...context.ports, [e.name]: { ifindex: e.ifindex, flags: e.flags, mtu: e.mtu } },
        everSeen: context.everSeen[e.name] ? context.everSeen : { ...context.everSeen, [e.name]: true as const },
        dump: context.dump && { ...context.dump, seen: { ...context.dump.seen, [e.name]: true as const } },
      };
    }),
    forgetPort: assign(({ context, event }) => {
      const { name } = event as LinkEvent;
      const { [name]: _gone, ...ports } = context.ports;
      const { [name]: _unseen, ...seen } = context.dump?.seen ?? {};
      const { [name]: _confirmed, ...unconfirmed } = context.unconfirmed;
      return { ports, unconfirmed, dump: context.dump && { ...context.dump, seen } };
    }),
    trackDump: assign({
      dump: ({ event }) => (event.type === 'netlink.dumpStarted' ? { seq: event.seq, seen: {} } : undefined),
    }),
    /** Messages were lost: the running dump proves nothing; the source dumps again. */
    forgetDump: assign({ dump: undefined }),
    /** A completed dump is the truth: known ports it did not show are gone. */
    pruneMissingPorts: enqueueActions(({ context, enqueue }) => {
      const seen = context.dump?.seen ?? {};
      const gone = [...new Set([...Object.keys(context.ports), ...Object.keys(context.unconfirmed)])].filter(
        (name) => !seen[name],
      );
      const ports = { ...context.ports };
      for (const name of gone) delete ports[name];
      enqueue.assign({ ports, unconfirmed: {}, dump: undefined, dumpsCompleted: context.dumpsCompleted + 1 });
      if (gone.length > 0) enqueue(stateDbDeletes(gone));
      enqueue({ type: 'reportPortCount', params: { count: Object.keys(ports).length } } as never);
    }),
    applyInitialState: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'redis.initialState') return;
      const pattern = compiled(context.portPattern);
      const stale = event.statePorts.filter((name) => pattern.test(name) && !context.ports[name]);
      if (context.dumpsCompleted > 0) {
        // A dump already completed without these ports: they are gone.
        if (stale.length > 0) enqueue(stateDbDeletes(stale));
        enqueue.assign({ configPorts: Object.keys(event.configPorts) });
      } else {
        enqueue.assign({
          configPorts: Object.keys(event.configPorts),
          unconfirmed: Object.fromEntries(stale.map((name) => [name, true as const])),
        });
      }
    }),
  },
}).createMachine({
  id: 'portsync',
  context: ({ input }) => ({
    portPattern: input.portPattern,
    drainTimeoutMs: input.drainTimeoutMs ?? 4_000,
    ports: {},
    everSeen: {},
    configPorts: undefined,
    unconfirmed: {},
    dump: undefined,
    dumpsCompleted: 0,
    redisUp: false,
    ready: false,
  }),
  invoke: { id: 'redisTables', src: 'redisTables' },
  initial: 'running',
  states: {
    running: {
      type: 'parallel',
      entry: 'requestDump',
      on: {
        'netlink.link': [
          { guard: 'isIgnoredLink', actions: 'forgetRenamedPort' },
          {
            guard: 'isDelLink',
            actions: [
              'forgetPort',
              { type: 'writeStateDb', params: ({ event }) => ({ ops: [{ op: 'del', key: event.name }] }) },
              { type: 'reportPortCount', params: ({ context }) => ({ count: Object.keys(context.ports).length }) },
            ],
          },
          {
            actions: [
              'forgetRenamedPort',
              'rememberPort',
              {
                type: 'writeStateDb',
                params: ({ event }) => ({
                  ops: [{ op: 'set', key: event.name, fields: statePortFields(event.flags, event.mtu) }],
                }),
              },
              { type: 'reportPortCount', params: ({ context }) => ({ count: Object.keys(context.ports).length }) },
            ],
          },
        ],
        'netlink.dumpStarted': { actions: 'trackDump' },
        'netlink.overflow': { actions: 'forgetDump' },
        'redis.up': { actions: [assign({ redisUp: true }), 'reportReadiness'] },
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
                    actions: ['pruneMissingPorts', 'reportReadiness'],
                  },
                  { guard: ({ event }) => event.interrupted, actions: 'forgetDump' },
                ],
              },
            },
            synced: {
              on: {
                'netlink.dumpDone': [
                  { guard: 'completesTrackedDump', actions: 'pruneMissingPorts' },
                  { guard: ({ event }) => event.interrupted, actions: 'forgetDump' },
                ],
              },
            },
          },
        },
      },
    },
    draining: {
      entry: sendTo('redisTables', ({ context }) => ({
        type: 'redis.drain' as const,
        timeoutMs: context.drainTimeoutMs,
      })),
      on: { 'redis.drained': 'stopped' },
      after: { drainTimeout: 'stopped' },
    },
    stopped: { type: 'final' },
  },
});

export type PortsyncActor = ActorRefFrom<typeof portsyncMachine>;
