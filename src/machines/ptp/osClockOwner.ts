// Who disciplines CLOCK_REALTIME in a profile with NTP failover (`chronydOpts`): phc2sys or chronyd. One chart per
// such profile, held by the clock bank (key `os-clock-owner/<profile>`), started at load in phc2sysOwned.
// linuxptp-daemon stops phc2sys and starts chronyd when the PTP source (the GNSS) is lost, and back when it returns.
// The parser sends the profile's lines that show the owner as signals:
//   chronyd `Selected source …` / `no selectable sources`       → chronydOwned (chronyd took CLOCK_REALTIME over)
//   phc2sys `CLOCK_REALTIME phc|sys offset …`                   → phc2sysOwned (phc2sys reclaimed it)
// phc2sys's `PTP_PROCESS_STATUS 0` changes no owner here: its clock keeps its state (guard `chronydTakesOver` of
// clockState), and chronyd's first source line hands CLOCK_REALTIME over.
// Each hand-over is reported to the sidecar (`ptp.osClockOwner`, actions `reportChronydOwner` / `reportPhc2sysOwner`;
// the start needs no report: the sidecar takes phc2sys as the owner of a fresh generation): the profile's OS clock
// (E3) is the owner's, and the one openshift_ptp_clock_state{iface="CLOCK_REALTIME"} series of the profile is the
// owner's process.
import { sendParent, setup, type ActorRefFrom } from 'xstate';
import type { OsClockOwnerChanged, OsClockOwnerSignal } from './events.js';

export interface OsClockOwnerInput {
  profile: string;
}

export interface OsClockOwnerContext {
  profile: string;
}

export type OsClockOwnerEvent = { type: `owner.${OsClockOwnerSignal}` } | { type: 'owner.retire' };

export const osClockOwnerMachine = setup({
  types: {
    context: {} as OsClockOwnerContext,
    input: {} as OsClockOwnerInput,
    events: {} as OsClockOwnerEvent,
  },
  actions: {
    /** Tells the sidecar chronyd owns CLOCK_REALTIME now (it re-derives the OS clock and moves the series). */
    reportChronydOwner: sendParent(({ context }): OsClockOwnerChanged => ({
      type: 'ptp.osClockOwner',
      profile: context.profile,
      owner: 'chronyd',
    })),
    /** Tells the sidecar phc2sys owns CLOCK_REALTIME again. */
    reportPhc2sysOwner: sendParent(({ context }): OsClockOwnerChanged => ({
      type: 'ptp.osClockOwner',
      profile: context.profile,
      owner: 'phc2sys',
    })),
  },
}).createMachine({
  id: 'osClockOwner',
  context: ({ input }) => ({ profile: input.profile }),
  initial: 'phc2sysOwned',
  on: {
    'owner.retire': '.retired',
  },
  states: {
    /** phc2sys disciplines CLOCK_REALTIME: the OS clock is the worst of phc2sys and the PTP clock. */
    phc2sysOwned: {
      on: { 'owner.chronydSource': { target: 'chronydOwned', actions: 'reportChronydOwner' } },
    },
    /** chronyd disciplines CLOCK_REALTIME (NTP failover): the OS clock is chronyd's state. */
    chronydOwned: {
      on: { 'owner.phc2sysSample': { target: 'phc2sysOwned', actions: 'reportPhc2sysOwner' } },
    },
    /** Final: the generation ended; nothing is reported. */
    retired: { type: 'final' },
  },
});

export type OsClockOwnerActor = ActorRefFrom<typeof osClockOwnerMachine>;
