// One PTP clock (a profile's interface, or CLOCK_REALTIME of phc2sys/chronyd): FREERUN / LOCKED / HOLDOVER.
// The line parser sends only verdict *changes* (edges) here, never every line. Every state entered is reported
// exactly once: the `reportClockState` action (metric + structured log, provided by composition) and an emitted
// `clock.stateChanged` event (for cloud-event publishing).
import { assign, emit, setup, type ActorRefFrom } from 'xstate';

export type ClockStateName = 'FREERUN' | 'LOCKED' | 'HOLDOVER';

export interface ClockStateInput {
  /** `<process>/<iface>`. */
  key: string;
  process: string;
  iface: string;
  profile: string;
  /** From the profile's `holdOverTimeout` (already in ms). */
  holdoverTimeoutMs: number;
}

export type ClockStateEvent =
  /** The servo is locked and the offset is in range (min < offset < max). */
  | { type: 'clock.locked' }
  /** The servo is locked but the offset is out of range. */
  | { type: 'clock.outOfRange' }
  | { type: 'clock.freerun' }
  /** The log says HOLDOVER, or a SLAVE port went FAULTY / MASTER / LISTENING. */
  | { type: 'clock.holdover' };

export interface ClockStateChanged {
  type: 'clock.stateChanged';
  key: string;
  process: string;
  iface: string;
  profile: string;
  from: ClockStateName | null;
  to: ClockStateName;
}

export interface ClockStateContext extends ClockStateInput {
  current: ClockStateName | null;
}

type Entered = { to: ClockStateName };
const enter = (to: ClockStateName) => [
  { type: 'reportClockState' as const, params: { to } },
  { type: 'emitStateChanged' as const, params: { to } },
  { type: 'rememberState' as const, params: { to } },
];

export const clockStateMachine = setup({
  types: {
    context: {} as ClockStateContext,
    input: {} as ClockStateInput,
    events: {} as ClockStateEvent,
    emitted: {} as ClockStateChanged,
  },
  actions: {
    /** Sets openshift_ptp_clock_state and logs one structured line. Provided by the composition. */
    /**
     * Sets openshift_ptp_clock_state and logs one structured line (from = context.current). Provided by the
     * composition.
     */
    reportClockState: (_, _params: Entered) => {},
    emitStateChanged: emit(({ context }, params: Entered) => ({
      type: 'clock.stateChanged' as const,
      key: context.key,
      process: context.process,
      iface: context.iface,
      profile: context.profile,
      from: context.current,
      to: params.to,
    })),
    rememberState: assign((_, params: Entered) => ({ current: params.to })),
  },
  delays: {
    holdoverTimeout: ({ context }) => context.holdoverTimeoutMs,
  },
}).createMachine({
  id: 'clockState',
  context: ({ input }) => ({ ...input, current: null }),
  initial: 'FREERUN',
  states: {
    FREERUN: {
      entry: enter('FREERUN'),
      on: {
        'clock.locked': 'LOCKED',
        'clock.holdover': 'HOLDOVER',
      },
    },
    LOCKED: {
      entry: enter('LOCKED'),
      on: {
        'clock.outOfRange': 'FREERUN',
        'clock.freerun': 'FREERUN',
        'clock.holdover': 'HOLDOVER',
      },
    },
    HOLDOVER: {
      entry: enter('HOLDOVER'),
      // Only an in-range LOCKED offset or the timeout ends holdover (FAULTY → SLAVE does not).
      after: { holdoverTimeout: 'FREERUN' },
      on: {
        'clock.locked': 'LOCKED',
      },
    },
  },
});

export type ClockStateActor = ActorRefFrom<typeof clockStateMachine>;
