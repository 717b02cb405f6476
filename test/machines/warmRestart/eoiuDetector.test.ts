// eoiuDetector: dump mode (our NLMSG_DONE + every expected port), marker mode (ifi_change == 0), counters,
// nothing after detection, reset.
import { describe, expect, it } from 'vitest';
import * as table from '../../../src/machines/portsync/portTable.js';
import { createActor } from 'xstate';
import { eoiuDetectorMachine, type EoiuDetectorInput } from '../../../src/machines/warmRestart/eoiuDetector.js';
import type { NetlinkLinkEvent } from '../../../src/machines/supervisor/sourceEvents.js';

function link(name: string, over: Partial<NetlinkLinkEvent> = {}): NetlinkLinkEvent {
  return {
    type: 'netlink.link',
    kind: 'new',
    name,
    ifindex: 10,
    flags: 0x41,
    change: 0,
    mtu: 9100,
    operstate: 6,
    master: 0,
    linkKind: 'veth',
    inDump: true,
    seq: 7,
    ...over,
  };
}

function start(input: EoiuDetectorInput) {
  const detected: unknown[] = [];
  const actor = createActor(eoiuDetectorMachine, { input });
  actor.on('eoiu.detected', (e) => detected.push(e));
  actor.start();
  return { actor, detected };
}

describe('eoiuDetector, dump mode', () => {
  it('detects on our NLMSG_DONE when every expected port has been seen', () => {
    const { actor, detected } = start({ expectedPorts: ['Ethernet0', 'Ethernet4'] });
    actor.send({ type: 'netlink.dumpStarted', seq: 7, reason: 'start' });
    actor.send(link('lo', { change: 0 }));
    actor.send(link('Ethernet0'));
    actor.send(link('Ethernet4'));
    expect(actor.getSnapshot().value).toBe('waiting');
    actor.send({ type: 'netlink.dumpDone', seq: 7, interrupted: false });
    expect(actor.getSnapshot().value).toBe('detected');
    expect(detected).toEqual([{ type: 'eoiu.detected', messagesSeen: 3, dumpedInterfaces: 3 }]);
  });

  it('ifi_change == 0 on dump entries does not end the initial sync in dump mode (real kernel behaviour)', () => {
    const { actor } = start({});
    actor.send({ type: 'netlink.dumpStarted', seq: 7, reason: 'start' });
    actor.send(link('Ethernet0', { change: 0 }));
    expect(actor.getSnapshot().value).toBe('waiting');
  });

  it('waits for an expected port that is not in the dump (the timeout guard ends that)', () => {
    const { actor } = start({ expectedPorts: ['Ethernet0', 'Ethernet8'] });
    actor.send({ type: 'netlink.dumpStarted', seq: 7, reason: 'start' });
    actor.send(link('Ethernet0'));
    actor.send({ type: 'netlink.dumpDone', seq: 7, interrupted: false });
    expect(actor.getSnapshot().value).toBe('waiting');
    expect(table.toRecord(actor.getSnapshot().context.missing)).toEqual({ Ethernet8: true });
    // It appears later (a notification, not in the dump): now complete.
    actor.send(link('Ethernet8', { inDump: false, seq: 0, change: 1 }));
    expect(actor.getSnapshot().value).toBe('detected');
    expect(actor.getSnapshot().context.dumpedInterfaces).toBe(1);
    expect(actor.getSnapshot().context.messagesSeen).toBe(2);
  });

  it('ignores the NLMSG_DONE of another sequence and an interrupted dump', () => {
    const { actor } = start({});
    actor.send({ type: 'netlink.dumpStarted', seq: 7, reason: 'start' });
    actor.send({ type: 'netlink.dumpDone', seq: 6, interrupted: false });
    expect(actor.getSnapshot().value).toBe('waiting');
    actor.send({ type: 'netlink.dumpDone', seq: 7, interrupted: true });
    expect(actor.getSnapshot().value).toBe('waiting');
    actor.send({ type: 'netlink.dumpStarted', seq: 8, reason: 'interrupted' });
    actor.send({ type: 'netlink.dumpDone', seq: 8, interrupted: false });
    expect(actor.getSnapshot().value).toBe('detected');
  });

  it('an overflow discards a done dump until the re-dump is done', () => {
    const { actor } = start({ expectedPorts: ['Ethernet0'] });
    actor.send({ type: 'netlink.dumpStarted', seq: 7, reason: 'start' });
    actor.send({ type: 'netlink.dumpDone', seq: 7, interrupted: false });
    actor.send({ type: 'netlink.overflow', source: 'kernel' });
    actor.send(link('Ethernet0', { seq: 7 }));
    expect(actor.getSnapshot().value).toBe('waiting');
    actor.send({ type: 'netlink.dumpStarted', seq: 9, reason: 'overflow' });
    actor.send({ type: 'netlink.dumpDone', seq: 9, interrupted: false });
    expect(actor.getSnapshot().value).toBe('detected');
  });

  it('uses input.dumpSeq when the sequence is known up front', () => {
    const { actor } = start({ dumpSeq: 3 });
    actor.send({ type: 'netlink.dumpDone', seq: 2, interrupted: false });
    expect(actor.getSnapshot().value).toBe('waiting');
    actor.send({ type: 'netlink.dumpDone', seq: 3, interrupted: false });
    expect(actor.getSnapshot().value).toBe('detected');
  });

  it('an expected-port list that arrives late counts ports already seen', () => {
    const { actor } = start({});
    actor.send({ type: 'netlink.dumpStarted', seq: 7, reason: 'start' });
    actor.send(link('Ethernet0'));
    actor.send({ type: 'eoiu.setExpectedPorts', ports: ['Ethernet0', 'Ethernet4'] });
    actor.send({ type: 'netlink.dumpDone', seq: 7, interrupted: false });
    expect(actor.getSnapshot().value).toBe('waiting');
    actor.send(link('Ethernet4'));
    expect(actor.getSnapshot().value).toBe('detected');
  });

  it('a DELLINK does not count as seeing an expected port', () => {
    const { actor } = start({ expectedPorts: ['Ethernet0'] });
    actor.send({ type: 'netlink.dumpStarted', seq: 7, reason: 'start' });
    actor.send(link('Ethernet0', { kind: 'del', inDump: false }));
    actor.send({ type: 'netlink.dumpDone', seq: 7, interrupted: false });
    expect(actor.getSnapshot().value).toBe('waiting');
  });
});

