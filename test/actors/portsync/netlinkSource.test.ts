import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Registry } from 'prom-client';
import { createActor, setup, sendTo, type AnyEventObject } from 'xstate';
import { createNetlinkSource, type NetlinkSourceDeps } from '../../../src/actors/portsync/netlinkSource.js';
import type { NetlinkSocket, NetlinkSocketOptions } from '../../../src/io/netlink/socket.js';
import { IFF_RUNNING, IFF_UP, NLM_F_DUMP_INTR } from '../../../src/io/netlink/decode.js';
import type { NetlinkLinkEvent, NetlinkSourceEvent } from '../../../src/machines/supervisor/sourceEvents.js';
import { silentLogger } from '../../../src/io/log.js';
import { canUseNetns, createNetns, type Netns } from '../../support/netns.js';

/** A tiny parent that records what netlinkSource sends back and forwards netlink.requestDump to it. */
function startSource(deps: Omit<NetlinkSourceDeps, 'registry' | 'logger'>) {
  const registry = new Registry();
  const events: NetlinkSourceEvent[] = [];
  const parent = setup({
    actors: { netlinkSource: createNetlinkSource({ registry, logger: silentLogger, ...deps }) },
  }).createMachine({
    invoke: { id: 'netlinkSource', systemId: 'netlinkSource', src: 'netlinkSource' },
    on: {
      'netlink.requestDump': { actions: sendTo('netlinkSource', ({ event }) => event) },
      '*': { actions: ({ event }: { event: AnyEventObject }) => void events.push(event as NetlinkSourceEvent) },
    },
  });
  const actor = createActor(parent);
  const errors: unknown[] = [];
  actor.subscribe({ error: (e) => errors.push(e) });
  actor.start();
  return { actor, events, registry, errors };
}

const of = <T extends NetlinkSourceEvent['type']>(events: NetlinkSourceEvent[], type: T) =>
  events.filter((e): e is Extract<NetlinkSourceEvent, { type: T }> => e.type === type);

// ---- the dump protocol, on a scripted socket fed with kernel-recorded datagrams ------------------------------------

const PORT_ID = 4321;
const recorded = (name: string): Buffer[] =>
  (
    JSON.parse(readFileSync(new URL(`../../fixtures/netlink/${name}.json`, import.meta.url), 'utf8')) as {
      datagrams: string[];
    }
  ).datagrams.map((h) => Buffer.from(h, 'hex'));

/**
 * The recorded dump, re-addressed as the reply to our dump `seq`, one message per datagram (so a test can stop in the
 * middle of the dump); optionally with extra nlmsg flags.
 */
function dumpReply(seq: number, extraFlags = 0): Buffer[] {
  return recorded('dump').flatMap((orig) => {
    const out: Buffer[] = [];
    for (let off = 0; off + 16 <= orig.length; off += (orig.readUInt32LE(off) + 3) & ~3) {
      const d = Buffer.from(orig.subarray(off, off + orig.readUInt32LE(off)));
      d.writeUInt16LE(d.readUInt16LE(6) | extraFlags, 6);
      d.writeUInt32LE(seq, 8);
      d.writeUInt32LE(PORT_ID, 12);
      out.push(d);
    }
    return out;
  });
}

function scriptedSocket() {
  const dumps: number[] = [];
  let opts: NetlinkSocketOptions | undefined;
  let closed = 0;
  const open = (o: NetlinkSocketOptions): NetlinkSocket => {
    opts = o;
    return { dump: (seq) => void dumps.push(seq), close: () => void closed++, rcvbuf: 1 << 23, portId: PORT_ID };
  };
  return {
    open,
    dumps,
    closed: () => closed,
    deliver: (ds: Buffer[]) => opts!.onMessages(ds),
    overflow: (s: 'kernel' | 'queue') => opts!.onOverflow(s),
  };
}

const dumpedNames = (events: NetlinkSourceEvent[], seq: number) =>
  of(events, 'netlink.link')
    .filter((e) => e.inDump && e.seq === seq)
    .map((e) => e.name);

