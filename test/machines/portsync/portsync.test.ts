import { describe, expect, it } from 'vitest';
import { SimulatedClock, assign, createActor, fromCallback, fromPromise, setup, type AnyEventObject } from 'xstate';
import {
  IFF_RUNNING,
  IFF_UP,
  portsyncMachine,
  type PortsyncEvent,
  type RedisTablesCommand,
  type TableWrite,
} from '../../../src/machines/portsync/portsync.js';
import type { RedisReplyEvent } from '../../../src/machines/portsync/events.js';
import { warmRestartChildren, warmRestartMachine } from '../../../src/machines/warmRestart/warmRestart.js';
import * as table from '../../../src/machines/portsync/portTable.js';
import * as decode from '../../../src/io/netlink/decode.js';
import type { NetlinkLinkEvent } from '../../../src/machines/supervisor/sourceEvents.js';
import type { CleanupOutput, LoadOutput, PortMap, StateFileSlot } from '../../../src/machines/warmRestart/stateFile.js';
import type { SonicWarmRestartConfig } from '../../../src/machines/warmRestart/warmRestart.js';

function link(name: string, over: Partial<NetlinkLinkEvent> = {}): NetlinkLinkEvent {
  return {
    type: 'netlink.link',
    kind: 'new',
    name,
    // A stable ifindex per name (a rename is simulated by passing the old one).
    ifindex: 1000 + [...name].reduce((h, c) => (h * 31 + c.charCodeAt(0)) % 100_000, 7),
    flags: IFF_UP | IFF_RUNNING,
    change: 0,
    mtu: 9100,
    operstate: 6,
    master: 0,
    linkKind: 'veth',
    inDump: false,
    seq: 0,
    ...over,
  };
}

const settle = () => new Promise((r) => setTimeout(r, 0));

interface StartOptions {
  drainReply?: boolean;
  counts?: number[];
  /** Ports of a valid state file (warm start); undefined: no state file (cold start). */
  stateFile?: PortMap;
  /** APP_DB PORT_TABLE content before the start (what readAppDb returns). */
  appDb?: Record<string, Record<string, string>>;
  /** readSonicConfig result, or a promise to resolve it later. */
  sonic?: SonicWarmRestartConfig | Promise<SonicWarmRestartConfig>;
  timeoutSecs?: number;
  portPattern?: string;
  missing?: string[][];
  /** sonic.linkRules (default: the machine's, off). */
  linkRules?: 'auto' | 'on' | 'off';
  /** Names whose APPL_DB PORT_TABLE:<name> exists (what redis.checkAppDbPorts finds); mutable. */
  consumed?: Set<string>;
  /** reportMissingPorts params. */
  missingDetail?: { names: string[]; awaitingAppDb?: string[] }[];
}

/**
 * Starts portsync with fakes: redisTables records what it is asked to write (APP_DB writes applied to an in-memory
 * APP_DB), the state file store is in memory, readSonicConfig answers `sonic`.
 */
async function start(opts: StartOptions = {}) {
  const state: TableWrite[] = [];
  const app: TableWrite[] = [];
  const warm: string[] = [];
  const saves: PortMap[] = [];
  const appDb: Record<string, Record<string, string>> = { ...(opts.appDb ?? {}) };
  const applyApp = (ops: TableWrite[]) => {
    app.push(...ops);
    for (const op of ops) {
      if (op.op === 'del') delete appDb[op.key];
      else appDb[op.key] = { ...(appDb[op.key] ?? {}), ...op.fields };
    }
  };
  const readiness: boolean[] = [];
  const checks: string[][] = [];
  const fakeTables = fromCallback<RedisTablesCommand>(({ receive, sendBack, system }) => {
    const reply = (to: string, e: RedisReplyEvent) => queueMicrotask(() => system.get(to)?.send(e));
    receive((cmd) => {
      if (cmd.type === 'redis.write') {
        if (cmd.table === 'state') state.push(...cmd.ops);
        else applyApp(cmd.ops);
      } else if (cmd.type === 'redis.warmRestartState') warm.push(cmd.state);
      else if (cmd.type === 'redis.restoreCount') warm.push(`restore_count ${cmd.change}`);
      else if (cmd.type === 'redis.readWarmRestartConfig') {
        void Promise.resolve(opts.sonic ?? { enabled: false, hasRestoreCount: false }).then((c) =>
          reply(cmd.replyTo, { type: 'redis.warmRestartConfig', ...c }),
        );
      } else if (cmd.type === 'redis.readAppDb') {
        reply(cmd.replyTo, { type: 'redis.appDbContent', content: structuredClone(appDb) });
      } else if (cmd.type === 'redis.reconcileAppDb') {
        applyApp(cmd.ops);
        reply(cmd.replyTo, { type: 'redis.appDbWritten' });
      } else if (cmd.type === 'redis.checkAppDbPorts') {
        checks.push(cmd.names);
        const present = cmd.names.filter((n) => opts.consumed?.has(n));
        queueMicrotask(() => sendBack({ type: 'redis.appDbPorts', present }));
      } else if (cmd.type === 'redis.drain' && (opts.drainReply ?? true)) {
        sendBack({ type: 'redis.drained', complete: true });
      }
    });
  });
  const clock = new SimulatedClock();
  const machine = portsyncMachine.provide({
    actors: {
      redisTables: fakeTables,
      warmRestart: warmRestartMachine.provide({
        actors: {
          stateFile: warmRestartChildren.stateFile.provide({
            actors: {
              cleanupStale: fromPromise<CleanupOutput>(async () => ({ deleted: [] })),
              loadState: fromPromise<LoadOutput, { slot: StateFileSlot }>(async ({ input }) => {
                if (!opts.stateFile || input.slot === 'backup') throw { reason: 'missing', message: 'no such file' };
                return { savedAt: 1, ports: opts.stateFile };
              }),
              saveState: fromPromise<void, { ports: PortMap; rotate: boolean }>(
                async ({ input }) => void saves.push(input.ports),
              ),
            },
          }),
        },
      }),
    },
    actions: {
      reportPortCount: (_, params) => opts.counts?.push(params.count),
      reportReadiness: (_, params) => void readiness.push(params.ready),
      reportMissingPorts: (_, params) => {
        opts.missing?.push(params.names);
        opts.missingDetail?.push(params);
      },
    },
  });
  const actor = createActor(machine, {
    input: {
      portPattern: opts.portPattern ?? '^(Ethernet|PortChannel)\\d+$',
      ...(opts.linkRules !== undefined ? { linkRules: opts.linkRules } : {}),
      ...(opts.timeoutSecs !== undefined ? { warmRestart: { timeoutSecs: opts.timeoutSecs } } : {}),
    },
    clock,
  });
  actor.start();
  await settle();
  const send = (...events: PortsyncEvent[]) => events.forEach((e) => actor.send(e));
  const ready = () => actor.getSnapshot().matches({ running: { readiness: 'ready' } });
  const warmRestart = () => actor.getSnapshot().children.warmRestart!.getSnapshot();
  return { actor, state, app, appDb, warm, saves, send, clock, ready, warmRestart, readiness, checks };
}

