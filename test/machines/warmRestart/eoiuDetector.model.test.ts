// eoiuDetector, model-based: every state and bounded simple paths in dump and marker mode, replayed on a real actor.
// Invariants: detection is announced exactly once per entry into detected; detected is terminal for counting
// (messagesSeen and the rest of the context stay frozen until eoiu.reset); in dump mode detection means our dump is
// done and no expected port is missing; messagesSeen counts the netlink.link events since the last reset.
import { describe, expect } from 'vitest';
import * as table from '../../../src/machines/portsync/portTable.js';
import type { AnyMachineSnapshot } from 'xstate';
import {
  eoiuDetectorMachine,
  type EoiuDetectorContext,
  type EoiuDetectorInput,
} from '../../../src/machines/warmRestart/eoiuDetector.js';
import type { NetlinkLinkEvent } from '../../../src/machines/supervisor/sourceEvents.js';
import { modelPathTests, type ModelSpec } from '../../support/modelTesting.js';

let detections: { messagesSeen: number; dumpedInterfaces: number }[] = [];
let linksSinceReset = 0;
let entries = 0;

const machine = eoiuDetectorMachine.provide({
  actions: {
    notifyDetected: ({ context }) =>
      void detections.push({ messagesSeen: context.messagesSeen, dumpedInterfaces: context.dumpedInterfaces }),
  },
});

function link(name: string, over: Partial<NetlinkLinkEvent> = {}): NetlinkLinkEvent {
  return {
    type: 'netlink.link',
    kind: 'new',
    name,
    ifindex: 10,
    flags: 0x41,
    change: 0xffffffff,
    mtu: 9100,
    operstate: 6,
    master: 0,
    linkKind: 'veth',
    inDump: true,
    seq: 7,
    ...over,
  };
}

const ctx = (s: AnyMachineSnapshot) => s.context as EoiuDetectorContext;

function specFor(input: EoiuDetectorInput): ModelSpec<typeof machine> {
  return {
    machine,
    input,
    events: {
      'netlink.link': [
        link('Ethernet0'),
        link('Ethernet4', { change: 0, inDump: false }),
        link('Ethernet0', { kind: 'del', inDump: false }),
      ],
      'netlink.dumpDone': [
        { type: 'netlink.dumpDone', seq: 7, interrupted: false },
        { type: 'netlink.dumpDone', seq: 7, interrupted: true },
        { type: 'netlink.dumpDone', seq: 8, interrupted: false },
      ],
      'netlink.dumpStarted': [{ type: 'netlink.dumpStarted', seq: 7, reason: 'start' }],
      'netlink.overflow': [{ type: 'netlink.overflow', source: 'kernel' }],
      'eoiu.setExpectedPorts': [{ type: 'eoiu.setExpectedPorts', ports: ['Ethernet0', 'Ethernet4'] }],
      'eoiu.reset': [{ type: 'eoiu.reset' }, { type: 'eoiu.reset', expectedPorts: ['Ethernet4'] }],
    },
    // The counters grow without bound; what decides the future is the rest of the context.
    serialize: (s) => {
      const { messagesSeen: _m, dumpedInterfaces: _d, ...rest } = ctx(s);
      return JSON.stringify([s.value, rest]);
    },
    reset: () => {
      detections = [];
      linksSinceReset = 0;
      entries = 0;
    },
    effects: () => detections,
    check: ({ snapshot, prev, event }) => {
      const c = ctx(snapshot);
      if (event.type === 'eoiu.reset') linksSinceReset = 0;
      const detected = snapshot.matches('detected');
      const wasDetected = prev?.matches('detected') ?? false;
      if (event.type === 'netlink.link' && !wasDetected) linksSinceReset += 1;
      if (detected && !wasDetected) entries += 1;
      expect(detections.length, 'one eoiu.detected per entry into detected').toBe(entries);
      expect(c.messagesSeen).toBe(linksSinceReset);
      expect(c.missingCount).toBe(table.keys(c.missing).length);
      if (detected && wasDetected) expect(c, 'detected is terminal for counting').toEqual(ctx(prev!));
      if (detected && !wasDetected) {
        expect(detections.at(-1)).toEqual({ messagesSeen: c.messagesSeen, dumpedInterfaces: c.dumpedInterfaces });
      }
      if (detected && c.mode === 'dump') {
        expect(c.dumpDone).toBe(true);
        expect(c.missingCount).toBe(0);
      }
      if (!detected && c.mode === 'dump') expect(c.dumpDone && c.missingCount === 0).toBe(false);
    },
  };
}

describe.each<EoiuDetectorInput>([
  { mode: 'dump', expectedPorts: ['Ethernet0'] },
  { mode: 'dump', dumpSeq: 7 },
  { mode: 'marker' },
])('eoiuDetector model (xstate/graph), input %o', (input) => {
  modelPathTests(specFor(input), { minShortestPaths: 6, simplePaths: { maxDepth: 8, max: 400, min: 21 } });
});