describe('netlinkSource dump protocol', () => {
  it('sends the start dump at once and reports its links and its end', () => {
    const s = scriptedSocket();
    const { events, actor } = startSource({ open: s.open });
    expect(s.dumps).toEqual([expect.any(Number)]);
    const seq = s.dumps[0]!;
    expect(events).toEqual([{ type: 'netlink.dumpStarted', seq, reason: 'start' }]);
    s.deliver(dumpReply(seq));
    expect(dumpedNames(events, seq)).toHaveLength(6);
    expect(events.at(-1)).toEqual({ type: 'netlink.dumpDone', seq, interrupted: false });
    actor.stop();
    expect(s.closed()).toBe(1);
  });

  it('on overflow during a dump: ignores the rest of the superseded dump and re-dumps after the kernel ends it', () => {
    const s = scriptedSocket();
    const { events, registry } = startSource({ open: s.open });
    const first = s.dumps[0]!;
    const reply = dumpReply(first);
    s.deliver(reply.slice(0, 2)); // two links, no DONE yet
    const before = dumpedNames(events, first).length;
    expect(before).toBe(2);
    s.overflow('kernel');
    expect(of(events, 'netlink.overflow')).toEqual([{ type: 'netlink.overflow', source: 'kernel' }]);
    expect(s.dumps).toHaveLength(1); // the kernel is still busy with the first dump
    s.deliver(reply.slice(2)); // the rest of the superseded dump, and its DONE
    expect(dumpedNames(events, first)).toHaveLength(before);
    expect(of(events, 'netlink.dumpDone')).toEqual([]);
    expect(s.dumps).toHaveLength(2);
    const second = s.dumps[1]!;
    expect(second).toBeGreaterThan(first);
    expect(of(events, 'netlink.dumpStarted').at(-1)).toEqual({
      type: 'netlink.dumpStarted',
      seq: second,
      reason: 'overflow',
    });
    s.deliver(dumpReply(second));
    expect(dumpedNames(events, second)).toHaveLength(6);
    expect(of(events, 'netlink.dumpDone')).toEqual([{ type: 'netlink.dumpDone', seq: second, interrupted: false }]);
    return registry.metrics().then((text) => {
      expect(text).toContain('syncvisor_netlink_overflows_total 1');
      expect(text).toContain('syncvisor_netlink_dumps_total{reason="start"} 1');
      expect(text).toContain('syncvisor_netlink_dumps_total{reason="overflow"} 1');
    });
  });

  it('dumps again when the kernel marks the dump NLM_F_DUMP_INTR', () => {
    const s = scriptedSocket();
    const { events } = startSource({ open: s.open });
    const first = s.dumps[0]!;
    s.deliver(dumpReply(first, NLM_F_DUMP_INTR));
    expect(of(events, 'netlink.dumpDone')).toEqual([{ type: 'netlink.dumpDone', seq: first, interrupted: true }]);
    expect(s.dumps).toHaveLength(2);
    expect(of(events, 'netlink.dumpStarted').at(-1)).toMatchObject({ seq: s.dumps[1], reason: 'interrupted' });
  });

  it('dumps on netlink.requestDump, at once when idle', () => {
    const s = scriptedSocket();
    const { events, actor } = startSource({ open: s.open });
    s.deliver(dumpReply(s.dumps[0]!));
    actor.send({ type: 'netlink.requestDump' });
    expect(s.dumps).toHaveLength(2);
    expect(of(events, 'netlink.dumpStarted').at(-1)).toEqual({
      type: 'netlink.dumpStarted',
      seq: s.dumps[1],
      reason: 'request',
    });
  });

  it('with startDumpWaitMs the first dump waits for a request (one dump, reason request), else starts on its own', () => {
    vi.useFakeTimers();
    try {
      const s = scriptedSocket();
      const { events, actor } = startSource({ open: s.open, startDumpWaitMs: 3000 });
      expect(s.dumps).toEqual([]);
      vi.advanceTimersByTime(1000);
      actor.send({ type: 'netlink.requestDump' });
      expect(s.dumps).toHaveLength(1);
      expect(of(events, 'netlink.dumpStarted')).toEqual([
        { type: 'netlink.dumpStarted', seq: s.dumps[0], reason: 'request' },
      ]);
      vi.advanceTimersByTime(5000);
      expect(s.dumps).toHaveLength(1);
      actor.stop();

      // Nobody asks (a restarted source under a running portsync): it dumps after the wait.
      const t = scriptedSocket();
      const late = startSource({ open: t.open, startDumpWaitMs: 3000 });
      vi.advanceTimersByTime(2999);
      expect(t.dumps).toEqual([]);
      vi.advanceTimersByTime(1);
      expect(of(late.events, 'netlink.dumpStarted')).toEqual([
        { type: 'netlink.dumpStarted', seq: t.dumps[0], reason: 'start' },
      ]);
      late.actor.stop();
    } finally {
      vi.useRealTimers();
    }
  });

  it('emits notifications as links outside the dump, with seq 0', () => {
    const s = scriptedSocket();
    const { events } = startSource({ open: s.open });
    s.deliver(recorded('mtu'));
    expect(of(events, 'netlink.link')).toEqual([
      expect.objectContaining({ kind: 'new', name: 'Ethernet12', mtu: 9100, inDump: false, seq: 0, linkKind: 'veth' }),
    ]);
    s.deliver(recorded('delete'));
    expect(
      of(events, 'netlink.link')
        .filter((e) => e.kind === 'del')
        .map((e) => e.name),
    ).toEqual(['Ethernet12', 'Ethernet16']);
  });

  it('counts undecodable frames and keeps going', async () => {
    const s = scriptedSocket();
    const { events, registry, errors } = startSource({ open: s.open });
    const good = recorded('mtu')[0]!;
    const garbled = Buffer.from(good);
    garbled.writeUInt32LE(3, 0);
    s.deliver([Buffer.alloc(7), garbled, good]);
    expect(of(events, 'netlink.link')).toHaveLength(1);
    expect(errors).toEqual([]);
    const text = await registry.metrics();
    expect(text).toContain('syncvisor_netlink_decode_errors_total{reason="truncated"} 1');
    expect(text).toContain('syncvisor_netlink_decode_errors_total{reason="badLength"} 1');
    expect(text).toContain('syncvisor_netlink_messages_total{type="newlink"} 1');
  });

  it('retries a dump the kernel refused, a bounded number of times', () => {
    const s = scriptedSocket();
    vi.useFakeTimers();
    try {
      startSource({ open: s.open, maxDumpRetries: 2, retryDelayMs: 10 });
      const refuse = (seq: number) => {
        const e = Buffer.alloc(16 + 4 + 16);
        e.writeUInt32LE(e.length, 0);
        e.writeUInt16LE(2, 4); // NLMSG_ERROR
        e.writeUInt32LE(seq, 8);
        e.writeUInt32LE(PORT_ID, 12);
        e.writeInt32LE(-16, 16);
        e.writeUInt32LE(seq, 16 + 4 + 8);
        s.deliver([e]);
      };
      for (let i = 0; i < 5; i++) {
        refuse(s.dumps.at(-1)!);
        vi.advanceTimersByTime(10);
      }
      expect(s.dumps).toHaveLength(3); // the first try and 2 retries
    } finally {
      vi.useRealTimers();
    }
  });
});

