// portsync, model-based: every state and bounded simple paths over link, dump, Redis and shutdown events, replayed on
// a real actor with a fake redisTables child that applies the writes to an in-memory STATE_DB / APP_DB.
// Invariants: STATE_DB holds exactly the known ports with their fields (plus only ports not yet disproved by a
// completed dump); nothing reaches APP_DB before CONFIG_DB was read; PortInitDone comes once, after PortConfigDone,
// and only when every CONFIG_DB port was seen; readiness = a completed dump, Redis up and the initial sync over.
// The warmRestart child is replaced (its behaviour is tested in test/machines/portsync/portsync.test.ts and its own
// model tests): its gate passes writes through, and its decision "the initial sync is over" is a model event of its
// own (warmRestart.synced). The state file never finishes its final save here, so draining ends by the drain timeout
// (the normal end is tested in test/machines/portsync/portsync.test.ts).
import { describe, expect } from 'vitest';
import { createMachine, fromCallback, type AnyMachineSnapshot } from 'xstate';
import {
  IFF_RUNNING,
  IFF_UP,
  portsyncMachine,
  statePortFields,
  type PortsyncContext,
  type RedisTablesCommand,
  type TableWrite,
} from '../../../src/machines/portsync/portsync.js';
import * as table from '../../../src/machines/portsync/portTable.js';
import type { NetlinkLinkEvent } from '../../../src/machines/supervisor/sourceEvents.js';
import { modelPathTests, type ModelSpec } from '../../support/modelTesting.js';

const log = {
  state: new Map<string, Record<string, string>>(),
  appWrites: [] as TableWrite[],
  drains: 0,
  counts: [] as number[],
  readiness: [] as boolean[],
};
const seedState = () => new Map([['Ethernet96', statePortFields(IFF_UP, 9100)]]);

const apply = (db: Map<string, Record<string, string>>, ops: TableWrite[]) => {
  for (const op of ops) {
    if (op.op === 'del') db.delete(op.key);
    else db.set(op.key, { ...(db.get(op.key) ?? {}), ...op.fields });
  }
};

const machine = portsyncMachine.provide({
  actors: {
    redisTables: fromCallback<RedisTablesCommand>(({ receive }) => {
      receive((cmd) => {
        if (cmd.type === 'redis.drain') log.drains += 1;
        else if (cmd.type !== 'redis.write') return;
        else if (cmd.table === 'state') apply(log.state, cmd.ops);
        else log.appWrites.push(...cmd.ops);
      });
    }),
    warmRestart: createMachine({
      on: {
        'appDb.write': {
          actions: ({ event }) => void log.appWrites.push(...(event as unknown as { ops: TableWrite[] }).ops),
        },
      },
    }) as never,
  },
  actions: {
    reportPortCount: (_, p: { count: number }) => void log.counts.push(p.count),
    reportReadiness: (_, p: { ready: boolean }) => void log.readiness.push(p.ready),
  },
});

const link = (name: string, over: Partial<NetlinkLinkEvent> = {}): NetlinkLinkEvent => ({
  type: 'netlink.link',
  kind: 'new',
  name,
  ifindex: name === 'Ethernet0' ? 10 : name === 'Ethernet4' ? 14 : 99,
  flags: IFF_UP | IFF_RUNNING,
  change: 0,
  mtu: 9100,
  operstate: 6,
  master: 0,
  linkKind: 'veth',
  inDump: false,
  seq: 0,
  ...over,
});

const ctx = (s: AnyMachineSnapshot) => s.context as PortsyncContext;

