// clockBank: the clockState actors of one generation, invoked by the sidecar while it serves. Edges from the
// generation actor arrive here (forwarded by the sidecar) and go to their clock, which is created on its first edge.
// The clocks are real XState actors of the same system (systemId `ptp.clock.<key>`, visible to the inspector and to
// traces) whose parent is the sidecar, so their `clock.stateChanged` reports go straight to it.
//
// Why not spawned children of the sidecar machine: XState stops a machine's children one by one, copying the
// children map for each (n² work: 8,000 clocks took 11 s to stop). Here stopping the bank retires each clock once
// (`clock.retire` → its final state, which stops the actor and its timers): linear. The parser already bounds which clocks can exist (configured interfaces and processes only).
// The bank also holds the synceDevice charts of the generation (one per synce4l device, created on the first state of
// one of its ports, key `synce4l-device/<device>`): the sidecar forwards each synce4l port's state here; and the
// osClockDiscipline chart of each profile whose phc2sys logs its source selection (key `phc2sys-discipline/<profile>`,
// created on the first such edge); and the osClockOwner chart of each profile with NTP failover (`chronydOpts`, key
// `os-clock-owner/<profile>`, started with the bank).
import { createActor } from 'xstate';
import {
  clockStateMachine,
  type ClockBankLogic,
  type ClockBankSnapshot,
  type ClockStateActor,
  type ClockStateInput,
} from '../../machines/ptp/clockState.js';
import {
  osClockDisciplinePrefix,
  osClockOwnerPrefix,
  type ClockEdge,
  type ClockVerdict,
  type OsClockOwnerSignal,
  type OsClockSignal,
  type SyncePortStateEvent,
} from '../../machines/ptp/events.js';
import { osClockOwnerMachine, type OsClockOwnerActor } from '../../machines/ptp/osClockOwner.js';
import { osClockDisciplineMachine, type OsClockDisciplineActor } from '../../machines/ptp/osClockDiscipline.js';
import { synceDeviceMachine, type SynceDeviceActor } from '../../machines/ptp/synceDevice.js';
import { derivedLogic } from '../observe/derived.js';

export const clockSystemId = (key: string): string => `ptp.clock.${key}`;
const synceDeviceKey = (device: string): string => `synce4l-device/${device}`;

const verdictEvent = (e: ClockEdge) => {
  const ev: { type: `clock.${ClockVerdict}`; offset?: number; clockClass?: number } = {
    type: `clock.${e.verdict as ClockVerdict}`,
  };
  if (e.offset !== undefined) ev.offset = e.offset;
  if (e.clockClass !== undefined) ev.clockClass = e.clockClass;
  return ev;
};