describe('portsync machine', () => {
  it('reads the same IFF_* bits the netlink decoder declares (a runtime constant cannot cross the wall as a type)', () => {
    expect([IFF_UP, IFF_RUNNING]).toEqual([decode.IFF_UP, decode.IFF_RUNNING]);
  });

  it('writes STATE_DB PORT_TABLE from link flags and MTU, and deletes on DELLINK', async () => {
    const { state, send } = await start();
    send(
      link('Ethernet0'),
      link('Ethernet4', { flags: IFF_UP, mtu: 1500 }),
      link('Ethernet8', { flags: 0 }),
      link('Ethernet0', { kind: 'del' }),
    );
    expect(state).toEqual([
      {
        op: 'set',
        key: 'Ethernet0',
        fields: { state: 'ok', netdev_oper_status: 'up', admin_status: 'up', mtu: '9100' },
      },
      {
        op: 'set',
        key: 'Ethernet4',
        fields: { state: 'ok', netdev_oper_status: 'down', admin_status: 'up', mtu: '1500' },
      },
      {
        op: 'set',
        key: 'Ethernet8',
        fields: { state: 'ok', netdev_oper_status: 'down', admin_status: 'down', mtu: '9100' },
      },
      { op: 'del', key: 'Ethernet0' },
    ]);
  });

  it('writes every known port again when Redis comes back (it may have restarted empty)', async () => {
    const { state, send } = await start();
    send({ type: 'redis.up' }, link('Ethernet0'), link('Ethernet4', { flags: IFF_UP, mtu: 1500 }));
    send({ type: 'redis.down' }, link('Ethernet4', { kind: 'del' }), { type: 'redis.up' });
    expect(state.slice(3)).toEqual([
      {
        op: 'set',
        key: 'Ethernet0',
        fields: { state: 'ok', netdev_oper_status: 'up', admin_status: 'up', mtu: '9100' },
      },
    ]);
    // Writes so far: set Ethernet0, set Ethernet4, del Ethernet4 (held while down), then the re-sync of Ethernet0.
    expect(state).toHaveLength(4);
  });

  it('skips names outside portPattern, team links and the DELLINK of a link with a master', async () => {
    const counts: number[] = [];
    const { state, send, actor } = await start({ counts });
    send(
      link('eth0'),
      link('Ethernet0x'),
      link('PortChannel1', { linkKind: 'team' }),
      link('Ethernet0'),
      link('Ethernet0', { kind: 'del', master: 7 }),
    );
    expect(state.map((w) => `${w.op} ${w.key}`)).toEqual(['set Ethernet0']);
    expect(table.keys(actor.getSnapshot().context.ports)).toEqual(['Ethernet0']);
    expect(counts).toEqual([1]);
  });

  it('a renamed link (same ifindex) drops its old name from STATE_DB, also when renamed out of the pattern', async () => {
    const { state, send, actor } = await start();
    send(link('Ethernet0', { ifindex: 3 }), link('Ethernet4', { ifindex: 4 }));
    send(link('Ethernet40', { ifindex: 3 }), link('eth4', { ifindex: 4 }));
    expect(state.slice(2).map((w) => `${w.op} ${w.key}`)).toEqual(['del Ethernet0', 'set Ethernet40', 'del Ethernet4']);
    expect(table.keys(actor.getSnapshot().context.ports)).toEqual(['Ethernet40']);
  });

  it('cold start copies CONFIG_DB ports to APP_DB, then PortConfigDone, then PortInitDone once all are seen', async () => {
    const { app, send } = await start();
    send(link('Ethernet0'));
    send({
      type: 'redis.initialState',
      configPorts: { Ethernet0: { lanes: '1' }, Ethernet4: { lanes: '5' } },
      statePorts: [],
    });
    expect(app).toEqual([
      { op: 'set', key: 'Ethernet0', fields: { lanes: '1' } },
      { op: 'set', key: 'Ethernet4', fields: { lanes: '5' } },
      { op: 'set', key: 'PortConfigDone', fields: { count: '2' } },
    ]);
    send(link('Ethernet8'), link('Ethernet0', { flags: 0 }));
    expect(app).toHaveLength(3);
    send(link('Ethernet4'), link('Ethernet4', { mtu: 1500 }));
    expect(app.slice(3)).toEqual([{ op: 'set', key: 'PortInitDone', fields: { lanes: '0' } }]);
  });

  it('sends PortInitDone at once when CONFIG_DB has no ports', async () => {
    const { app, send } = await start();
    send({ type: 'redis.initialState', configPorts: {}, statePorts: [] });
    expect(app).toEqual([
      { op: 'set', key: 'PortConfigDone', fields: { count: '0' } },
      { op: 'set', key: 'PortInitDone', fields: { lanes: '0' } },
    ]);
  });

  it('a completed re-dump is the truth: ports missing from it are deleted; interrupted dumps prove nothing', async () => {
    const { state, send, actor } = await start();
    send({ type: 'netlink.dumpStarted', seq: 1, reason: 'start' });
    send(link('Ethernet0', { inDump: true, seq: 1 }), link('Ethernet4', { inDump: true, seq: 1 }));
    send({ type: 'netlink.dumpDone', seq: 1, interrupted: false });
    expect(state.filter((w) => w.op === 'del')).toEqual([]);

    // An interrupted dump and a dump broken by an overflow delete nothing.
    send({ type: 'netlink.dumpStarted', seq: 2, reason: 'overflow' });
    send(link('Ethernet0', { inDump: true, seq: 2 }));
    send({ type: 'netlink.dumpDone', seq: 2, interrupted: true });
    send({ type: 'netlink.dumpStarted', seq: 3, reason: 'interrupted' });
    send(link('Ethernet0', { inDump: true, seq: 3 }));
    send({ type: 'netlink.overflow', source: 'kernel' });
    send({ type: 'netlink.dumpDone', seq: 3, interrupted: false });
    expect(state.filter((w) => w.op === 'del')).toEqual([]);

    // The completed re-dump lacks Ethernet4; a live NEWLINK of Ethernet8 during the dump counts as seen.
    send({ type: 'netlink.dumpStarted', seq: 4, reason: 'overflow' });
    send(link('Ethernet8'), link('Ethernet0', { inDump: true, seq: 4 }));
    send({ type: 'netlink.dumpDone', seq: 4, interrupted: false });
    expect(state.filter((w) => w.op === 'del')).toEqual([{ op: 'del', key: 'Ethernet4' }]);
    expect(table.keys(actor.getSnapshot().context.ports).sort()).toEqual(['Ethernet0', 'Ethernet8']);
  });

  it('deletes STATE_DB ports left from a previous run once a completed dump does not show them', async () => {
    const { state, send } = await start();
    send({ type: 'redis.initialState', configPorts: {}, statePorts: ['Ethernet0', 'Ethernet96', 'eth0'] });
    send({ type: 'netlink.dumpStarted', seq: 1, reason: 'request' });
    send(link('Ethernet0', { inDump: true, seq: 1 }));
    send({ type: 'netlink.dumpDone', seq: 1, interrupted: false });
    expect(state.filter((w) => w.op === 'del')).toEqual([{ op: 'del', key: 'Ethernet96' }]);

    // Late initial state (the dump completed first): stale ports go at once.
    const late = await start();
    late.send({ type: 'netlink.dumpStarted', seq: 1, reason: 'start' });
    late.send({ type: 'netlink.dumpDone', seq: 1, interrupted: false });
    late.send({ type: 'redis.initialState', configPorts: {}, statePorts: ['Ethernet12'] });
    expect(late.state.filter((w) => w.op === 'del')).toEqual([{ op: 'del', key: 'Ethernet12' }]);
  });

  it('is ready once the initial dump is done, Redis is up and CONFIG_DB read; reports changes to its parent; asks for a dump', async () => {
    const readiness: boolean[] = [];
    const requests: string[] = [];
    const fakeSource = fromCallback(({ receive }) => receive((e: AnyEventObject) => requests.push(e.type)));
    const parent = setup({
      actors: {
        netlinkSource: fakeSource,
        portsync: portsyncMachine.provide({
          actors: {
            redisTables: fromCallback(() => undefined),
            // Cold and without a state file, so that the initial sync ends as soon as the gate opens.
            warmRestart: warmRestartMachine.provide({
              actions: {
                requestSonicConfig: ({ self }) =>
                  self.send({ type: 'redis.warmRestartConfig', enabled: false, hasRestoreCount: false }),
              },
              actors: {
                stateFile: warmRestartChildren.stateFile.provide({
                  actors: {
                    cleanupStale: fromPromise<CleanupOutput>(async () => ({ deleted: [] })),
                    loadState: fromPromise<LoadOutput, { slot: StateFileSlot }>(async () => {
                      throw { reason: 'missing', message: 'no such file' };
                    }),
                  },
                }),
              },
            }),
          },
        }),
      },
    }).createMachine({
      invoke: [
        { id: 'netlinkSource', systemId: 'netlinkSource', src: 'netlinkSource' },
        { id: 'portsync', systemId: 'portsync', src: 'portsync', input: { portPattern: '^Ethernet\\d+$' } },
      ],
      on: {
        'child.ready': { actions: assign(({ event }) => (readiness.push(event.ready as boolean), {})) },
      },
    });
    const root = createActor(parent).start();
    await settle();
    expect(requests).toEqual(['netlink.requestDump']);
    const fwd = (e: PortsyncEvent) => root.system.get('portsync').send(e);
    fwd({ type: 'redis.up' });
    fwd({ type: 'netlink.dumpStarted', seq: 5, reason: 'request' });
    fwd({ type: 'netlink.dumpDone', seq: 5, interrupted: false });
    expect(readiness).toEqual([]); // CONFIG_DB not read yet: its APP_DB copy has not been written
    fwd({ type: 'redis.initialState', configPorts: {}, statePorts: [] });
    fwd({ type: 'redis.down' });
    fwd({ type: 'redis.up' });
    expect(readiness).toEqual([true, false, true]);
    root.stop();
  });

  it('on shutdown drains pending writes and reaches its final state', async () => {
    const { actor, send } = await start();
    send({ type: 'shutdown' });
    await settle();
    expect(actor.getSnapshot().status).toBe('done');
  });

  it('on shutdown gives up after the drain timeout when Redis never answers', async () => {
    const { actor, send, clock } = await start({ drainReply: false });
    send(link('Ethernet0'), { type: 'shutdown' });
    expect(actor.getSnapshot().matches('draining')).toBe(true);
    clock.increment(4_500);
    expect(actor.getSnapshot().status).toBe('done');
  });
});