const spec: ModelSpec<typeof machine> = {
  machine,
  // dumpPrepareMs: the initial dump waits for the start-up reads (as the daemon runs it), so both dumpRequest states are
  // visited; the request at once (no dumpPrepareMs) is tested in portsync.test.ts.
  input: { portPattern: '^Ethernet\\d+$', drainTimeoutMs: 1000, dumpPrepareMs: 1000 },
  // The initial-sync flag doubles the states of the cold-path model.
  limit: 60_000,
  events: {
    'netlink.link': [
      link('Ethernet0'),
      link('Ethernet0', { flags: IFF_UP, mtu: 1500 }),
      link('Ethernet4', { inDump: true, seq: 1 }),
      link('Ethernet0', { kind: 'del' }),
      link('Ethernet4', { kind: 'del', master: 3 }),
      link('eth0'),
    ],
    'netlink.dumpStarted': [{ type: 'netlink.dumpStarted', seq: 1, reason: 'request' }],
    'netlink.dumpDone': [
      { type: 'netlink.dumpDone', seq: 1, interrupted: false },
      { type: 'netlink.dumpDone', seq: 1, interrupted: true },
    ],
    'netlink.overflow': [{ type: 'netlink.overflow', source: 'kernel' }],
    'redis.up': [{ type: 'redis.up' }],
    'redis.down': [{ type: 'redis.down' }],
    'redis.initialState': [
      { type: 'redis.initialState', configPorts: { Ethernet0: { lanes: '1' } }, statePorts: ['Ethernet96'] },
    ],
    shutdown: [{ type: 'shutdown' }],
    'redis.drained': [{ type: 'redis.drained', complete: true }],
    'warmRestart.decided': [
      { type: 'warmRestart.decided', mode: 'cold' },
      { type: 'warmRestart.decided', mode: 'warm' },
    ],
    'warmRestart.synced': [{ type: 'warmRestart.synced', mode: 'cold', reason: 'cold', set: 0, del: 0 }],
  },
  serialize: (s) => {
    const c = ctx(s);
    return JSON.stringify([
      s.value,
      s.status,
      table.toRecord(c.ports),
      table.keys(c.everSeen).sort(),
      c.configPorts,
      table.keys(c.unconfirmed).sort(),
      c.dump && [c.dump.seq, table.keys(c.dump.seen).sort()],
      table.keys(c.pending).sort(),
      table.keys(c.oldIfindexes).sort(),
      c.linkRules,
    ]);
  },
  project: (s) => {
    const c = ctx(s);
    return {
      ports: table.toRecord(c.ports),
      unconfirmed: table.keys(c.unconfirmed).sort(),
      dump: c.dump && { seq: c.dump.seq, seen: table.keys(c.dump.seen).sort() },
      ready: s.matches({ running: { readiness: 'ready' } }),
    };
  },
  reset: () => {
    log.state = seedState();
    log.appWrites = [];
    log.drains = 0;
    log.counts = [];
    log.readiness = [];
  },
  effects: () => log,
  check: ({ snapshot }) => {
    const c = ctx(snapshot);
    // STATE_DB: every known port with its fields; other keys only while no completed dump disproved them.
    for (const [name, p] of table.entries(c.ports)) {
      // A pending link (its APPL_DB entry not seen yet, link rules on) has no STATE_DB entry; a published one has its.
      if (table.has(c.pending, name)) expect(log.state.has(name), `pending ${name} in STATE_DB`).toBe(false);
      else expect(log.state.get(name), `STATE_DB ${name}`).toEqual(statePortFields(p.flags, p.mtu));
      // A retired (old) netdev is never tracked again.
      expect(table.has(c.oldIfindexes, String(p.ifindex)), `old ifindex of ${name}`).toBe(false);
      // The ifindex index names exactly the known ports.
      expect(table.get(c.byIfindex, String(p.ifindex)), `ifindex of ${name}`).toBe(name);
    }
    expect(table.size(c.byIfindex)).toBe(table.size(c.ports));
    for (const name of log.state.keys()) {
      if (table.has(c.ports, name)) continue;
      expect(name, 'STATE_DB key that is not a known port').toBe('Ethernet96');
      if (c.configPorts !== undefined) expect(table.has(c.unconfirmed, 'Ethernet96')).toBe(true);
    }
    // The unseen CONFIG_DB ports are the configured ports not seen yet.
    if (c.configPorts !== undefined) {
      expect(table.keys(c.configUnseen!).sort()).toEqual(c.configPorts.filter((p) => !table.has(c.everSeen, p)).sort());
    }
    const dumped = snapshot.matches({ running: { dump: 'synced' } });
    if (dumped && c.configPorts !== undefined) expect(log.state.has('Ethernet96')).toBe(false);
    // APP_DB.
    const keys = log.appWrites.map((w) => w.key);
    // portsyncd's contract: CONFIG_DB is copied (then PortConfigDone) on a cold start only, PortInitDone always.
    // (The start mode is a region of running: once draining or stopped, what was written then stays as it was.)
    const running = snapshot.matches('running');
    const cold = snapshot.matches({ running: { startMode: 'cold' } });
    const copied = c.configPorts !== undefined && cold && !snapshot.matches({ running: { appDb: 'loadingConfig' } });
    if (running && (c.configPorts === undefined || !cold)) expect(keys.filter((k) => k !== 'PortInitDone')).toEqual([]);
    if (copied) expect(keys.slice(0, 2)).toEqual(['Ethernet0', 'PortConfigDone']);
    if (running && keys.includes('PortInitDone') && !cold)
      expect(snapshot.matches({ running: { initialSync: 'done' } })).toBe(true);
    const initDone = keys.filter((k) => k === 'PortInitDone').length;
    expect(initDone).toBeLessThanOrEqual(1);
    if (initDone === 1) expect(table.has(c.everSeen, 'Ethernet0')).toBe(true);
    if (snapshot.matches({ running: { appDb: 'portInitDone' } })) expect(initDone).toBe(1);
    // Readiness and the port gauge.
    if (snapshot.matches('running')) {
      const ready = snapshot.matches({ running: { readiness: 'ready' } });
      const redisUp = snapshot.matches({ running: { redis: 'up' } });
      const synced = snapshot.matches({ running: { initialSync: 'done' } });
      const initDone = snapshot.matches({ running: { appDb: 'portInitDone' } });
      expect(ready).toBe(dumped && redisUp && initDone && synced);
      // The parent heard every change, and only changes.
      expect(log.readiness.at(-1) ?? false).toBe(ready);
      log.readiness.forEach((r, i) => expect(r).toBe(i % 2 === 0));
    }
    if (log.counts.length > 0) expect(log.counts.at(-1)).toBe(table.keys(c.ports).length);
    if (snapshot.matches('draining') || snapshot.status === 'done') expect(log.drains).toBe(1);
  },
};

