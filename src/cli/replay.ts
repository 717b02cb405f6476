// `syncvisor replay FILE [--until MS] [--print states|events|snapshot] [--expect SNAPSHOT.json]`
import { readFileSync } from 'node:fs';
import { isDeepStrictEqual, parseArgs } from 'node:util';
import { parseTrace, TraceError } from '../io/observe/traceFormat.js';
import { exitCodes } from '../machines/supervisor/spec.js';
import { UsageError } from './errors.js';
import { replayTrace } from '../actors/observe/replay.js';

export const replayUsage = `Usage: syncvisor replay FILE [--until MS] [--print states|events|snapshot] [--expect SNAPSHOT.json]

Re-runs a trace recorded with \`syncvisor run --trace FILE\` on a simulated clock, with the I/O actors replaced by
the trace, and prints the state timeline. Exits 1 when --expect does not match the final snapshot (systemId → state
value of every machine alive at the end), 2 when the trace is not valid.

Options:
  --until MS       stop at this time (milliseconds since the recording started)
  --print WHAT     states (default): state changes; events: events and state changes; snapshot: the final snapshot JSON
  --expect FILE    compare the final snapshot with this JSON file
  -h, --help       this text
`;

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
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    process.stderr.write(`syncvisor replay: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? err}\n`);
    return exitCodes.noInput;
  }
  let result;
  try {
    const { header, records } = parseTrace(text);
    result = replayTrace(header, records, until === undefined ? {} : { until });
  } catch (err) {
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
  if (values.expect) {
    const expected = JSON.parse(readFileSync(values.expect as string, 'utf8')) as unknown;
    if (!isDeepStrictEqual(expected, result.snapshot)) {
      process.stderr.write(
        `syncvisor replay: the final snapshot differs from ${String(values.expect)}\n  expected: ${JSON.stringify(expected)}\n  actual:   ${JSON.stringify(result.snapshot)}\n`,
      );
      return exitCodes.differs;
    }
    process.stderr.write(
      `syncvisor replay: final snapshot matches ${String(values.expect)} (${result.delivered} events)\n`,
    );
  }
  return exitCodes.ok;
}