/** A state-file record of a link as the fake kernel below reports it. */
function record(name: string, over: Partial<NetlinkLinkEvent> = {}) {
  const l = link(name, over);
  return {
    name,
    adminState: l.flags & IFF_UP ? ('up' as const) : ('down' as const),
    operState: l.flags & IFF_RUNNING ? ('up' as const) : ('down' as const),
    flags: l.flags,
    mtu: l.mtu,
    ifindex: l.ifindex,
  };
}

describe('portsync with its warm-restart children', () => {
  const warmEnabled = { enabled: true, hasRestoreCount: true };
  const config = { Ethernet0: { lanes: '1', speed: '100000' }, Ethernet4: { lanes: '5', speed: '100000' } };
  // APP_DB as the previous run left it: Ethernet4 was reconfigured since, Ethernet8 left the configuration.
  const previousAppDb = {
    Ethernet0: { lanes: '1', speed: '100000' },
    Ethernet4: { lanes: '5', speed: '40000' },
    Ethernet8: { lanes: '9', speed: '100000' },
    PortConfigDone: { count: '3' },
    PortInitDone: { lanes: '0' },
  };
  const dump = (seq: number, names: string[]): PortsyncEvent[] => [
    { type: 'netlink.dumpStarted', seq, reason: 'request' },
    ...names.map((n) => link(n, { inDump: true, seq })),
    { type: 'netlink.dumpDone', seq, interrupted: false },
  ];

  it('cold start: APP_DB written at once, WARM_RESTART_TABLE disabled, restore_count set to "0"', async () => {
    const { app, warm, send, ready, warmRestart } = await start();
    send({ type: 'redis.up' }, { type: 'redis.initialState', configPorts: config, statePorts: [] });
    expect(app.map((w) => `${w.op} ${w.key}`)).toEqual(['set Ethernet0', 'set Ethernet4', 'set PortConfigDone']);
    expect(warm).toEqual(['disabled', 'restore_count reset']);
    send(...dump(1, ['Ethernet0', 'Ethernet4']));
    expect(app.map((w) => w.key).at(-1)).toBe('PortInitDone');
    expect(ready()).toBe(true);
    expect(warmRestart().matches({ running: { decision: 'complete' } })).toBe(true);
  });

  it("warm start (SONiC's contract): no CONFIG_DB copy, nothing deleted, PortInitDone sent again after EOIU", async () => {
    const files = { Ethernet0: record('Ethernet0'), Ethernet4: record('Ethernet4'), Ethernet12: record('Ethernet12') };
    const { app, appDb, warm, send, ready, warmRestart } = await start({
      stateFile: files,
      appDb: previousAppDb,
      sonic: warmEnabled,
    });
    expect(warm).toEqual(['initialized', 'restore_count increment', 'restored']);
    send({ type: 'redis.up' }, { type: 'redis.initialState', configPorts: config, statePorts: [] });
    // Ethernet12 (state file, not configured) is not waited for; Ethernet4 (configured, in the file) is.
    expect(warmRestart().context.expectedPorts).toEqual(['Ethernet0', 'Ethernet4']);
    send({ type: 'netlink.dumpStarted', seq: 1, reason: 'request' }, link('Ethernet0', { inDump: true, seq: 1 }));
    send({ type: 'netlink.dumpDone', seq: 1, interrupted: false });
    await settle();
    // The dump is done but Ethernet4 was not seen yet: still held, nothing written.
    expect(app).toEqual([]);
    expect(ready()).toBe(false);
    send(link('Ethernet4'));
    await settle();
    // The CONFIG_DB change of Ethernet4 and the removal of Ethernet8 are portmgrd's business, not ours.
    expect(app).toEqual([{ op: 'set', key: 'PortInitDone', fields: { lanes: '0' } }]);
    expect(appDb).toEqual(previousAppDb);
    expect(warm).toEqual(['initialized', 'restore_count increment', 'restored', 'reconciled']);
    expect(ready()).toBe(true);
    expect(warmRestart().matches({ running: { decision: 'complete' } })).toBe(true);
  });

  it('warm start without EOIU completes by the timeout guard; nothing is written before', async () => {
    const files = { Ethernet0: record('Ethernet0'), Ethernet4: record('Ethernet4') };
    const { app, warm, send, clock, ready, warmRestart } = await start({
      stateFile: files,
      appDb: previousAppDb,
      timeoutSecs: 3,
      sonic: warmEnabled,
    });
    send({ type: 'redis.up' }, { type: 'redis.initialState', configPorts: config, statePorts: [] });
    send(...dump(1, ['Ethernet0']));
    clock.increment(2_999);
    await settle();
    expect(app).toEqual([]);
    expect(warmRestart().children.appDbGate?.getSnapshot().value).toBe('closed');
    clock.increment(1);
    await settle();
    // Never a DEL of PortInitDone (it would turn orchagent's next warm start cold), nor of a port.
    expect(app).toEqual([]);
    expect(ready()).toBe(false);
    expect(warm.at(-1)).toBe('reconciled');
    // Open: later writes pass through (Ethernet4 appears, every configured port seen → PortInitDone).
    send(link('Ethernet4'));
    expect(app.at(-1)).toEqual({ op: 'set', key: 'PortInitDone', fields: { lanes: '0' } });
    expect(ready()).toBe(true);
  });

  it('warm start: no state-file save during the initial sync and the reconciliation; the first follows them', async () => {
    // Ethernet12 is in the file but gone from the kernel; Ethernet0's MTU changed while down.
    const files = { Ethernet0: record('Ethernet0'), Ethernet4: record('Ethernet4'), Ethernet12: record('Ethernet12') };
    const { saves, warm, send, clock, warmRestart } = await start({
      stateFile: files,
      appDb: previousAppDb,
      sonic: warmEnabled,
    });
    send({ type: 'redis.up' }, { type: 'redis.initialState', configPorts: config, statePorts: [] });
    send({ type: 'netlink.dumpStarted', seq: 1, reason: 'request' });
    send(link('Ethernet0', { inDump: true, seq: 1, mtu: 1500 }));
    // Many throttle periods while the dump runs: the file on disk stays the one that was read.
    clock.increment(5_000);
    await settle();
    expect(saves).toEqual([]);
    expect(warmRestart().children.stateFile?.getSnapshot().value).toBe('holdingChanges');
    send(link('Ethernet4', { inDump: true, seq: 1 }), { type: 'netlink.dumpDone', seq: 1, interrupted: false });
    await settle();
    // Reconciled (EOIU: both expected ports seen), and still no save at that moment.
    expect(warm.at(-1)).toBe('reconciled');
    expect(saves).toEqual([]);
    clock.increment(200);
    await settle();
    // One save, a throttle period after the reconciliation, with the kernel's truth (Ethernet12 gone).
    expect(saves).toEqual([{ Ethernet0: record('Ethernet0', { mtu: 1500 }), Ethernet4: record('Ethernet4') }]);
    // From then on the file follows the kernel as usual.
    send(link('Ethernet4', { mtu: 1500 }));
    clock.increment(200);
    await settle();
    expect(saves).toHaveLength(2);
    expect(saves[1]?.['Ethernet4']).toEqual(record('Ethernet4', { mtu: 1500 }));
  });

  it('warm start: a shutdown before the reconciliation still writes the final save', async () => {
    const files = { Ethernet0: record('Ethernet0'), Ethernet4: record('Ethernet4') };
    const { saves, send, actor } = await start({ stateFile: files, appDb: previousAppDb, sonic: warmEnabled });
    send({ type: 'redis.up' }, { type: 'redis.initialState', configPorts: config, statePorts: [] });
    send(
      { type: 'netlink.dumpStarted', seq: 1, reason: 'request' },
      link('Ethernet0', { inDump: true, seq: 1, mtu: 1500 }),
    );
    await settle();
    expect(saves).toEqual([]);
    send({ type: 'shutdown' });
    await settle();
    expect(saves).toEqual([{ Ethernet0: record('Ethernet0', { mtu: 1500 }), Ethernet4: record('Ethernet4') }]);
    expect(actor.getSnapshot().status).toBe('done');
  });

  it('an EOIU that comes before the warm/cold decision is not lost', async () => {
    let answer: (c: SonicWarmRestartConfig) => void = () => undefined;
    const sonic = new Promise<SonicWarmRestartConfig>((r) => (answer = r));
    const files = { Ethernet0: record('Ethernet0') };
    const { app, warm, send, clock } = await start({ stateFile: files, appDb: { Ethernet0: { lanes: '1' } }, sonic });
    send(
      { type: 'redis.up' },
      { type: 'redis.initialState', configPorts: { Ethernet0: { lanes: '1' } }, statePorts: [] },
    );
    send(...dump(1, ['Ethernet0']));
    await settle();
    expect(warm).toEqual([]);
    answer({ enabled: true, hasRestoreCount: true });
    await settle();
    await settle();
    expect(warm).toEqual(['initialized', 'restore_count increment', 'restored', 'reconciled']);
    // A warm start writes no PortConfigDone; PortInitDone is sent again.
    expect(app.map((w) => `${w.op} ${w.key}`)).toEqual(['set PortInitDone']);
    clock.increment(600_000);
    expect(warm.at(-1)).toBe('reconciled');
  });

  it('the state file follows the kernel, and shutdown saves it once more before portsync is final', async () => {
    const { saves, send, clock, actor } = await start();
    send({ type: 'redis.up' }, { type: 'redis.initialState', configPorts: {}, statePorts: [] });
    send(...dump(1, ['Ethernet0', 'Ethernet4']));
    clock.increment(200);
    await settle();
    expect(Object.keys(saves.at(-1) ?? {}).sort()).toEqual(['Ethernet0', 'Ethernet4']);
    send(link('Ethernet4', { kind: 'del' }), link('Ethernet0', { mtu: 1500 }));
    const before = saves.length;
    send({ type: 'shutdown' });
    await settle();
    expect(saves.length).toBe(before + 1);
    expect(saves.at(-1)).toEqual({ Ethernet0: record('Ethernet0', { mtu: 1500 }) });
    expect(actor.getSnapshot().status).toBe('done');
  });

  it('with 4,096 ports a link event copies one bucket per table, and earlier snapshots stay as they were', async () => {
    const counts: number[] = [];
    const { send, actor, saves, clock } = await start({ counts });
    const names = Array.from({ length: 4096 }, (_, i) => `Ethernet${i * 4}`);
    send({ type: 'netlink.dumpStarted', seq: 1, reason: 'start' });
    names.forEach((name, i) => send(link(name, { ifindex: 10 + i, inDump: true, seq: 1 })));
    send({ type: 'netlink.dumpDone', seq: 1, interrupted: false });
    const before = actor.getSnapshot().context;
    const frozen = JSON.stringify(table.toRecord(before.ports));
    send(link('Ethernet400', { ifindex: 110, flags: IFF_UP, mtu: 1500 }));
    const after = actor.getSnapshot().context;
    const copied = (a: table.PortTable<unknown>, b: table.PortTable<unknown>) =>
      a.buckets.filter((bucket, i) => bucket !== b.buckets[i]).map((bucket) => Object.keys(bucket).length);
    const changed = copied(after.ports, before.ports);
    expect(changed).toHaveLength(1);
    expect(changed[0]).toBeLessThan(4096 / 16);
    expect(after.byIfindex).toBe(before.byIfindex);
    expect(after.everSeen).toBe(before.everSeen);
    expect(JSON.stringify(table.toRecord(before.ports))).toBe(frozen);
    expect(table.get(before.ports, 'Ethernet400')).toEqual({ ifindex: 110, flags: IFF_UP | IFF_RUNNING, mtu: 9100 });
    expect(table.get(after.ports, 'Ethernet400')).toEqual({ ifindex: 110, flags: IFF_UP, mtu: 1500 });
    expect(counts.at(-1)).toBe(4096);
    // A rename found through the ifindex index, and the state file follows all of it.
    send(link('Ethernet99996', { ifindex: 110 }));
    expect(table.has(actor.getSnapshot().context.ports, 'Ethernet400')).toBe(false);
    expect(counts.at(-1)).toBe(4096);
    clock.increment(200);
    await settle();
    const saved = saves.at(-1)!;
    expect(Object.keys(saved)).toHaveLength(4096);
    expect(saved['Ethernet99996']?.ifindex).toBe(110);
    expect(saved['Ethernet400']).toBeUndefined();
  });
});

