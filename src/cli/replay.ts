// `syncvisor replay FILE [--until MS] [--print states|events|snapshot] [--expect SNAPSHOT.json]`
import { readFileSync } from 'node:fs';
import { isDeepStrictEqual, parseArgs } from 'node:util';
import { parseTrace, TraceError } from '../io/observe/traceFormat.js';
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
    process.stderr.write(`syncvisor replay: ${(err as Error).message}\n`);
    return 1;
  }
  if (values.help) {
    process.stdout.write(replayUsage);
    return 0;
  }
  const file = positionals[0];
  const print = (values.print as string | undefined) ?? 'states';
  if (!file || positionals.length > 1 || !['states', 'events', 'snapshot'].includes(print)) {
    process.stderr.write(replayUsage);
    return 1;
  }
  const until = values.until === undefined ? undefined : Number(values.until);
  if (until !== undefined && !(until >= 0)) {
    process.stderr.write(`syncvisor replay: --until expects milliseconds, got "${String(values.until)}"\n`);
    return 1;
  }
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    process.stderr.write(`syncvisor replay: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? err}\n`);
    return 2;
  }
  let result;
  try {
    const { header, records } = parseTrace(text);
    result = replayTrace(header, records, until === undefined ? {} : { until });
  } catch (err) {
    if (err instanceof TraceError) {
      process.stderr.write(`syncvisor replay: ${file}: ${err.message}\n`);
      return 2;
    }
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
      return 1;
    }
    process.stderr.write(
      `syncvisor replay: final snapshot matches ${String(values.expect)} (${result.delivered} events)\n`,
    );
  }
  return 0;
}
