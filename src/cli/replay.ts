// `syncvisor replay FILE [--until MS] [--print states|events|snapshot] [--expect SNAPSHOT.json] [--inspect]`
import { readFileSync } from 'node:fs';
import { isDeepStrictEqual, parseArgs } from 'node:util';
import { parseTrace, TraceError, type TraceHeader } from '../io/observe/traceFormat.js';
import { ReplayClock, replayTrace, type ReplayOptions } from '../actors/observe/replay.js';
import { currentMachineVersions } from '../actors/observe/replayRegistry.js';
import { changedMachines, describeChanges } from '../actors/observe/machineVersions.js';
import { exitCodes } from '../machines/supervisor/spec.js';
import { UsageError } from './errors.js';

export const replayUsage = `Usage: syncvisor replay FILE [--until MS] [--print states|events|snapshot] [--expect SNAPSHOT.json]
                        [--inspect [--inspect-port N]]

Re-runs a trace recorded with \`syncvisor run --trace FILE\` on a simulated clock, with the I/O actors replaced by
the trace, and prints the state timeline. Exits 1 when --expect does not match the final snapshot (systemId → state
value of every machine alive at the end), 2 when the trace is not valid. When a machine changed since the trace was
recorded (the trace carries each machine's version), it says so on stderr before anything else.

Options:
  --until MS         stop at this time (milliseconds since the recording started)
  --print WHAT       states (default): state changes; events: events and state changes; snapshot: the final snapshot JSON
  --expect FILE      compare the final snapshot with this JSON file
  --inspect          serve the inspector page for this trace on 127.0.0.1 (play, pause, step, seek on the simulated
                     clock) until Ctrl-C
  --inspect-port N   its port (default 9102; 0 picks a free one)
  -h, --help         this text
`;

/** Lines about machines that changed since the trace was recorded (empty when all match or none are recorded). */
export function versionWarnings(header: TraceHeader): string[] {
  if (!header.machineVersions) return [];
  return describeChanges(changedMachines(header.machineVersions, currentMachineVersions()));
}

export async function replayCommand(args: string[]): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        until: { type: 'string' },
        print: { type: 'string' },
        expect: { type: 'string' },
        inspect: { type: 'boolean' },
        'inspect-port': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.help) {
    process.stdout.write(replayUsage);
    return exitCodes.ok;
  }
  const file = positionals[0];
  const print = (values.print as string | undefined) ?? 'states';
  if (!file || positionals.length > 1) throw new UsageError('replay expects exactly one trace FILE');
  if (!['states', 'events', 'snapshot'].includes(print))
    throw new UsageError(`--print expects states, events or snapshot, got "${print}"`);
  const until = values.until === undefined ? undefined : Number(values.until);
  if (until !== undefined && !(until >= 0))
    throw new UsageError(`--until expects milliseconds, got "${String(values.until)}"`);
  const inspectPort = values['inspect-port'] === undefined ? 9102 : Number(values['inspect-port']);
  if (!Number.isInteger(inspectPort) || inspectPort < 0 || inspectPort > 65535)
    throw new UsageError(`--inspect-port expects 0..65535, got "${String(values['inspect-port'])}"`);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    process.stderr.write(`syncvisor replay: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? err}\n`);
    return exitCodes.noInput;
  }
  let result;
  let changed: string[] = [];
  let inspector: Awaited<ReturnType<typeof startReplayInspector>> | undefined;
  try {
    const { header, records } = parseTrace(text);
    changed = versionWarnings(header);
    for (const line of changed) process.stderr.write(`syncvisor replay: ${file}: ${line}\n`);
    if (!header.machineVersions)
      process.stderr.write(
        `syncvisor replay: ${file}: the trace carries no machine versions: a machine change cannot be detected\n`,
      );
    const opts: ReplayOptions = until === undefined ? {} : { until };
    if (values.inspect) {
      inspector = await startReplayInspector(file, inspectPort);
      opts.clock = inspector.clock;
      opts.inspect = inspector.inspect;
    }
    result = replayTrace(header, records, opts);
  } catch (err) {
    await inspector?.stop();
    if (err instanceof TraceError) err.message = `${file}: ${err.message}`;
    throw err;
  }
  if (print === 'snapshot') process.stdout.write(`${JSON.stringify(result.snapshot, null, 2)}\n`);
  else
    for (const s of result.steps)
      if (print === 'events' || s.kind === 'state')
        process.stdout.write(
          `${s.t.toFixed(3).padStart(12)} ${s.kind === 'event' ? '→' : ' '} ${s.actor.padEnd(24)} ${s.text}\n`,
        );
  let code: number = exitCodes.ok;
  if (values.expect) {
    const expected = JSON.parse(readFileSync(values.expect as string, 'utf8')) as unknown;
    if (!isDeepStrictEqual(expected, result.snapshot)) {
      process.stderr.write(
        `syncvisor replay: the final snapshot differs from ${String(values.expect)}\n  expected: ${JSON.stringify(expected)}\n  actual:   ${JSON.stringify(result.snapshot)}\n`,
      );
      if (changed.length > 0)
        process.stderr.write(
          `syncvisor replay: ${changed.length} machine(s) changed since the recording (see above): re-record the trace if the change is intended\n`,
        );
      code = exitCodes.differs;
    } else
      process.stderr.write(
        `syncvisor replay: final snapshot matches ${String(values.expect)} (${result.delivered} events)\n`,
      );
  }
  if (inspector) {
    process.stderr.write(
      `syncvisor replay: inspector at ${inspector.url} (${inspector.records} records; Ctrl-C to stop)\n`,
    );
    await new Promise<void>((resolve) => {
      const done = () => {
        process.off('SIGINT', done);
        process.off('SIGTERM', done);
        resolve();
      };
      process.on('SIGINT', done);
      process.on('SIGTERM', done);
    });
    await inspector.stop();
  }
  return code;
}

/** The local inspector over a replay: records are stamped with the simulated clock and kept whole (bounded). */
async function startReplayInspector(file: string, port: number) {
  const { InspectorStore } = await import('../io/observe/inspectorStore.js');
  const { createInspectionRecorder } = await import('../actors/observe/inspector.js');
  const { createInspectorServer } = await import('../io/observe/inspectorServer.js');
  const { silentLogger } = await import('../io/log.js');
  const clock = new ReplayClock();
  const store = new InspectorStore({ maxRecords: 1_000_000, now: () => clock.now(), mode: 'replay', source: file });
  // The trace is the user's own file: its raw input lines are shown.
  const inspect = createInspectionRecorder(store, { rawLines: true });
  const server = createInspectorServer({ store, port, logger: silentLogger });
  const { url } = await server.start();
  return {
    clock,
    inspect,
    url,
    get records() {
      return store.size;
    },
    stop: () => server.stop(),
  };
}
