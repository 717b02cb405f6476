// Is CLOCK_REALTIME still disciplined by phc2sys? One chart per profile whose phc2sys logs its automatic (`-a -r`)
// source selection. After a port state change phc2sys reconfigures and selects its clocks again; when it selects a
// NIC as the source but never CLOCK_REALTIME as a sink, the system clock is no longer disciplined although the last
// CLOCK_REALTIME offsets looked fine. The parser sends the selection lines here as signals (one edge per line; a
// CLOCK_REALTIME offset sample only while a window may be open):
//   `reconfiguring after port state change`           → Selecting (from anywhere: a new window)
//   `selecting <NIC> for synchronization`             → SourceSelected (the settle timer, 200 ms, is armed again)
//   `<NIC> as domain / out-of-domain source clock`    → SourceSelected again (re-armed)
//   `selecting CLOCK_REALTIME for synchronization`    → Idle (disciplined)
//   `source clock not ready` / `postponing` / `no PHC ready` → Idle (the selection is incomplete)
//   `… is already selected`                           → Undisciplined from SourceSelected, Idle from Selecting
//   settle timer expires in SourceSelected            → Undisciplined
//   `CLOCK_REALTIME phc offset …`                      → Idle (a sample proves discipline)
// Undisciplined is reported to the sidecar (`ptp.osClockDiscipline`, disciplined: false): the profile's OS clock
// (E3) is FREERUN until Idle reports it disciplined again. In a profile with chronyd (`chronydOpts`), chronyd owns
// CLOCK_REALTIME when phc2sys lets it go: guard `chronydOwnsOsClock`, no Undisciplined.
import { sendParent, setup, type ActorRefFrom } from 'xstate';
import type { OsClockDisciplineChanged, OsClockSignal } from './events.js';

export interface OsClockDisciplineInput {
  profile: string;
  /** The profile runs chronyd (NTP failover): it disciplines CLOCK_REALTIME when phc2sys does not. */
  chronydEnabled?: boolean;
  /** After a NIC was selected, how long to wait for CLOCK_REALTIME to be selected (default 200 ms). */
  settleMs?: number;
}

export interface OsClockDisciplineContext {
  profile: string;
  chronydEnabled: boolean;
  settleMs: number;
}

export type OsClockDisciplineEvent = { type: `discipline.${OsClockSignal}` } | { type: 'discipline.retire' };

export const defaultSettleMs = 200;

export const osClockDisciplineMachine = setup({
  types: {
    context: {} as OsClockDisciplineContext,
    input: {} as OsClockDisciplineInput,
    events: {} as OsClockDisciplineEvent,
  },
  actions: {
    /** Tells the sidecar whether CLOCK_REALTIME is disciplined (it recomputes the profile's OS clock). */
    reportDiscipline: sendParent(({ context }, params: { disciplined: boolean }): OsClockDisciplineChanged => ({
      type: 'ptp.osClockDiscipline',
      profile: context.profile,
      disciplined: params.disciplined,
    })),
  },
  guards: {
    /** chronyd takes CLOCK_REALTIME over when phc2sys lets it go: not undisciplined. */
    chronydOwnsOsClock: ({ context }) => context.chronydEnabled,
  },
  delays: {
    settle: ({ context }) => context.settleMs,
  },
}).createMachine({
  id: 'osClockDiscipline',
  context: ({ input }) => ({
    profile: input.profile,
    chronydEnabled: input.chronydEnabled ?? false,
    settleMs: input.settleMs ?? defaultSettleMs,
  }),
  initial: 'Idle',
  on: {
    'discipline.reconfiguring': { target: '.Selecting', reenter: true },
    'discipline.realtimeSelected': '.Idle',
    'discipline.realtimeSample': '.Idle',
    'discipline.retire': '.retired',
  },
  states: {
    /** No selection window open; discipline is what the offsets say. */
    Idle: {
      entry: { type: 'reportDiscipline', params: { disciplined: true } },
    },
    /** A window opened ("reconfiguring"); waiting for the selection lines. */
    Selecting: {
      on: {
        'discipline.sourceSelected': 'SourceSelected',
        'discipline.aborted': 'Idle',
        'discipline.alreadySelected': 'Idle',
      },
    },
    /** A NIC was selected as the source, CLOCK_REALTIME not (yet) as a sink: the settle timer runs. */
    SourceSelected: {
      after: {
        settle: [{ guard: 'chronydOwnsOsClock', target: 'Idle' }, { target: 'Undisciplined' }],
      },
      on: {
        'discipline.sourceSelected': { target: 'SourceSelected', reenter: true },
        'discipline.sourceMarker': { target: 'SourceSelected', reenter: true },
        'discipline.aborted': 'Idle',
        'discipline.alreadySelected': [{ guard: 'chronydOwnsOsClock', target: 'Idle' }, { target: 'Undisciplined' }],
      },
    },
    /** CLOCK_REALTIME is not disciplined: the OS clock is FREERUN until a sample or a CLOCK_REALTIME selection. */
    Undisciplined: {
      entry: { type: 'reportDiscipline', params: { disciplined: false } },
    },
    /** Final: the generation ended; nothing is reported. */
    retired: { type: 'final' },
  },
});

export type OsClockDisciplineActor = ActorRefFrom<typeof osClockDisciplineMachine>;