// ---- against the kernel, in a network namespace ----------------------------------------------------------------------

const netnsOk = canUseNetns();
if (netnsOk !== true) console.warn(`skipping netlinkSource namespace tests: ${netnsOk}`);

describe.skipIf(netnsOk !== true)('netlinkSource against the kernel in a network namespace', () => {
  let ns: Netns;
  beforeAll(() => {
    ns = createNetns('svsrc');
    ns.addVethPair('Ethernet0', 'Ethernet4');
  });
  afterAll(() => ns?.destroy());

  const lastOf = (events: NetlinkSourceEvent[], name: string): NetlinkLinkEvent | undefined =>
    of(events, 'netlink.link')
      .filter((e) => e.name === name)
      .at(-1);

  it('dumps the veths at start, then reports admin and carrier changes matching the kernel', async () => {
    const { actor, events, registry, errors } = startSource({ netns: ns.path });
    try {
      await vi.waitFor(() => expect(of(events, 'netlink.dumpDone')).toHaveLength(1));
      const started = of(events, 'netlink.dumpStarted')[0]!;
      expect(started.reason).toBe('start');
      expect(of(events, 'netlink.dumpDone')[0]).toEqual({
        type: 'netlink.dumpDone',
        seq: started.seq,
        interrupted: false,
      });
      expect(dumpedNames(events, started.seq).sort()).toEqual(['Ethernet0', 'Ethernet4', 'lo']);
      const truth = new Map(ns.links().map((l) => [l.name, l]));
      for (const name of ['Ethernet0', 'Ethernet4']) {
        const e = lastOf(events, name)!;
        expect(e).toMatchObject({ kind: 'new', ifindex: truth.get(name)!.ifindex, mtu: 1500, linkKind: 'veth' });
        expect(e.flags & IFF_UP).toBe(0);
      }

      ns.set('Ethernet0', 'up');
      ns.set('Ethernet4', 'up');
      await vi.waitFor(() => expect((lastOf(events, 'Ethernet0')?.flags ?? 0) & IFF_RUNNING).toBe(IFF_RUNNING));
      expect(lastOf(events, 'Ethernet0')).toMatchObject({ inDump: false, seq: 0, operstate: 6 });
      expect(ns.links().find((l) => l.name === 'Ethernet0')).toMatchObject({ up: true, running: true });

      ns.set('Ethernet4', 'down'); // the peer loses carrier: Ethernet0 stays UP but not RUNNING
      await vi.waitFor(() => expect((lastOf(events, 'Ethernet0')?.flags ?? 0) & IFF_RUNNING).toBe(0));
      expect(lastOf(events, 'Ethernet0')!.flags & IFF_UP).toBe(IFF_UP);
      expect(lastOf(events, 'Ethernet4')!.flags & IFF_UP).toBe(0);
      expect(ns.links().find((l) => l.name === 'Ethernet0')).toMatchObject({ up: true, running: false });

      ns.mtu('Ethernet0', 9100);
      await vi.waitFor(() => expect(lastOf(events, 'Ethernet0')?.mtu).toBe(9100));

      actor.send({ type: 'netlink.requestDump' });
      await vi.waitFor(() => expect(of(events, 'netlink.dumpDone')).toHaveLength(2));
      const again = of(events, 'netlink.dumpStarted')[1]!;
      expect(again.reason).toBe('request');
      expect(again.seq).toBeGreaterThan(started.seq);

      expect(await registry.metrics()).toMatch(/syncvisor_netlink_messages_total\{type="newlink"\} \d+/);
      expect(errors).toEqual([]);
    } finally {
      actor.stop();
    }
  });

  it('recovers from a queue overflow with a dump that equals the kernel truth', async () => {
    const batch = path.join(tmpdir(), `svsrc-${process.pid}.batch`);
    const { actor, events } = startSource({ netns: ns.path, queueMax: 4 });
    try {
      await vi.waitFor(() => expect(of(events, 'netlink.dumpDone')).toHaveLength(1));
      writeFileSync(
        batch,
        Array.from({ length: 40 }, (_, i) => `link add o${i} type veth peer name p${i}`).join('\n') + '\n',
      );
      execFileSync('ip', ['-n', ns.name, '-batch', batch]); // blocks the event loop while ~80 notifications arrive
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 300);
      await vi.waitFor(() =>
        expect(of(events, 'netlink.overflow')).toContainEqual({ type: 'netlink.overflow', source: 'queue' }),
      );
      const redump = of(events, 'netlink.dumpStarted').find((e) => e.reason === 'overflow')!;
      await vi.waitFor(() =>
        expect(of(events, 'netlink.dumpDone').some((e) => e.seq >= redump.seq && !e.interrupted)).toBe(true),
      );
      const done = of(events, 'netlink.dumpDone').find((e) => e.seq >= redump.seq && !e.interrupted)!;
      const truth = ns
        .links()
        .map((l) => l.name)
        .concat('lo')
        .sort();
      expect(dumpedNames(events, done.seq).sort()).toEqual(truth);
    } finally {
      actor.stop();
      rmSync(batch, { force: true });
      for (let i = 0; i < 40; i++) execFileSync('ip', ['-n', ns.name, 'link', 'del', `o${i}`]);
    }
  });

  it('closes its socket when stopped', async () => {
    const fds = () => readdirSync('/proc/self/fd').length;
    const before = fds();
    const { actor, events } = startSource({ netns: ns.path });
    await vi.waitFor(() => expect(of(events, 'netlink.dumpDone')).toHaveLength(1));
    expect(fds()).toBe(before + 2);
    actor.stop();
    expect(fds()).toBe(before);
  });
});