describe("portsync: SONiC's semantics", () => {
  const config = { Ethernet0: { lanes: '1' }, 'Ethernet-BP0': { lanes: '9' } };

  it('the default prefix rule syncs Ethernet-BP0 and counts it for PortInitDone', async () => {
    const { app, state, send, ready } = await start({ portPattern: '^(Ethernet|PortChannel)' });
    send({ type: 'redis.up' }, { type: 'redis.initialState', configPorts: config, statePorts: [] });
    send({ type: 'netlink.dumpStarted', seq: 1, reason: 'request' });
    send(link('Ethernet0', { inDump: true, seq: 1 }), link('Ethernet-BP0', { inDump: true, seq: 1 }));
    send({ type: 'netlink.dumpDone', seq: 1, interrupted: false });
    expect(state.map((w) => w.key)).toEqual(['Ethernet0', 'Ethernet-BP0']);
    expect(app.at(-1)).toEqual({ op: 'set', key: 'PortInitDone', fields: { lanes: '0' } });
    expect(ready()).toBe(true);
  });

  it('cold start: a configured port whose APPL_DB entry already has admin_status is not waited for', async () => {
    const { app, send, ready } = await start({ portPattern: '^(Ethernet|PortChannel)' });
    send(
      { type: 'redis.up' },
      {
        type: 'redis.initialState',
        configPorts: { Ethernet0: { lanes: '1' }, Ethernet4: { lanes: '5' }, Ethernet8: { lanes: '9' } },
        statePorts: [],
        // Ethernet4 only: an Ethernet8 without admin_status is waited for as before.
        appDbAdminStatus: ['Ethernet4'],
      },
    );
    send({ type: 'netlink.dumpStarted', seq: 1, reason: 'request' }, link('Ethernet0', { inDump: true, seq: 1 }));
    send({ type: 'netlink.dumpDone', seq: 1, interrupted: false });
    expect(app.map((w) => w.key)).toEqual(['Ethernet0', 'Ethernet4', 'Ethernet8', 'PortConfigDone']);
    expect(ready()).toBe(false);
    send(link('Ethernet8'));
    expect(app.at(-1)).toEqual({ op: 'set', key: 'PortInitDone', fields: { lanes: '0' } });
    expect(ready()).toBe(true);
  });

  it('warm start: the admin_status rule does not apply, every expected port is waited for', async () => {
    const { app, send, ready } = await start({
      portPattern: '^(Ethernet|PortChannel)',
      sonic: { enabled: true, hasRestoreCount: true },
      appDb: { Ethernet0: { lanes: '1', admin_status: 'up' }, PortConfigDone: { count: '1' } },
    });
    send(
      { type: 'redis.up' },
      {
        type: 'redis.initialState',
        configPorts: { Ethernet0: { lanes: '1', admin_status: 'up' } },
        statePorts: [],
        appDbAdminStatus: ['Ethernet0'],
      },
    );
    send({ type: 'netlink.dumpStarted', seq: 1, reason: 'request' });
    send({ type: 'netlink.dumpDone', seq: 1, interrupted: false });
    await settle();
    expect(app).toEqual([]);
    expect(ready()).toBe(false);
    send(link('Ethernet0'));
    await settle();
    expect(app).toEqual([{ op: 'set', key: 'PortInitDone', fields: { lanes: '0' } }]);
    expect(ready()).toBe(true);
  });

  it('STATE_DB carries carrier_changes when the kernel reported it, in decimal, and follows it', async () => {
    const { state, send } = await start();
    send(link('Ethernet0', { carrierChanges: 4 }), link('Ethernet0', { carrierChanges: 5 }), link('Ethernet4'));
    expect(state).toEqual([
      {
        op: 'set',
        key: 'Ethernet0',
        fields: { state: 'ok', netdev_oper_status: 'up', admin_status: 'up', mtu: '9100', carrier_changes: '4' },
      },
      {
        op: 'set',
        key: 'Ethernet0',
        fields: { state: 'ok', netdev_oper_status: 'up', admin_status: 'up', mtu: '9100', carrier_changes: '5' },
      },
      // No IFLA_CARRIER_CHANGES in the message: no field (portsyncd writes it only when the kernel reports it).
      {
        op: 'set',
        key: 'Ethernet4',
        fields: { state: 'ok', netdev_oper_status: 'up', admin_status: 'up', mtu: '9100' },
      },
    ]);
  });

  it('is not ready while a configured port never appears, and reports it by name after 5 s', async () => {
    const missing: string[][] = [];
    const { app, send, ready, clock, readiness } = await start({ missing });
    send({ type: 'redis.up' }, { type: 'redis.initialState', configPorts: config, statePorts: [] });
    send({ type: 'netlink.dumpStarted', seq: 1, reason: 'request' }, link('Ethernet0', { inDump: true, seq: 1 }));
    send({ type: 'netlink.dumpDone', seq: 1, interrupted: false });
    expect(ready()).toBe(false);
    expect(readiness).toEqual([]);
    expect(app.map((w) => w.key)).not.toContain('PortInitDone');
    clock.increment(5_000);
    expect(missing).toEqual([['Ethernet-BP0']]);
    clock.increment(60_000);
    expect(missing).toHaveLength(2);
  });

  it('Redis back empty: APP_DB rebuilt from a fresh CONFIG_DB read as a cold start, not ready until PortInitDone', async () => {
    const { app, send, ready, readiness } = await start({ portPattern: '^(Ethernet|PortChannel)' });
    send({ type: 'redis.up' }, { type: 'redis.initialState', configPorts: config, statePorts: [] });
    send({ type: 'netlink.dumpStarted', seq: 1, reason: 'request' });
    send(link('Ethernet0', { inDump: true, seq: 1 }), link('Ethernet-BP0', { inDump: true, seq: 1 }));
    send({ type: 'netlink.dumpDone', seq: 1, interrupted: false });
    expect(ready()).toBe(true);
    const before = app.length;
    send({ type: 'redis.down' }, { type: 'redis.emptied' }, { type: 'redis.up' });
    expect(ready()).toBe(false);
    send({ type: 'redis.initialState', configPorts: config, statePorts: [] });
    expect(app.slice(before).map((w) => `${w.op} ${w.key}`)).toEqual([
      'set Ethernet0',
      'set Ethernet-BP0',
      'set PortConfigDone',
      'set PortInitDone',
    ]);
    expect(ready()).toBe(true);
    expect(readiness).toEqual([true, false, true]);
  });

  it('a CONFIG_DB port named __proto__ is copied like any other', async () => {
    const { app, send } = await start();
    const configPorts = JSON.parse('{"__proto__": {"lanes": "1"}, "Ethernet0": {"lanes": "2"}}') as Record<
      string,
      Record<string, string>
    >;
    send({ type: 'redis.up' }, { type: 'redis.initialState', configPorts, statePorts: [] });
    expect(app.slice(0, 3)).toEqual([
      { op: 'set', key: '__proto__', fields: { lanes: '1' } },
      { op: 'set', key: 'Ethernet0', fields: { lanes: '2' } },
      { op: 'set', key: 'PortConfigDone', fields: { count: '2' } },
    ]);
  });

  describe("portsyncd's link rules (sonic.linkRules)", () => {
    const sets = (w: TableWrite[]) => w.map((o) => `${o.op} ${o.key}`);
    const initial = (over: Partial<Extract<PortsyncEvent, { type: 'redis.initialState' }>> = {}): PortsyncEvent => ({
      type: 'redis.initialState',
      configPorts: { Ethernet0: { lanes: '1' }, Ethernet4: { lanes: '2' } },
      statePorts: [],
      deviceMetadata: { present: true },
      ...over,
    });

    it('auto without DEVICE_METADATA|localhost: off, the links seen before the CONFIG_DB read are written then', async () => {
      const { state, send, actor } = await start({ linkRules: 'auto' });
      send({ type: 'redis.up' }, link('Ethernet0'));
      expect(state).toEqual([]);
      send(initial({ deviceMetadata: { present: false } }));
      await settle();
      expect(sets(state)).toEqual(['set Ethernet0']);
      expect(actor.getSnapshot().matches({ running: { oldNetdevs: 'kept' } })).toBe(true);
    });

    it('STATE_DB only once APPL_DB PORT_TABLE:<name> exists, re-checked with backoff; PortInitDone after', async () => {
      const consumed = new Set<string>();
      const missingDetail: { names: string[]; awaitingAppDb?: string[] }[] = [];
      // A warm start keeps the netdevs (the cold case is the next test).
      const { state, app, send, clock, checks, actor } = await start({
        linkRules: 'on',
        consumed,
        missingDetail,
        sonic: { enabled: true, hasRestoreCount: true },
      });
      send({ type: 'redis.up' }, initial(), link('Ethernet0'), link('Ethernet4'));
      await settle();
      // The first check went out with the first pending link; the re-check 100 ms later holds both.
      expect(checks).toEqual([['Ethernet0']]);
      clock.increment(100);
      await settle();
      expect(checks.at(-1)?.sort()).toEqual(['Ethernet0', 'Ethernet4']);
      expect(state).toEqual([]);
      consumed.add('Ethernet0');
      // Backing off: 200 ms now.
      clock.increment(150);
      await settle();
      expect(state).toEqual([]);
      clock.increment(50);
      await settle();
      expect(sets(state)).toEqual(['set Ethernet0']);
      clock.increment(400);
      await settle();
      expect(checks.at(-1)).toEqual(['Ethernet4']);
      // Later messages of a published link write at once; a pending one still does not.
      send(link('Ethernet0', { flags: IFF_UP }), link('Ethernet4', { flags: IFF_UP }));
      expect(sets(state)).toEqual(['set Ethernet0', 'set Ethernet0']);
      // Not ready and named: Ethernet4 has a netdev, orchagent has not consumed it.
      clock.increment(5_000);
      await settle();
      expect(missingDetail.at(-1)).toEqual({ names: ['Ethernet4'], awaitingAppDb: ['Ethernet4'] });
      expect(app.some((w) => w.key === 'PortInitDone')).toBe(false);
      consumed.add('Ethernet4');
      clock.increment(1_000);
      await settle();
      expect(state.at(-1)).toEqual({
        op: 'set',
        key: 'Ethernet4',
        fields: { state: 'ok', netdev_oper_status: 'down', admin_status: 'up', mtu: '9100' },
      });
      // With nothing pending there are no more checks.
      const n = checks.length;
      clock.increment(10_000);
      await settle();
      expect(checks.length).toBe(n);
      expect(actor.getSnapshot().matches({ running: { appDbWatch: 'idle' } })).toBe(true);
    });

    it('cold start: the Ethernet* links known then are retired (STATE_DB entry gone, messages ignored); a new ifindex is handled', async () => {
      const consumed = new Set(['Ethernet0', 'PortChannel1']);
      const counts: number[] = [];
      const { state, send, clock, actor } = await start({ linkRules: 'on', consumed, counts });
      const old = link('Ethernet0', { inDump: true, seq: 1 });
      send(
        { type: 'redis.up' },
        { type: 'netlink.dumpStarted', seq: 1, reason: 'start' },
        old,
        link('PortChannel1', { inDump: true, seq: 1 }),
        { type: 'netlink.dumpDone', seq: 1, interrupted: false },
        initial({ statePorts: ['Ethernet0'] }),
      );
      await settle();
      expect(actor.getSnapshot().matches({ running: { oldNetdevs: 'retiring' } })).toBe(true);
      expect(table.keys(actor.getSnapshot().context.oldIfindexes)).toEqual([String(old.ifindex)]);
      // The stale STATE_DB entry of the old netdev goes; PortChannel1 (not a front-panel name) is kept and published.
      expect(sets(state)).toEqual(['del Ethernet0', 'set PortChannel1']);
      send(link('Ethernet0', { flags: 0 }), link('Ethernet0', { kind: 'del' }));
      expect(sets(state)).toEqual(['del Ethernet0', 'set PortChannel1']);
      // No netlink source here to answer: the machine goes on after retireTimeout.
      clock.increment(2_000);
      expect(actor.getSnapshot().matches({ running: { oldNetdevs: 'retired' } })).toBe(true);
      send(link('Ethernet0', { ifindex: 7777 }));
      await settle();
      expect(sets(state).at(-1)).toBe('set Ethernet0');
      expect(table.keys(actor.getSnapshot().context.ports).sort()).toEqual(['Ethernet0', 'PortChannel1']);
      expect(counts.at(-1)).toBe(2);
    });

    it('keeps the netdevs with switch_type=dpu and on a warm start', async () => {
      for (const [mode, meta] of [
        ['cold', { present: true, switchType: 'dpu' }],
        ['warm', { present: true }],
      ] as const) {
        const { send, actor } = await start({
          linkRules: 'on',
          consumed: new Set(['Ethernet0']),
          sonic: { enabled: mode === 'warm', hasRestoreCount: true },
        });
        send(
          { type: 'netlink.dumpStarted', seq: 1, reason: 'start' },
          link('Ethernet0', { inDump: true, seq: 1 }),
          { type: 'netlink.dumpDone', seq: 1, interrupted: false },
          initial({ deviceMetadata: meta }),
        );
        await settle();
        expect(actor.getSnapshot().matches({ running: { oldNetdevs: 'kept' } }), mode).toBe(true);
        expect(table.size(actor.getSnapshot().context.oldIfindexes)).toBe(0);
      }
    });
  });
});
