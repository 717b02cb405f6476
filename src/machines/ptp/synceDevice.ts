// One synce4l device (a `[<device>]` section of a synce4l config: one EEC, the DPLL of a NIC): its overall state,
// derived from the EEC states its ports report. synce4l logs the EEC state per port (`<port> device <dev> eec_state
// … s<N>`); each port has its clockState chart (`synce4l/<port>`), and every state a port enters arrives here as
// `synce.portState`. The EEC is one clock per device that follows one selected source: the device is LOCKED while
// any of its ports is LOCKED, HOLDOVER while none is LOCKED and one is HOLDOVER, FREERUN otherwise (and at start).
// Every state entered is reported once to the sidecar (the parent, through the clock bank) as a `clock.stateChanged`
// with key `synce4l/<device>`, `iface` = the device and `synce: { device, level: 'device' }`; the sidecar sets
// `openshift_ptp_clock_state{process="synce4l", iface="<device>"}` and emits it to observers (O-RAN sync-state
// events of the device).
import { assign, sendParent, setup, type ActorRefFrom } from 'xstate';
import type { ClockStateChanged, ClockStateName, SyncePortStateEvent } from './events.js';

export interface SynceDeviceInput {
  /** The device name as the log line carries it (`device <dev>`). */
  device: string;
  /** The ConfigMap profile of the synce4l config. */
  profile: string;
}

export interface SynceDeviceContext extends SynceDeviceInput {
  /** The last state of each port of this device (bounded: port clocks exist only for configured ports). */
  ports: Record<string, ClockStateName>;
  current: ClockStateName | null;
}

export type SynceDeviceEvent = SyncePortStateEvent | { type: 'synce.retire' };

/** The ports' states with the event's port applied (guards run before the transition's actions). */
function portsWith(context: SynceDeviceContext, event: SynceDeviceEvent): Record<string, ClockStateName> {
  return event.type === 'synce.portState' ? { ...context.ports, [event.port]: event.state } : context.ports;
}
const has = (ports: Record<string, ClockStateName>, s: ClockStateName): boolean => Object.values(ports).includes(s);

type Entered = { to: ClockStateName };
const enter = (to: ClockStateName) => [
  { type: 'reportDeviceState' as const, params: { to } },
  { type: 'rememberDeviceState' as const, params: { to } },
];

/** In every state: a port's new state picks the device state (a transition to the current state re-enters nothing). */
const onPortState = [
  { guard: 'anyPortLocked', target: '#synceDevice.LOCKED', actions: 'notePortState' },
  { guard: 'anyPortInHoldover', target: '#synceDevice.HOLDOVER', actions: 'notePortState' },
  { target: '#synceDevice.FREERUN', actions: 'notePortState' },
] as const;

export const synceDeviceMachine = setup({
  types: {
    context: {} as SynceDeviceContext,
    input: {} as SynceDeviceInput,
    events: {} as SynceDeviceEvent,
  },
  actions: {
    notePortState: assign(({ context, event }) => ({ ports: portsWith(context, event) })),
    /** One `clock.stateChanged` to the sidecar per state the device enters. */
    reportDeviceState: sendParent(({ context }, params: Entered): ClockStateChanged => ({
      type: 'clock.stateChanged',
      key: `synce4l/${context.device}`,
      process: 'synce4l',
      iface: context.device,
      profile: context.profile,
      synce: { device: context.device, level: 'device' },
      from: context.current,
      to: params.to,
    })),
    rememberDeviceState: assign((_, params: Entered) => ({ current: params.to })),
  },
  guards: {
    /** The EEC follows a LOCKED port: the device is LOCKED. */
    anyPortLocked: ({ context, event }) => has(portsWith(context, event), 'LOCKED'),
    /** No port LOCKED, one in HOLDOVER: the EEC holds over. */
    anyPortInHoldover: ({ context, event }) => has(portsWith(context, event), 'HOLDOVER'),
  },
}).createMachine({
  id: 'synceDevice',
  context: ({ input }) => ({ device: input.device, profile: input.profile, ports: {}, current: null }),
  initial: 'FREERUN',
  on: { 'synce.retire': '.retired' },
  states: {
    FREERUN: { entry: enter('FREERUN'), on: { 'synce.portState': onPortState } },
    LOCKED: { entry: enter('LOCKED'), on: { 'synce.portState': onPortState } },
    HOLDOVER: { entry: enter('HOLDOVER'), on: { 'synce.portState': onPortState } },
    /** Final: the generation ended; nothing is reported. */
    retired: { type: 'final' },
  },
});

export type SynceDeviceActor = ActorRefFrom<typeof synceDeviceMachine>;