// portsyncd's link rules on (a SONiC device): links wait for their consumed APPL_DB entry, a cold start retires the
// old Ethernet* netdevs. Fewer link events keep the graph small; the invariants are the same check.
const sonicSpec: ModelSpec<typeof machine> = {
  ...spec,
  input: { portPattern: '^Ethernet\\d+$', drainTimeoutMs: 1000, linkRules: 'on' },
  limit: 60_000,
  events: {
    'netlink.link': [link('Ethernet0'), link('Ethernet0', { ifindex: 20 }), link('Ethernet0', { kind: 'del' })],
    'netlink.dumpStarted': [{ type: 'netlink.dumpStarted', seq: 1, reason: 'request' }],
    'netlink.dumpDone': [{ type: 'netlink.dumpDone', seq: 1, interrupted: false }],
    'redis.up': [{ type: 'redis.up' }],
    'redis.initialState': [
      {
        type: 'redis.initialState',
        configPorts: { Ethernet0: { lanes: '1' } },
        statePorts: ['Ethernet96'],
        deviceMetadata: { present: true },
      },
      {
        type: 'redis.initialState',
        configPorts: { Ethernet0: { lanes: '1' } },
        statePorts: ['Ethernet96'],
        deviceMetadata: { present: true, switchType: 'dpu' },
      },
    ],
    'redis.appDbPorts': [{ type: 'redis.appDbPorts', present: ['Ethernet0'] }],
    'redis.appDbPortsFailed': [{ type: 'redis.appDbPortsFailed', message: 'fake failure' }],
    'netlink.oldNetdevsRetired': [{ type: 'netlink.oldNetdevsRetired', ifindexes: [10] }],
    'warmRestart.decided': [
      { type: 'warmRestart.decided', mode: 'cold' },
      { type: 'warmRestart.decided', mode: 'warm' },
    ],
    'warmRestart.synced': [{ type: 'warmRestart.synced', mode: 'cold', reason: 'cold', set: 0, del: 0 }],
  },
};

describe('portsync model (xstate/graph)', () => {
  modelPathTests(
    spec,
    {
      minShortestPaths: 21,
      // Per-transition paths off: over this graph they take minutes of replays, too long for every test run.
      transitionPaths: 0,
      simplePaths: { maxDepth: 12, max: 400, min: 101 },
      // Shared CI cores: the replays of the shortest paths alone take 40 s to 2 min.
      timeoutMs: 240_000,
    },
    // The link-rule regions (old netdevs, APPL_DB watch) are explored with the rules on.
    [sonicSpec],
  );
});
