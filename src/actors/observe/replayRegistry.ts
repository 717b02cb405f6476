// The machines a trace can name, for `syncvisor replay`, and how to rebuild the I/O results that are more than data.
import type { AnyActorLogic, AnyEventObject, AnyStateMachine } from 'xstate';
import { PtpGeneration } from '../../io/ptp/generation.js';
import { createClockBank } from '../ptp/clockBank.js';
import { createGenerationActor } from '../ptp/generationActor.js';
import { eventsServiceMachine } from '../../machines/events/eventsService.js';
import { portsyncMachine } from '../../machines/portsync/portsync.js';
import { ptpSidecarMachine } from '../../machines/ptp/ptpSidecar.js';
import { supervisorMachine } from '../../machines/supervisor/supervisor.js';
import { clockStateMachine } from '../../machines/ptp/clockState.js';
import { osClockDisciplineMachine } from '../../machines/ptp/osClockDiscipline.js';
import { osClockOwnerMachine } from '../../machines/ptp/osClockOwner.js';
import { synceDeviceMachine } from '../../machines/ptp/synceDevice.js';
import { deliveryMachine } from '../../machines/events/delivery.js';
import { appDbGateMachine } from '../../machines/warmRestart/appDbGate.js';
import { eoiuDetectorMachine } from '../../machines/warmRestart/eoiuDetector.js';
import { stateFileMachine } from '../../machines/warmRestart/stateFile.js';
import { warmRestartMachine } from '../../machines/warmRestart/warmRestart.js';
import { machineVersions } from './machineVersions.js';

export interface ReplayEntry {
  machine: AnyStateMachine;
  /** Turns a recorded event back into what the machine got live (e.g. a loaded PTP generation). */
  rehydrate?: (event: AnyEventObject) => AnyEventObject;
  /** Derived actors (src/actors/observe/derived.ts) that run for real in a replay: their events re-happen. */
  actors?: Record<string, AnyActorLogic>;
}

/**
 * Keyed by machine id. Every machine of src/machines is here (test/actors/observe/replayRegistry.test.ts walks their
 * exports), except those in `notStandalone`, which a registered machine runs.
 */
export const replayRegistry: Record<string, ReplayEntry> = {
  supervisor: { machine: supervisorMachine },
  portsync: { machine: portsyncMachine },
  eventsService: { machine: eventsServiceMachine },
  // The machines portsync and the sidecar run as children, for traces of one machine on its own (a model path
  // written as a trace): the root supervisor runs it as its only service.
  warmRestart: { machine: warmRestartMachine },
  stateFile: { machine: stateFileMachine },
  eoiuDetector: { machine: eoiuDetectorMachine },
  appDbGate: { machine: appDbGateMachine },
  clockState: { machine: clockStateMachine },
  // The clock bank's other charts (src/actors/ptp/clockBank.ts).
  synceDevice: { machine: synceDeviceMachine },
  osClockDiscipline: { machine: osClockDisciplineMachine },
  osClockOwner: { machine: osClockOwnerMachine },
  delivery: { machine: deliveryMachine },
  ptpSidecar: {
    machine: ptpSidecarMachine,
    rehydrate: (event) =>
      event.type.startsWith('xstate.done.actor.') && PtpGeneration.isTrace(event.output)
        ? { ...event, output: PtpGeneration.fromTrace(event.output) }
        : event,
    actors: { ptpGeneration: createGenerationActor(), clockBank: createClockBank() },
  },
};

/** Machines that cannot be a trace's service on their own, with the reason; a registered machine runs each. */
export const notStandalone: Record<string, string> = {
  childLifecycle: "the supervisor's own child machine: its input holds the child's actor logic, not data",
};

/** The versions of the machines a replay runs: every registered machine and the machines they invoke or spawn. */
export function currentMachineVersions(): Record<string, string> {
  return machineVersions(Object.values(replayRegistry).map((e) => e.machine));
}
