// eoiuDetector: end of the initial update (EOIU) after a (re)start: waiting → detected.
//
// Mode 'dump' (default): the NLMSG_DONE of OUR dump (the latest netlink.dumpStarted seq, or input.dumpSeq) arrived
// without NLM_F_DUMP_INTR, and every expected port (from the state file or CONFIG_DB PORT) was seen in an
// RTM_NEWLINK. An interrupted dump or an overflow means a re-dump follows: we wait for its NLMSG_DONE.
// Mode 'marker': the reference design's rule, the first RTM_NEWLINK with ifi_change == 0. Kept for synthetic
// sources only: a real kernel (measured on 6.x) sets ifi_change = 0 on EVERY dump entry and on carrier/MTU
// notifications, so on a real system the marker fires on the first dumped port, long before the dump ends.
//
// Contract
//   input:  { mode?: 'dump'|'marker', expectedPorts?: string[], dumpSeq?: number, awaitExpectedPorts?: boolean }
//           awaitExpectedPorts: mode 'dump' does not detect before the first eoiu.setExpectedPorts (portsync learns
//           the list from the state file and CONFIG_DB while the dump runs; an empty list must not win that race).
//   events: netlink.link, netlink.dumpDone, netlink.dumpStarted, netlink.overflow (src/machines/supervisor/sourceEvents.ts),
//           eoiu.setExpectedPorts {ports}   (e.g. once the state file has loaded; re-checks at once)
//           eoiu.reset {expectedPorts?}      (back to waiting, counters zeroed)
//   emits:  eoiu.detected {messagesSeen, dumpedInterfaces} through the named action notifyDetected (default: emit;
//           its parent, the warmRestart machine, provides sendParent). The ports not seen yet are in
//           context.missing / missingCount while waiting; detection means there are none.
//   context: messagesSeen (netlink.link events while waiting), dumpedInterfaces (those answering a dump).
// Everything after detection is ignored until eoiu.reset.
import { assign, emit, setup } from 'xstate';
import * as table from '../portsync/portTable.js';
import type { PortTable } from '../portsync/portTable.js';
import type {
  NetlinkDumpDoneEvent,
  NetlinkDumpStartedEvent,
  NetlinkLinkEvent,
  NetlinkOverflowEvent,
} from '../supervisor/sourceEvents.js';

export type EoiuMode = 'dump' | 'marker';

export interface EoiuDetectorInput {
  mode?: EoiuMode;
  expectedPorts?: readonly string[];
  /** The sequence number of our dump when it is known up front; otherwise taken from netlink.dumpStarted. */
  dumpSeq?: number;
  /** Do not detect (mode 'dump') before the first eoiu.setExpectedPorts. */
  awaitExpectedPorts?: boolean;
}

export interface EoiuDetectorContext {
  mode: EoiuMode;
  /** Expected ports not yet seen (a persistent table, src/machines/portsync/portTable.ts: O(√n) per update, plain JSON). */
  missing: PortTable<true>;
  missingCount: number;
  /** Every link name seen in an RTM_NEWLINK while waiting, so a late expected-port list still counts them. */
  seen: PortTable<true>;
  expectedPorts: string[];
  /** False until the expected-port list is known (input.awaitExpectedPorts). */
  expectedKnown: boolean;
  dumpSeq: number | undefined;
  dumpDone: boolean;
  messagesSeen: number;
  dumpedInterfaces: number;
}

export type EoiuDetectorEvent =
  | NetlinkLinkEvent
  | NetlinkDumpDoneEvent
  | NetlinkDumpStartedEvent
  | NetlinkOverflowEvent
  | { type: 'eoiu.setExpectedPorts'; ports: readonly string[] }
  | { type: 'eoiu.reset'; expectedPorts?: readonly string[] };

export interface EoiuDetectedEvent {
  type: 'eoiu.detected';
  messagesSeen: number;
  dumpedInterfaces: number;
}

function missingOf(
  ports: readonly string[],
  seen: PortTable<true>,
): { missing: PortTable<true>; missingCount: number } {
  const missing = table.fromKeys(ports.filter((p) => !table.has(seen, p)));
  return { missing, missingCount: table.size(missing) };
}

