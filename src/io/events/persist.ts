// Atomic JSON files for the events service: write `<path>.tmp` (created O_CREAT|O_EXCL|O_NOFOLLOW, so a planted
// symlink or a leftover is never followed or reused), fsync it, rename it over `<path>`, fsync the directory. A
// crash leaves either the old file or the new one. Reads refuse symlinks too.
import { constants } from 'node:fs';
import { lstat, mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';

const errCode = (err: unknown): string | undefined => (err as NodeJS.ErrnoException | undefined)?.code;

export async function writeFileAtomic(path: string, text: string, mode = 0o600): Promise<void> {
  const dir = dirname(path);
  const tmp = `${path}.tmp`;
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
  let fh;
  try {
    fh = await open(tmp, flags, mode);
  } catch (err) {
    if (errCode(err) !== 'EEXIST') throw err;
    // A leftover of a crash mid-write (or something planted): remove the name itself (rm follows no link), retry once.
    await rm(tmp, { force: true });
    fh = await open(tmp, flags, mode);
  }
  try {
    await fh.writeFile(text, 'utf8');
    await fh.sync();
  } catch (err) {
    await fh.close().catch(() => undefined);
    await rm(tmp, { force: true }).catch(() => undefined);
    throw err;
  }
  await fh.close();
  await rename(tmp, path);
  const dh = await open(dir, 'r');
  try {
    await dh.sync();
  } finally {
    await dh.close();
  }
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