/** The bank's logic, with `clockLogic` for each clock (the real clockState machine unless a test swaps it). */
export function createClockBank(clockLogic = clockStateMachine): ClockBankLogic {
  derivedLogic(clockLogic);
  const spawn = (snap: ClockBankSnapshot, seed: ClockStateInput): ClockStateActor => {
    const input: ClockStateInput = {
      key: seed.key,
      process: seed.process,
      iface: seed.iface,
      profile: seed.profile,
      holdoverTimeoutMs: seed.holdoverTimeoutMs,
      ...(seed.synce !== undefined ? { synce: seed.synce } : {}),
      clockType: seed.clockType ?? snap.input.clockTypes?.[seed.profile] ?? 'OC',
      osClockFallback:
        seed.process === 'phc2sys' &&
        seed.iface === 'CLOCK_REALTIME' &&
        (snap.input.chronydProfiles?.includes(seed.profile) ?? false)
          ? 'chronyd'
          : 'none',
    };
    const ref = createActor(clockLogic, {
      parent: snap.input.owner,
      id: `clock:${seed.key}`,
      systemId: clockSystemId(seed.key),
      input,
    });
    snap.children[seed.key] = ref;
    ref.start();
    return ref;
  };
  const spawnDevice = (snap: ClockBankSnapshot, e: SyncePortStateEvent): SynceDeviceActor => {
    const key = synceDeviceKey(e.device);
    const ref = createActor(synceDeviceMachine, {
      parent: snap.input.owner,
      id: `clock:${key}`,
      systemId: clockSystemId(key),
      input: { device: e.device, profile: e.profile },
    });
    snap.children[key] = ref;
    ref.start();
    return ref;
  };
  const spawnDiscipline = (snap: ClockBankSnapshot, e: ClockEdge): OsClockDisciplineActor => {
    const ref = createActor(osClockDisciplineMachine, {
      parent: snap.input.owner,
      id: `clock:${e.key}`,
      systemId: clockSystemId(e.key),
      input: { profile: e.profile, chronydEnabled: snap.input.chronydProfiles?.includes(e.profile) ?? false },
    });
    snap.children[e.key] = ref;
    ref.start();
    return ref;
  };
  const spawnOwner = (snap: ClockBankSnapshot, profile: string): OsClockOwnerActor => {
    const key = `${osClockOwnerPrefix}${profile}`;
    const ref = createActor(osClockOwnerMachine, {
      parent: snap.input.owner,
      id: `clock:${key}`,
      systemId: clockSystemId(key),
      input: { profile },
    });
    snap.children[key] = ref;
    ref.start();
    return ref;
  };
  const logic: ClockBankLogic = {
    getInitialSnapshot: (_scope, input) => ({
      status: 'active',
      output: undefined,
      error: undefined,
      children: {},
      input,
    }),
    start: (snap) => {
      for (const p of snap.input.chronydProfiles ?? []) spawnOwner(snap, p);
      for (const s of snap.input.seeds) if (!(s.key in snap.children)) spawn(snap, s);
    },
    transition: (snap, event) => {
      if (snap.status !== 'active') return snap;
      if (event.type === 'xstate.stop') {
        // Linear: each clock retires once (its final state stops it), no per-clock copy of the whole map.
        for (const [key, ref] of Object.entries(snap.children)) {
          if (key.startsWith('synce4l-device/')) (ref as SynceDeviceActor).send({ type: 'synce.retire' });
          else if (key.startsWith(osClockDisciplinePrefix)) {
            (ref as OsClockDisciplineActor).send({ type: 'discipline.retire' });
          } else if (key.startsWith(osClockOwnerPrefix)) {
            (ref as OsClockOwnerActor).send({ type: 'owner.retire' });
          } else (ref as ClockStateActor).send({ type: 'clock.retire' });
        }
        return { ...snap, status: 'stopped', children: {} };
      }
      if (event.type === 'ptp.edges') {
        for (const e of event.edges) {
          if (e.key.startsWith(osClockDisciplinePrefix)) {
            const ref = (snap.children[e.key] as OsClockDisciplineActor | undefined) ?? spawnDiscipline(snap, e);
            ref.send({ type: `discipline.${e.verdict as OsClockSignal}` });
            continue;
          }
          if (e.key.startsWith(osClockOwnerPrefix)) {
            // Only profiles with chronydOpts have one (started with the bank); the parser sends no other.
            const ref = snap.children[e.key] as OsClockOwnerActor | undefined;
            ref?.send({ type: `owner.${e.verdict as OsClockOwnerSignal}` });
            continue;
          }
          ((snap.children[e.key] as ClockStateActor | undefined) ?? spawn(snap, e)).send(verdictEvent(e));
        }
      } else if (event.type === 'synce.portState') {
        const device = snap.children[synceDeviceKey(event.device)] as SynceDeviceActor | undefined;
        (device ?? spawnDevice(snap, event)).send(event);
      }
      return snap;
    },
    getPersistedSnapshot: (snap) => ({ status: snap.status, output: undefined, error: undefined }),
  };
  // The machines it runs, for the machine versions of a trace.
  return derivedLogic(logic, [clockLogic, synceDeviceMachine, osClockDisciplineMachine]);
}
