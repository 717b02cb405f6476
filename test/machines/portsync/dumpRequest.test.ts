// portsync's initial dump request with dumpPrepareMs (as the daemon runs it): the dump is asked for once CONFIG_DB /
// STATE_DB were read and warm or cold is decided, or after dumpPrepareMs, never twice; without dumpPrepareMs at once.
import { describe, expect, it } from 'vitest';
import { SimulatedClock, createActor, createMachine, fromCallback, setup, type AnyEventObject } from 'xstate';
import { portsyncMachine, type PortsyncEvent, type PortsyncInput } from '../../../src/machines/portsync/portsync.js';

function start(input: Partial<PortsyncInput>) {
  const requests: string[] = [];
  const clock = new SimulatedClock();
  const parent = setup({
    actors: {
      netlinkSource: fromCallback(({ receive }) => receive((e: AnyEventObject) => void requests.push(e.type))),
      portsync: portsyncMachine.provide({
        actors: {
          redisTables: fromCallback(() => undefined),
          // The decision is sent by the test (warmRestart.decided).
          warmRestart: createMachine({}) as never,
        },
      }),
    },
  }).createMachine({
    invoke: [
      { id: 'netlinkSource', systemId: 'netlinkSource', src: 'netlinkSource' },
      { id: 'portsync', systemId: 'portsync', src: 'portsync', input: { portPattern: '^Ethernet\\d+$', ...input } },
    ],
  });
  const root = createActor(parent, { clock }).start();
  const send = (e: PortsyncEvent) => root.system.get('portsync').send(e);
  const region = () =>
    (root.system.get('portsync').getSnapshot().value as { running?: { dumpRequest?: string } }).running?.dumpRequest;
  return { requests, clock, send, region, root };
}

describe('portsync: the initial dump request', () => {
  it('without dumpPrepareMs asks at once', () => {
    const { requests, region, root } = start({});
    expect(requests).toEqual(['netlink.requestDump']);
    expect(region()).toBe('requested');
    root.stop();
  });

  it('with dumpPrepareMs waits for the CONFIG_DB / STATE_DB read and the warm/cold decision, in either order', () => {
    for (const order of ['readFirst', 'decidedFirst'] as const) {
      const { requests, send, region, clock, root } = start({ dumpPrepareMs: 2000 });
      const read = () =>
        send({ type: 'redis.initialState', configPorts: { Ethernet0: { lanes: '0' } }, statePorts: [] });
      const decided = () => send({ type: 'warmRestart.decided', mode: 'warm' });
      expect(requests).toEqual([]);
      expect(region()).toBe('preparing');
      if (order === 'readFirst') read();
      else decided();
      expect(requests).toEqual([]);
      if (order === 'readFirst') decided();
      else read();
      expect(requests).toEqual(['netlink.requestDump']);
      expect(region()).toBe('requested');
      // The bound has no effect any more, and later events ask for nothing.
      clock.increment(5000);
      send({ type: 'redis.initialState', configPorts: {}, statePorts: [] });
      expect(requests).toEqual(['netlink.requestDump']);
      root.stop();
    }
  });

  it('with dumpPrepareMs asks after that long when the answers do not come (Redis down)', () => {
    const { requests, clock, region, root } = start({ dumpPrepareMs: 2000 });
    clock.increment(1999);
    expect(requests).toEqual([]);
    clock.increment(1);
    expect(requests).toEqual(['netlink.requestDump']);
    expect(region()).toBe('requested');
    root.stop();
  });
});
