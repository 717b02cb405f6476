// Atomic JSON files for the events service, through the daemon's one durable replace (src/io/fs/atomicWrite.ts):
// write `<path>.tmp` (created O_CREAT|O_EXCL|O_NOFOLLOW, so a planted symlink or a leftover is never followed or
// reused), fsync it, rename it over `<path>`, fsync the directory. A crash leaves either the old file or the new one.
// Reads refuse symlinks too.
import { constants } from 'node:fs';
import { lstat, open, readFile } from 'node:fs/promises';
import { writeFileAtomic as writeFileAtomicBytes } from '../fs/atomicWrite.js';

const errCode = (err: unknown): string | undefined => (err as NodeJS.ErrnoException | undefined)?.code;

/** Replaces `path` durably with `text` (file mode `mode`, a missing directory created 0o700). */
export async function writeFileAtomic(path: string, text: string, mode = 0o600): Promise<void> {
  await writeFileAtomicBytes(path, Buffer.from(text, 'utf8'), {
    tmpPath: `${path}.tmp`,
    mode,
    createDir: true,
    dirMode: 0o700,
  });
}

/** The file's text, or undefined when it does not exist. A symlink or a file over `maxBytes` is an error. */
export async function readFileIfExists(path: string, maxBytes: number): Promise<string | undefined> {
  let st;
  try {
    st = await lstat(path);
  } catch (err) {
    if (errCode(err) === 'ENOENT') return undefined;
    throw err;
  }
  if (!st.isFile()) throw new Error(`${path} is not a regular file`);
  if (st.size > maxBytes) throw new Error(`${path} is larger than ${maxBytes} bytes`);
  const fh = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    return await readFile(fh, 'utf8');
  } finally {
    await fh.close();
  }
}
