// One PTP clock (a profile's interface, CLOCK_REALTIME of phc2sys/chronyd, or a GM / T-BC / dpll / gnss / ts2phc /
// synce4l clock of a configured profile): FREERUN / LOCKED / HOLDOVER. The parser sends only verdict *changes*
// (edges) here, never every line. Every state entered is reported exactly once, to the sidecar (the parent), as a
// `clock.stateChanged` event (src/machines/ptp/events.ts); the sidecar logs it, sets the gauge and emits it.
//
// Two kinds of HOLDOVER: `sidecarTimer` (a SLAVE port was lost: the sidecar's own holdover timer runs, the profile's
// holdOverTimeout) and `daemonVerdict` (a status line said s1 / `holdover`: the daemon's verdict, reported as given,
// no timer; the daemon's next s0 is FREERUN at once).
import { assign, sendParent, setup, type ActorLogic, type ActorRefFrom, type AnyActorRef, type Snapshot } from 'xstate';
import { providedDefault } from '../provided.js';
import type { SynceDeviceActor } from './synceDevice.js';
import type { OsClockDisciplineActor } from './osClockDiscipline.js';
import type { OsClockOwnerActor } from './osClockOwner.js';
import type {
  ClockSeed,
  ClockStateChanged,
  ClockStateName,
  GenerationEdgesEvent,
  SyncePortStateEvent,
} from './events.js';

export type { ClockStateName } from './events.js';

/** How a clock's profile is built (decided at load from the ConfigMap). */
export type ClockType = 'OC' | 'T-BC' | 'T-GM';

/** Who disciplines CLOCK_REALTIME when phc2sys goes down: nobody (FREERUN), or chronyd (NTP failover). */
export type OsClockFallback = 'none' | 'chronyd';

export interface ClockStateInput extends ClockSeed {
  /** Default 'OC' (an ordinary clock / plain boundary clock). */
  clockType?: ClockType;
  /** phc2sys's CLOCK_REALTIME in a profile with `chronydOpts`: 'chronyd'. Default 'none'. */
  osClockFallback?: OsClockFallback;
}

/** Optional facts of the line behind an edge (reported with the state change). */
interface EdgeFacts {
  offset?: number;
  clockClass?: number;
}

export type ClockStateEvent =
  /** The servo is locked and the offset is in range (min < offset < max). */
  | ({ type: 'clock.locked' } & EdgeFacts)
  /** The servo is locked but the offset is out of range. */
  | ({ type: 'clock.outOfRange' } & EdgeFacts)
  | ({ type: 'clock.freerun' } & EdgeFacts)
  /** A SLAVE port went FAULTY / MASTER / LISTENING. */
  | ({ type: 'clock.holdover' } & EdgeFacts)
  /** A status line says HOLDOVER (dpll / GM / T-BC / gnss s1, ts2phc `holdover`). */
  | ({ type: 'clock.daemonHoldover' } & EdgeFacts)
  /** A status line says LOCKED (s2). */
  | ({ type: 'clock.daemonLocked' } & EdgeFacts)
  /** The clock's process reported PTP_PROCESS_STATUS 0 (phc2sys's CLOCK_REALTIME). */
  | ({ type: 'clock.processDown' } & EdgeFacts)
  /** The generation ended (restart, shutdown): the clock stops, its timer with it. */
  | { type: 'clock.retire' };

export interface ClockStateContext extends ClockSeed {
  clockType: ClockType;
  osClockFallback: OsClockFallback;
  current: ClockStateName | null;
  offset: number | undefined;
  clockClass: number | undefined;
}

type Entered = { to: ClockStateName };
/** The report first (it reads the state left, `context.current`), then one `assign` for the state and its facts. */
const enter = (to: ClockStateName) => [
  { type: 'reportStateChanged' as const, params: { to } },
  { type: 'rememberState' as const, params: { to } },
];

/** The offset / clock class of the line that caused this change, else the last ones known (reported with it). */
const offsetOf = (context: ClockStateContext, event: ClockStateEvent): number | undefined =>
  'offset' in event && event.offset !== undefined ? event.offset : context.offset;
const clockClassOf = (context: ClockStateContext, event: ClockStateEvent): number | undefined =>
  'clockClass' in event && event.clockClass !== undefined ? event.clockClass : context.clockClass;