describe('eoiuDetector, marker mode', () => {
  it('detects on the first RTM_NEWLINK with ifi_change == 0', () => {
    const { actor, detected } = start({ mode: 'marker' });
    actor.send(link('Ethernet0', { change: 0xffffffff }));
    actor.send(link('Ethernet4', { change: 0xffffffff }));
    expect(actor.getSnapshot().value).toBe('waiting');
    actor.send(link('lo', { change: 0 }));
    expect(actor.getSnapshot().value).toBe('detected');
    expect(detected).toEqual([{ type: 'eoiu.detected', messagesSeen: 3, dumpedInterfaces: 3 }]);
  });

  it('a DELLINK with ifi_change == 0 is not the marker, and NLMSG_DONE alone is not either', () => {
    const { actor } = start({ mode: 'marker' });
    actor.send(link('Ethernet0', { kind: 'del', change: 0 }));
    actor.send({ type: 'netlink.dumpDone', seq: 7, interrupted: false });
    expect(actor.getSnapshot().value).toBe('waiting');
  });
});

describe('eoiuDetector, after detection', () => {
  it('ignores everything after detection and counts nothing more', () => {
    const { actor, detected } = start({ mode: 'marker' });
    actor.send(link('Ethernet0', { change: 0 }));
    for (let i = 0; i < 10; i += 1) actor.send(link(`Ethernet${i * 4}`, { change: 0 }));
    actor.send({ type: 'netlink.dumpDone', seq: 7, interrupted: false });
    expect(detected).toHaveLength(1);
    expect(actor.getSnapshot().context.messagesSeen).toBe(1);
  });

  it('is resettable for reuse: counters zeroed, expected ports kept or replaced', () => {
    const { actor, detected } = start({ expectedPorts: ['Ethernet0'] });
    actor.send({ type: 'netlink.dumpStarted', seq: 7, reason: 'start' });
    actor.send(link('Ethernet0'));
    actor.send({ type: 'netlink.dumpDone', seq: 7, interrupted: false });
    expect(actor.getSnapshot().value).toBe('detected');
    actor.send({ type: 'eoiu.reset', expectedPorts: ['Ethernet4'] });
    const ctx = actor.getSnapshot().context;
    expect(actor.getSnapshot().value).toBe('waiting');
    expect([ctx.messagesSeen, ctx.dumpedInterfaces, ctx.dumpDone, ctx.missingCount]).toEqual([0, 0, false, 1]);
    actor.send({ type: 'netlink.dumpStarted', seq: 8, reason: 'request' });
    actor.send(link('Ethernet4', { seq: 8 }));
    actor.send({ type: 'netlink.dumpDone', seq: 8, interrupted: false });
    expect(detected).toHaveLength(2);
  });
});