// portsyncd at a cold start (sonic-swss linksync.cpp, unit tests test_cacheOldIfaces / test_onMsgIgnoreOldNetDev):
// the Ethernet* netdevs that exist are set admin down and their ifindexes ignored for the life of the process; a
// netdev made anew (new ifindex) is reported as usual.
describe.skipIf(netnsOk !== true)('netlinkSource retires old netdevs (real netlink setlink)', () => {
  let ns: Netns;
  beforeAll(() => {
    ns = createNetns('svold');
    ns.addVethPair('Ethernet0', 'p0');
    ns.set('Ethernet0', 'up');
    ns.set('p0', 'up');
  });
  afterAll(() => ns?.destroy());
  const link = (name: string) => ns.links().find((l) => l.name === name)!;

  it('sets them down, ignores their later messages, reports a recreated netdev, and does it once per process', async () => {
    const registry = new Registry();
    const logic = createNetlinkSource({ registry, logger: silentLogger, netns: ns.path });
    const events: AnyEventObject[] = [];
    const parent = setup({ actors: { netlinkSource: logic } }).createMachine({
      invoke: { id: 'netlinkSource', systemId: 'netlinkSource', src: 'netlinkSource' },
      on: {
        'netlink.retireOldNetdevs': { actions: sendTo('netlinkSource', ({ event }) => event) },
        '*': { actions: ({ event }: { event: AnyEventObject }) => void events.push(event) },
      },
    });
    const old = link('Ethernet0').ifindex;
    expect(link('Ethernet0').up).toBe(true);
    let actor = createActor(parent).start();
    try {
      await vi.waitFor(() => expect(events.some((e) => e.type === 'netlink.dumpDone')).toBe(true));
      actor.send({ type: 'netlink.retireOldNetdevs', links: [{ ifindex: old, name: 'Ethernet0' }] });
      expect(events.filter((e) => e.type === 'netlink.oldNetdevsRetired')).toEqual([
        { type: 'netlink.oldNetdevsRetired', ifindexes: [old] },
      ]);
      await vi.waitFor(() => expect(link('Ethernet0').up).toBe(false), { timeout: 5_000 });
      const mark = events.length;
      ns.set('Ethernet0', 'up');
      ns.mtu('Ethernet0', 9000);
      // p0 reports carrier: the messages of the old ifindex arrived and were dropped (counted).
      await vi.waitFor(async () => {
        const m = await registry.getSingleMetricAsString('syncvisor_netlink_old_netdev_messages_total');
        expect(Number(/ (\d+)$/m.exec(m)?.[1])).toBeGreaterThanOrEqual(2);
      });
      expect(events.slice(mark).filter((e) => e.type === 'netlink.link' && e.ifindex === old)).toEqual([]);
      // Made anew (as syncd creates the host interface): a new ifindex, reported.
      ns.del('Ethernet0');
      ns.addVethPair('Ethernet0', 'p0');
      const fresh = link('Ethernet0').ifindex;
      expect(fresh).not.toBe(old);
      await vi.waitFor(() =>
        expect(events.some((e) => e.type === 'netlink.link' && e.name === 'Ethernet0' && e.ifindex === fresh)).toBe(
          true,
        ),
      );
      ns.set('Ethernet0', 'up');
      // The logic started again (a restarted source): a second request sets nothing down, answers the first set.
      actor.stop();
      events.length = 0;
      actor = createActor(parent).start();
      await vi.waitFor(() => expect(events.some((e) => e.type === 'netlink.dumpDone')).toBe(true));
      // The restart's dump skips the old ifindex too (it no longer exists here; the new one is dumped).
      expect(events.filter((e) => e.type === 'netlink.link' && e.ifindex === old)).toEqual([]);
      actor.send({ type: 'netlink.retireOldNetdevs', links: [{ ifindex: fresh, name: 'Ethernet0' }] });
      expect(events.filter((e) => e.type === 'netlink.oldNetdevsRetired')).toEqual([
        { type: 'netlink.oldNetdevsRetired', ifindexes: [old] },
      ]);
      await new Promise((r) => setTimeout(r, 300));
      expect(link('Ethernet0').up).toBe(true);
    } finally {
      actor.stop();
    }
  });
});
