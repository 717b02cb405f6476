import { describe, expect, it } from 'vitest';
import { SimulatedClock, assign, createActor, fromCallback, setup, type AnyEventObject } from 'xstate';
import {
  IFF_RUNNING,
  IFF_UP,
  portsyncMachine,
  type PortsyncEvent,
  type RedisTablesCommand,
  type TableWrite,
} from '../../src/machines/portsync.js';
import type { NetlinkLinkEvent } from '../../src/machines/sourceEvents.js';

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

/** Starts portsync with a fake redisTables actor that records what it is asked to write. */
function start(opts: { drainReply?: boolean; counts?: number[] } = {}) {
  const state: TableWrite[] = [];
  const app: TableWrite[] = [];
  const fakeTables = fromCallback<RedisTablesCommand>(({ receive, sendBack }) => {
    receive((cmd) => {
      if (cmd.type === 'redis.write') (cmd.table === 'state' ? state : app).push(...cmd.ops);
      else if (opts.drainReply ?? true) sendBack({ type: 'redis.drained', complete: true });
    });
  });
  const clock = new SimulatedClock();
  const machine = portsyncMachine.provide({
    actors: { redisTables: fakeTables },
    actions: { reportPortCount: (_, params) => opts.counts?.push(params.count) },
  });
  const actor = createActor(machine, { input: { portPattern: '^(Ethernet|PortChannel)\\d+$' }, clock });
  actor.start();
  const send = (...events: PortsyncEvent[]) => events.forEach((e) => actor.send(e));
  return { actor, state, app, send, clock };
}

describe('portsync machine', () => {
  it('writes STATE_DB PORT_TABLE from link flags and MTU, and deletes on DELLINK', () => {
    const { state, send } = start();
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

  it('skips names outside portPattern, team links and the DELLINK of a link with a master', () => {
    const counts: number[] = [];
    const { state, send, actor } = start({ counts });
    send(
      link('eth0'),
      link('Ethernet0x'),
      link('PortChannel1', { linkKind: 'team' }),
      link('Ethernet0'),
      link('Ethernet0', { kind: 'del', master: 7 }),
    );
    expect(state.map((w) => `${w.op} ${w.key}`)).toEqual(['set Ethernet0']);
    expect(Object.keys(actor.getSnapshot().context.ports)).toEqual(['Ethernet0']);
    expect(counts).toEqual([1]);
  });

  it('a renamed link (same ifindex) drops its old name from STATE_DB, also when renamed out of the pattern', () => {
    const { state, send, actor } = start();
    send(link('Ethernet0', { ifindex: 3 }), link('Ethernet4', { ifindex: 4 }));
    send(link('Ethernet40', { ifindex: 3 }), link('eth4', { ifindex: 4 }));
    expect(state.slice(2).map((w) => `${w.op} ${w.key}`)).toEqual(['del Ethernet0', 'set Ethernet40', 'del Ethernet4']);
    expect(Object.keys(actor.getSnapshot().context.ports)).toEqual(['Ethernet40']);
  });

  it('cold start copies CONFIG_DB ports to APP_DB, then PortConfigDone, then PortInitDone once all are seen', () => {
    const { app, send } = start();
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

  it('sends PortInitDone at once when CONFIG_DB has no ports', () => {
    const { app, send } = start();
    send({ type: 'redis.initialState', configPorts: {}, statePorts: [] });
    expect(app).toEqual([
      { op: 'set', key: 'PortConfigDone', fields: { count: '0' } },
      { op: 'set', key: 'PortInitDone', fields: { lanes: '0' } },
    ]);
  });

  it('a completed re-dump is the truth: ports missing from it are deleted; interrupted dumps prove nothing', () => {
    const { state, send, actor } = start();
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
    expect(Object.keys(actor.getSnapshot().context.ports).sort()).toEqual(['Ethernet0', 'Ethernet8']);
  });

  it('deletes STATE_DB ports left from a previous run once a completed dump does not show them', () => {
    const { state, send } = start();
    send({ type: 'redis.initialState', configPorts: {}, statePorts: ['Ethernet0', 'Ethernet96', 'eth0'] });
    send({ type: 'netlink.dumpStarted', seq: 1, reason: 'request' });
    send(link('Ethernet0', { inDump: true, seq: 1 }));
    send({ type: 'netlink.dumpDone', seq: 1, interrupted: false });
    expect(state.filter((w) => w.op === 'del')).toEqual([{ op: 'del', key: 'Ethernet96' }]);

    // Late initial state (the dump completed first): stale ports go at once.
    const late = start();
    late.send({ type: 'netlink.dumpStarted', seq: 1, reason: 'start' });
    late.send({ type: 'netlink.dumpDone', seq: 1, interrupted: false });
    late.send({ type: 'redis.initialState', configPorts: {}, statePorts: ['Ethernet12'] });
    expect(late.state.filter((w) => w.op === 'del')).toEqual([{ op: 'del', key: 'Ethernet12' }]);
  });

  it('is ready once the initial dump is done and Redis is up; reports changes to its parent; asks for a dump', () => {
    const readiness: boolean[] = [];
    const requests: string[] = [];
    const fakeSource = fromCallback(({ receive }) => receive((e: AnyEventObject) => requests.push(e.type)));
    const parent = setup({
      actors: {
        netlinkSource: fakeSource,
        portsync: portsyncMachine.provide({ actors: { redisTables: fromCallback(() => undefined) } }),
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
    expect(requests).toEqual(['netlink.requestDump']);
    const fwd = (e: PortsyncEvent) => root.system.get('portsync').send(e);
    fwd({ type: 'redis.up' });
    fwd({ type: 'netlink.dumpStarted', seq: 5, reason: 'request' });
    fwd({ type: 'netlink.dumpDone', seq: 5, interrupted: false });
    fwd({ type: 'redis.down' });
    fwd({ type: 'redis.up' });
    expect(readiness).toEqual([true, false, true]);
    root.stop();
  });

  it('on shutdown drains pending writes and reaches its final state', () => {
    const { actor, send } = start();
    send({ type: 'shutdown' });
    expect(actor.getSnapshot().status).toBe('done');
  });

  it('on shutdown gives up after the drain timeout when Redis never answers', () => {
    const { actor, send, clock } = start({ drainReply: false });
    send(link('Ethernet0'), { type: 'shutdown' });
    expect(actor.getSnapshot().value).toBe('draining');
    clock.increment(4_500);
    expect(actor.getSnapshot().status).toBe('done');
  });
});
