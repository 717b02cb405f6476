// The osClockOwner chart (NTP failover): the owner signals of a profile with chronydOpts in, hand-over reports out.
import { describe, expect, it } from 'vitest';
import { createActor, setup, type AnyActorRef } from 'xstate';
import { osClockOwnerMachine } from '../../../src/machines/ptp/osClockOwner.js';
import type { OsClockOwnerChanged, OsClockOwnerSignal } from '../../../src/machines/ptp/events.js';

function run() {
  const reports: string[] = [];
  const parent = setup({
    types: { events: {} as OsClockOwnerChanged },
    actors: { o: osClockOwnerMachine },
  }).createMachine({
    invoke: { id: 'o', src: 'o', input: { profile: 'ntp-failover' } },
    on: { 'ptp.osClockOwner': { actions: ({ event }) => reports.push(`${event.profile}:${event.owner}`) } },
  });
  const root = createActor(parent).start();
  const o = root.getSnapshot().children['o'] as AnyActorRef;
  const send = (...s: OsClockOwnerSignal[]) => s.forEach((x) => o.send({ type: `owner.${x}` }));
  const state = () => o.getSnapshot().value as string;
  return { o, send, state, reports };
}

describe('osClockOwner', () => {
  it('starts phc2sys-owned without a report (the sidecar takes phc2sys as the owner of a fresh generation)', () => {
    const c = run();
    expect(c.state()).toBe('phc2sysOwned');
    expect(c.reports).toEqual([]);
    c.send('phc2sysSample');
    expect(c.reports).toEqual([]);
  });

  it('chronyd source → chronyd-owned; a phc2sys sample → phc2sys-owned again; each hand-over reported once', () => {
    const c = run();
    c.send('chronydSource', 'chronydSource');
    expect(c.state()).toBe('chronydOwned');
    c.send('phc2sysSample', 'phc2sysSample');
    expect(c.state()).toBe('phc2sysOwned');
    c.send('chronydSource');
    expect(c.reports).toEqual(['ntp-failover:chronyd', 'ntp-failover:phc2sys', 'ntp-failover:chronyd']);
  });

  it('retires to a final state without a report', () => {
    const c = run();
    c.o.send({ type: 'owner.retire' });
    expect(c.o.getSnapshot().status).toBe('done');
    expect(c.reports).toEqual([]);
  });
});