export const clockStateMachine = setup({
  types: {
    context: {} as ClockStateContext,
    input: {} as ClockStateInput,
    events: {} as ClockStateEvent,
  },
  actions: {
    /**
     * One `clock.stateChanged` to the sidecar per state entered (from = context.current), with the offset / clock
     * class of the line that caused it (else the last ones known).
     */
    reportStateChanged: sendParent(({ context, event }, params: Entered): ClockStateChanged => {
      const e: ClockStateChanged = {
        type: 'clock.stateChanged',
        key: context.key,
        process: context.process,
        iface: context.iface,
        profile: context.profile,
        from: context.current,
        to: params.to,
      };
      if (context.synce !== undefined) e.synce = context.synce;
      const offset = offsetOf(context, event);
      if (offset !== undefined) e.offset = offset;
      const clockClass = clockClassOf(context, event);
      if (clockClass !== undefined) e.clockClass = clockClass;
      return e;
    }),
    /**
     * The state entered and the facts of the line that caused it, in one `assign` (one snapshot copy per state
     * entered).
     */
    rememberState: assign(({ context, event }, params: Entered) => ({
      current: params.to,
      offset: offsetOf(context, event),
      clockClass: clockClassOf(context, event),
    })),
  },
  guards: {
    /** T-BC: ptp4l's state comes from the log without a range check (CEP ptp4lParse.go). */
    tbcIgnoresRange: ({ context }) => context.clockType === 'T-BC' && context.process === 'ptp4l',
    /** T-BC: a lost SLAVE port is FREERUN, never HOLDOVER (the T-BC status line reports holdover itself). */
    tbcPortLossIsFreerun: ({ context }) => context.clockType === 'T-BC',
    /**
     * NTP failover: phc2sys went down in a profile with chronyd. CLOCK_REALTIME keeps its state (no OS-clock event);
     * chronyd takes it over with its first source line (osClockOwner).
     */
    chronydTakesOver: ({ context }) => context.osClockFallback === 'chronyd',
  },
  delays: {
    holdoverTimeout: ({ context }) => context.holdoverTimeoutMs,
  },
}).createMachine({
  id: 'clockState',
  context: ({ input }) => ({
    key: input.key,
    process: input.process,
    iface: input.iface,
    profile: input.profile,
    holdoverTimeoutMs: input.holdoverTimeoutMs,
    ...(input.synce !== undefined ? { synce: input.synce } : {}),
    clockType: input.clockType ?? 'OC',
    osClockFallback: input.osClockFallback ?? 'none',
    current: null,
    offset: undefined,
    clockClass: undefined,
  }),
  initial: 'FREERUN',
  on: {
    'clock.retire': '.retired',
  },
  states: {
    FREERUN: {
      entry: enter('FREERUN'),
      on: {
        'clock.locked': 'LOCKED',
        'clock.daemonLocked': 'LOCKED',
        'clock.outOfRange': { guard: 'tbcIgnoresRange', target: 'LOCKED' },
        'clock.holdover': [{ guard: 'tbcPortLossIsFreerun' }, { target: 'HOLDOVER.sidecarTimer' }],
        'clock.daemonHoldover': 'HOLDOVER.daemonVerdict',
      },
    },
    LOCKED: {
      entry: enter('LOCKED'),
      on: {
        'clock.outOfRange': [{ guard: 'tbcIgnoresRange' }, { target: 'FREERUN' }],
        'clock.freerun': 'FREERUN',
        'clock.holdover': [{ guard: 'tbcPortLossIsFreerun', target: 'FREERUN' }, { target: 'HOLDOVER.sidecarTimer' }],
        'clock.daemonHoldover': 'HOLDOVER.daemonVerdict',
        'clock.processDown': [{ guard: 'chronydTakesOver' }, { target: 'FREERUN' }],
      },
    },
    HOLDOVER: {
      entry: enter('HOLDOVER'),
      on: {
        'clock.processDown': [{ guard: 'chronydTakesOver' }, { target: 'FREERUN' }],
      },
      initial: 'sidecarTimer',
      states: {
        /** A SLAVE port was lost: only an in-range LOCKED offset or the timeout ends it (FAULTY → SLAVE does not). */
        sidecarTimer: {
          after: { holdoverTimeout: '#clockState.FREERUN' },
          on: {
            'clock.locked': '#clockState.LOCKED',
            'clock.daemonLocked': '#clockState.LOCKED',
          },
        },
        /** The daemon said holdover: no timer here; its s0 is FREERUN at once, its s2 LOCKED. */
        daemonVerdict: {
          on: {
            'clock.freerun': '#clockState.FREERUN',
            'clock.locked': '#clockState.LOCKED',
            'clock.daemonLocked': '#clockState.LOCKED',
          },
        },
      },
    },
    /** Final: the generation ended. Reaching it stops the actor (and its holdover timer); nothing is reported. */
    retired: { type: 'final' },
  },
});

export type ClockStateActor = ActorRefFrom<typeof clockStateMachine>;

/** What the sidecar gives the clock bank (src/actors/ptp/clockBank.ts) that holds one generation's clocks. */
export interface ClockBankInput {
  /** The clocks known at load (started FREERUN at once). */
  seeds: readonly ClockStateInput[];
  /** The sidecar: parent of every clock, receiver of their state changes. */
  owner: AnyActorRef;
  /** Clock type per profile (T-BC / T-GM rules); missing = OC. */
  clockTypes?: Readonly<Record<string, ClockType>>;
  /**
   * Profiles that run chronyd (`chronydOpts`): their osClockDiscipline never turns undisciplined, they get an
   * osClockOwner chart at start, and their phc2sys CLOCK_REALTIME keeps its state when phc2sys goes down.
   */
  chronydProfiles?: readonly string[];
}

export type ClockBankSnapshot = Snapshot<undefined> & {
  /**
   * The clocks by key, and the synce4l devices (key `synce4l-device/<device>`); also what trees of snapshots walk
   * (like a machine's children).
   */
  children: Record<string, ClockStateActor | SynceDeviceActor | OsClockDisciplineActor | OsClockOwnerActor>;
  input: ClockBankInput;
};

export type ClockBankLogic = ActorLogic<
  ClockBankSnapshot,
  GenerationEdgesEvent | SyncePortStateEvent | { type: 'xstate.stop' },
  ClockBankInput
>;

/** The sidecar's `clockBank` until the composition provides the real one. */
export const clockBankPlaceholder: ClockBankLogic = providedDefault<ClockBankLogic>({
  transition: (s) => s,
  getInitialSnapshot: () => {
    throw new Error("actor 'clockBank' must be provided by the composition");
  },
  getPersistedSnapshot: (s) => s,
});
