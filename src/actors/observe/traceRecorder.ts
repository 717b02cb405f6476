// Records every event that enters the actor system from outside: sent by an I/O actor (callback or promise logic:
// netlink frames, socket lines, load results) or by the process itself (shutdown), to a machine with a systemId.
// Events between machines and delayed events are not recorded: a replay re-creates them.
import type { AnyActorRef, InspectionEvent } from 'xstate';
import type { TraceWriter } from '../../io/observe/traceWriter.js';
import { isDerivedLogic } from './derived.js';
import { isStateMachine } from './machineChart.js';

interface RefWithSystem {
  systemId?: string;
  logic?: unknown;
}

export function createTraceRecorder(writer: TraceWriter, onUntraceable?: (type: string) => void) {
  return (ev: InspectionEvent): void => {
    if (ev.type !== '@xstate.event') return;
    const target = ev.actorRef as AnyActorRef & RefWithSystem;
    const source = ev.sourceRef as (AnyActorRef & RefWithSystem) | undefined;
    if (source && isStateMachine(source.logic)) return; // internal: machine → machine, raise, delayed
    if (isDerivedLogic(source?.logic) || isDerivedLogic(target.logic)) return; // derived from recorded events
    if (!isStateMachine(target.logic)) return; // into an I/O actor: its effect comes back as an event anyway
    if (ev.event.type.startsWith('xstate.init')) return;
    if (!target.systemId) {
      onUntraceable?.(ev.event.type);
      return;
    }
    writer.write(target.systemId, ev.event);
  };
}
