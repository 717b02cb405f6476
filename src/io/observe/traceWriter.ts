// Appends trace lines to a file. Writes are buffered in a stream; the file is flushed on close.
import {
  closeSync,
  constants,
  createWriteStream,
  openSync,
  renameSync,
  rmSync,
  writeFileSync,
  type WriteStream,
} from 'node:fs';
import { performance } from 'node:perf_hooks';
import { toTraceJson, type TraceHeader } from './traceFormat.js';

export interface TraceWriter {
  write(to: string, event: unknown): void;
  close(): Promise<void>;
  readonly records: number;
}

export function openTraceWriter(path: string, header: TraceHeader): TraceWriter {
  const out: WriteStream = createWriteStream(path, { flags: 'w', mode: 0o640 });
  const start = performance.now();
  let records = 0;
  let failed = false;
  out.on('error', () => {
    failed = true;
  });
  out.write(`${JSON.stringify(header)}\n`);
  return {
    write(to, event) {
      if (failed) return;
      const t = Math.round((performance.now() - start) * 1000) / 1000;
      out.write(`{"t":${t},"to":${JSON.stringify(to)},"event":${toTraceJson(event)}}\n`);
      records++;
    },
    close: () => new Promise((resolve) => out.end(() => resolve())),
    get records() {
      return records;
    },
  };
}

/**
 * Small files written whole, synchronously (the snapshot beside a trace, taken in the step that reaches the root): a
 * temp file, then a rename, so a reader never sees half of it. The temp name is predictable, so whatever sits there is
 * removed first (a symlink itself, never its target) and the file is created exclusively, never through a symlink.
 */
export function writeFileAtomic(path: string, text: string): void {
  const tmp = `${path}.tmp`;
  rmSync(tmp, { force: true });
  const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o640);
  try {
    writeFileSync(fd, text);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}
