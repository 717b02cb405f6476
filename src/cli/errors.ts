// The one table from error kind to exit code at the process edge. Everything a command throws ends here: a usage
// error names the command's --help, a configuration error the key and the reason, a malformed input file its line;
// anything else is a bug or an environment failure and exits EX_SOFTWARE with its stack, never as "usage".
import { ConfigError } from '../config/load.js';
import { TraceError } from '../io/observe/traceFormat.js';
import { exitCodes, type ExitCode } from '../machines/supervisor/spec.js';

/** A bad command line: unknown command, flag or argument. */
export class UsageError extends Error {
  override name = 'UsageError';
}

interface ErrorKind {
  matches: (err: unknown) => boolean;
  code: ExitCode;
  message: (err: Error, cmd: string | undefined) => string;
}

export const errorKinds: readonly ErrorKind[] = [
  {
    matches: (err) => err instanceof UsageError,
    code: exitCodes.usage,
    message: (err, cmd) => `${err.message}\nTry: syncvisor ${cmd ? `${cmd} ` : ''}--help`,
  },
  {
    matches: (err) => err instanceof ConfigError,
    code: exitCodes.config,
    message: (err) => `invalid configuration:\n${err.message.replace(/^/gm, '  ')}`,
  },
  {
    matches: (err) => err instanceof TraceError,
    code: exitCodes.dataErr,
    message: (err) => `invalid trace: ${err.message}`,
  },
];

/** The exit code and the one message for an error thrown by a command. */
export function describeError(err: unknown, cmd: string | undefined): { code: ExitCode; message: string } {
  const e = err instanceof Error ? err : new Error(String(err));
  const kind = errorKinds.find((k) => k.matches(err));
  if (kind) return { code: kind.code, message: `syncvisor: ${kind.message(e, cmd)}` };
  return { code: exitCodes.software, message: `syncvisor: internal error: ${e.stack ?? e.message}` };
}