function fresh(
  mode: EoiuMode,
  expected: readonly string[],
  dumpSeq: number | undefined,
  expectedKnown = true,
): EoiuDetectorContext {
  return {
    mode,
    ...missingOf(expected, table.empty<true>()),
    seen: table.empty<true>(),
    expectedPorts: [...expected],
    expectedKnown,
    dumpSeq,
    dumpDone: false,
    messagesSeen: 0,
    dumpedInterfaces: 0,
  };
}

export const eoiuDetectorMachine = setup({
  types: {
    input: {} as EoiuDetectorInput,
    context: {} as EoiuDetectorContext,
    events: {} as EoiuDetectorEvent,
    emitted: {} as EoiuDetectedEvent,
  },
  guards: {
    isMarker: ({ context, event }) =>
      context.mode === 'marker' && event.type === 'netlink.link' && event.kind === 'new' && event.change === 0,
    isOurDumpDone: ({ context, event }) =>
      event.type === 'netlink.dumpDone' &&
      !event.interrupted &&
      (context.dumpSeq === undefined || event.seq === context.dumpSeq),
    dumpCompleteAndAllSeen: ({ context }) =>
      context.mode === 'dump' && context.expectedKnown && context.dumpDone && context.missingCount === 0,
  },
  actions: {
    countMessage: assign(({ context, event }) => {
      if (event.type !== 'netlink.link') return {};
      let { missing, missingCount, seen } = context;
      if (event.kind === 'new' && !table.has(seen, event.name)) {
        seen = table.set(seen, event.name, true);
        if (table.has(missing, event.name)) {
          missing = table.remove(missing, event.name);
          missingCount -= 1;
        }
      }
      return {
        messagesSeen: context.messagesSeen + 1,
        dumpedInterfaces: context.dumpedInterfaces + (event.inDump ? 1 : 0),
        missing,
        missingCount,
        seen,
      };
    }),
    markDumpDone: assign({ dumpDone: true }),
    trackDumpStarted: assign(({ event }) =>
      event.type === 'netlink.dumpStarted' ? { dumpSeq: event.seq, dumpDone: false } : {},
    ),
    forgetDumpDone: assign({ dumpDone: false }),
    setExpected: assign(({ context, event }) => {
      if (event.type !== 'eoiu.setExpectedPorts') return {};
      return { ...missingOf(event.ports, context.seen), expectedPorts: [...event.ports], expectedKnown: true };
    }),
    resetAll: assign(({ context, event }) =>
      fresh(
        context.mode,
        event.type === 'eoiu.reset' && event.expectedPorts ? event.expectedPorts : context.expectedPorts,
        undefined,
        context.expectedKnown || (event.type === 'eoiu.reset' && event.expectedPorts !== undefined),
      ),
    ),
    notifyDetected: emit(({ context }) => ({
      type: 'eoiu.detected' as const,
      messagesSeen: context.messagesSeen,
      dumpedInterfaces: context.dumpedInterfaces,
    })),
  },
}).createMachine({
  id: 'eoiuDetector',
  context: ({ input }) =>
    fresh(input?.mode ?? 'dump', input?.expectedPorts ?? [], input?.dumpSeq, input?.awaitExpectedPorts !== true),
  initial: 'waiting',
  states: {
    waiting: {
      always: { guard: 'dumpCompleteAndAllSeen', target: 'detected' },
      on: {
        'netlink.link': [
          { guard: 'isMarker', target: 'detected', actions: 'countMessage' },
          { actions: 'countMessage' },
        ],
        'netlink.dumpDone': { guard: 'isOurDumpDone', actions: 'markDumpDone' },
        'netlink.dumpStarted': { actions: 'trackDumpStarted' },
        // Messages were lost: only the re-dump that follows is the truth.
        'netlink.overflow': { actions: 'forgetDumpDone' },
        'eoiu.setExpectedPorts': { actions: 'setExpected' },
        'eoiu.reset': { target: 'waiting', reenter: true, actions: 'resetAll' },
      },
    },
    detected: {
      entry: 'notifyDetected',
      on: {
        'eoiu.reset': { target: 'waiting', actions: 'resetAll' },
      },
    },
  },
});

export type EoiuDetectorMachine = typeof eoiuDetectorMachine;
