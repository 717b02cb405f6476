// Which inspection observers the daemon gets: the local inspector (--inspect), the Stately inspector
// (--stately-inspect) and the trace recorder (--trace). With none of them, createActor gets no `inspect` at all.
import type { InspectionEvent } from 'xstate';
import type { Config } from '../../config/schema.js';
import type { Logger } from '../../io/log.js';
import { hashConfig, toTraceJson, traceFormat, traceVersion, type TraceMachine } from '../../io/observe/traceFormat.js';
import { isStateMachine } from './machineChart.js';
import { machineVersions } from './machineVersions.js';
import { collectTreeSnapshot } from './treeSnapshot.js';
import { writeFileAtomic } from '../../io/observe/traceWriter.js';
import { openTraceWriter, type TraceWriter } from '../../io/observe/traceWriter.js';
import type { SupervisorActor } from '../../machines/supervisor/supervisor.js';

export interface AttachedInspectors {
  inspectors: Array<(ev: InspectionEvent) => void>;
  /**
   * With trace recording on: writes a source event that reached its machine without XState seeing it (a PTP line
   * batch taken by the direct path, src/actors/ptp/lineChannel.ts) as the event it replaces, in order with the rest.
   */
  recordSourceEvent?: (to: string, event: { type: string }) => void;
  /** Called once the root runs (the trace header lists the machines then). */
  started(root: SupervisorActor): void;
  stop(): Promise<void>;
}

export async function attachInspectors(config: Config, logger: Logger): Promise<AttachedInspectors> {
  const inspectors: Array<(ev: InspectionEvent) => void> = [];
  const stops: Array<() => Promise<void> | void> = [];
  let trace: TraceWriter | undefined;

  if (config.inspect.enabled) {
    const { createLocalInspector } = await import('./inspector.js');
    const local = createLocalInspector({
      port: config.inspect.port,
      logger,
      maxRecords: config.inspect.history,
      rawLines: config.inspect.rawLines,
    });
    const { url } = await local.start();
    logger.info({ url }, 'inspector: open this page');
    // Also on stdout, for the person who asked for it (stderr carries the log stream, whatever its level).
    process.stdout.write(`syncvisor: inspector at ${url}\n`);
    inspectors.push(local.inspect);
    stops.push(() => local.stop());
  }
  if (config.inspect.stately) {
    const { createStatelyInspector } = await import('./inspector.js');
    const stately = await createStatelyInspector({ logger, port: config.inspect.statelyPort });
    const url = await stately.start();
    if (url) process.stdout.write(`syncvisor: stately inspector relay at ${url} (the page loads stately.ai)\n`);
    else
      process.stderr.write(
        `syncvisor: warning: stately inspector relay cannot listen on 127.0.0.1:${config.inspect.statelyPort}\n`,
      );
    inspectors.push(stately.inspect);
    stops.push(() => stately.stop());
  }
  let startTrace: ((root: SupervisorActor) => void) | undefined;
  let recordSourceEvent: AttachedInspectors['recordSourceEvent'];
  if (config.trace.path) {
    const { createTraceRecorder } = await import('./traceRecorder.js');
    // Events of the root's start come before the header can list the machines: held, then written after it (with
    // any source event written directly meanwhile, in their order).
    let held: Array<InspectionEvent | (() => void)> = [];
    let record: ((ev: InspectionEvent) => void) | undefined;
    inspectors.push((ev) => (record ? record(ev) : held.push(ev)));
    recordSourceEvent = (to, event) => {
      if (record) trace?.write(to, event);
      else held.push(() => trace?.write(to, event));
    };
    startTrace = (root) => {
      const ctx = root.getSnapshot().context;
      const machines: TraceMachine[] = [{ systemId: 'supervisor', machine: 'supervisor' }];
      for (const id of ctx.order) {
        const s = ctx.specs[id]!;
        const logic = s.logic as { id?: string; config?: unknown };
        machines.push({
          systemId: s.systemId,
          machine: isStateMachine(logic) ? logic.id : 'callback',
          input: s.input === undefined ? undefined : JSON.parse(toTraceJson(s.input)),
          receives: s.receives,
          drain: s.drain,
          reportsReady: s.reportsReady,
          shutdownOrder: s.shutdownOrder,
        });
      }
      const supervisor = {
        maxRestarts: ctx.input.maxRestarts,
        periodMs: ctx.input.periodMs,
        backoff: ctx.input.backoff,
        shutdownTimeoutMs: ctx.input.shutdownTimeoutMs,
      };
      const running = [(root as { logic?: unknown }).logic, ...ctx.order.map((id) => ctx.specs[id]!.logic)].filter(
        isStateMachine,
      );
      trace = openTraceWriter(config.trace.path, {
        format: traceFormat,
        version: traceVersion,
        configHash: hashConfig(config),
        machineVersions: machineVersions(running),
        machines,
        supervisor,
      });
      let untraceable = 0;
      record = createTraceRecorder(trace, (type) => {
        if (untraceable++ === 0) logger.warn({ event: type }, 'trace: an event reached an actor without systemId');
      });
      // The live tree just before the shutdown reaches the root, written beside the trace: the snapshot a replay
      // of this trace must end in (`syncvisor replay FILE --expect FILE.snapshot.json`).
      let snapshotWritten = false;
      const recordAndSnapshot = record;
      record = (ev) => {
        if (
          !snapshotWritten &&
          ev.type === '@xstate.event' &&
          ev.actorRef === root &&
          (ev.event.type === 'shutdown' || ev.event.type === 'supervisor.exit')
        ) {
          snapshotWritten = true;
          writeFileAtomic(
            `${config.trace.path}.snapshot.json`,
            `${JSON.stringify(collectTreeSnapshot(root), null, 2)}\n`,
          );
        }
        recordAndSnapshot(ev);
      };
      const live = record;
      held.forEach((h) => (typeof h === 'function' ? h() : live(h)));
      held = [];
      logger.info({ path: config.trace.path }, 'trace: recording');
    };
  }

  return {
    inspectors,
    ...(recordSourceEvent ? { recordSourceEvent } : {}),
    started(root) {
      startTrace?.(root);
    },
    async stop() {
      for (const s of stops) await s();
      if (trace) await trace.close();
    },
  };
}
