// The process logger: pino, JSON lines on stderr so stdout stays free for command output.
import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

export function createLogger(level: LevelWithSilent = 'info', destination: number = 2): Logger {
  return pino({ level, base: { svc: 'syncvisor' } }, pino.destination({ fd: destination, sync: false }));
}

/** A logger that writes nothing, for tests and benchmarks. */
export const silentLogger: Logger = pino({ level: 'silent' });
