// The state file on disk: atomic save with rotation, the load chain (current, then backup) and stale cleanup.
// Pure node:fs, no XState; every failure is a typed value or a rejected promise with a StateFileError/Node error.
import type { Stats } from 'node:fs';
import { lstat, rm } from 'node:fs/promises';
import { writeFileAtomic } from '../fs/atomicWrite.js';
import type { GuardedReadError } from '../fs/guardedRead.js';
import { readGuarded } from '../fs/guardedRead.js';
import {
  decodeStateFile,
  type DecodeResult,
  StateFileError,
  type PersistedPort,
  type StateFileContent,
} from './stateFileCodec.js';
import { StateFileEncoder } from './stateFileEncoder.js';
import type { StateFileSlot } from '../../machines/warmRestart/events.js';

export type { StateFileSlot };

export function backupPathOf(path: string): string {
  return `${path}.backup`;
}

export function tmpPathOf(path: string): string {
  return `${path}.tmp`;
}

export function slotPath(path: string, slot: StateFileSlot): string {
  return slot === 'current' ? path : backupPathOf(path);
}

function errCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : undefined;
}

/** A state file larger than this is refused unread (thousands of ports need well under 1 MiB). */
export const stateFileMaxBytes = 16 * 1024 * 1024;

interface CachedRead {
  stat: Stats;
  result: DecodeResult | StateFileError;
}

/**
 * What the stale cleanup read, handed to the load that follows, so that a start reads each file once. An entry is
 * used only while the path still names the same file (dev, ino, size, mtime, ctime), and only once.
 */
export class StateFileReadCache {
  private readonly entries = new Map<string, CachedRead>();
  put(file: string, entry: CachedRead): void {
    this.entries.set(file, entry);
  }
  async take(file: string): Promise<CachedRead['result'] | undefined> {
    const entry = this.entries.get(file);
    if (!entry) return undefined;
    this.entries.delete(file);
    const now = await lstat(file).catch(() => undefined);
    const a = entry.stat;
    if (!now || now.dev !== a.dev || now.ino !== a.ino || now.size !== a.size) return undefined;
    if (now.mtimeMs !== a.mtimeMs || now.ctimeMs !== a.ctimeMs) return undefined;
    return entry.result;
  }
}

/** One guarded read (regular file, no symlink, at most stateFileMaxBytes) and decode of `file`. */
async function readAndDecode(file: string): Promise<{ stat?: Stats; result: DecodeResult | StateFileError }> {
  let data: Buffer;
  let st: Stats;
  try {
    ({ data, stat: st } = await readGuarded(file, { maxBytes: stateFileMaxBytes }));
  } catch (err) {
    const e = err as GuardedReadError;
    if (e.reason === 'missing') return { result: new StateFileError('missing', `${file} does not exist`) };
    return { result: new StateFileError('unreadable', e.message) };
  }
  return { stat: st, result: decodeStateFile(data.toString('utf8')) };
}

/** Reads and decodes one slot; rejects with a StateFileError (reason 'missing' when the file does not exist). */
export async function loadStateFile(
  path: string,
  slot: StateFileSlot = 'current',
  cache?: StateFileReadCache,
): Promise<StateFileContent> {
  const file = slotPath(path, slot);
  const result = (await cache?.take(file)) ?? (await readAndDecode(file)).result;
  if (result instanceof StateFileError) throw result;
  if (!result.ok) {
    throw new StateFileError(result.error.reason, `${file}: ${result.error.message}`, result.error.foundVersion);
  }
  return result.value;
}

export interface LoadChainResult {
  content: StateFileContent;
  slot: StateFileSlot;
  /** Why the current file was not used, when the backup was. */
  currentError?: StateFileError;
}

/**
 * current → backup. Rejects with the backup's error (its `cause` is the current file's error) when neither loads.
 * A future version stops the chain at once: its backup is likely of the same kind, and we never guess a format.
 */
export async function loadStateFileChain(path: string): Promise<LoadChainResult> {
  try {
    return { content: await loadStateFile(path, 'current'), slot: 'current' };
  } catch (err) {
    const currentError = err as StateFileError;
    if (currentError.isFutureVersion) throw currentError;
    try {
      return { content: await loadStateFile(path, 'backup'), slot: 'backup', currentError };
    } catch (backupErr) {
      (backupErr as Error).cause = currentError;
      throw backupErr;
    }
  }
}

export interface SaveOptions {
  /** ms since epoch written as savedAt. */
  now: number;
  /** Rename the current file to `.backup` first (default true). False when the current file is known to be bad. */
  rotate?: boolean;
  /**
   * The encoder of this file's saves: it keeps each port's text from its previous save, so a save after a few changes
   * encodes only those ports. Without one the save encodes every port (same bytes).
   */
  encoder?: StateFileEncoder;
}

/**
 * Atomic save: write `.tmp` and fsync it, rename current → `.backup`, rename `.tmp` → current, fsync the directory.
 * The temp file is written before the rotation so that the window without a current file is two renames long; a crash
 * inside it leaves a good `.backup`, which the load chain recovers. The temp name is predictable: whatever is there
 * is removed (a symlink is removed, its target untouched) and a new file is created exclusively, never through a
 * symlink. Creates the directory when it is missing. The file work is one thread-pool job (src/io/fs/atomicWrite.ts):
 * exactly those system calls, the encoded bytes written with one write.
 */
export async function saveStateFile(
  path: string,
  ports: Record<string, PersistedPort>,
  opts: SaveOptions,
): Promise<void> {
  const encoder = opts.encoder ?? new StateFileEncoder();
  const data = encoder.encode(ports, opts.now);
  try {
    await writeFileAtomic(path, data, {
      tmpPath: tmpPathOf(path),
      backupPath: (opts.rotate ?? true) ? backupPathOf(path) : undefined,
      mode: 0o644,
      createDir: true,
    });
  } finally {
    // Written (or failed): the write no longer reads the bytes, the encoder may reuse their memory.
    encoder.done(data);
  }
}

export interface CleanupResult {
  /** Slots whose files were deleted as stale. */
  deleted: StateFileSlot[];
  /** Age of the current file in days (from savedAt when it decodes, else mtime); undefined when it is missing. */
  currentAgeDays: number | undefined;
}

const dayMs = 86_400_000;

async function ageDays(file: string, now: number, cache?: StateFileReadCache): Promise<number | undefined> {
  let st: Stats;
  try {
    st = await lstat(file);
  } catch (err) {
    if (errCode(err) === 'ENOENT') return undefined;
    throw err;
  }
  // savedAt is what we wrote; mtime is only a fallback for files that do not decode (a copy can refresh mtime).
  let at = st.mtimeMs;
  const read = await readAndDecode(file);
  if (!(read.result instanceof StateFileError) && read.result.ok) at = read.result.value.savedAt;
  if (read.stat) cache?.put(file, { stat: read.stat, result: read.result });
  return (now - at) / dayMs;
}

/** Deletes the current and backup files when they are older than maxAgeDays. */
export async function cleanupStaleStateFiles(
  path: string,
  maxAgeDays: number,
  now: number,
  /** Keeps what was read for the load that follows (read once per start). */
  cache?: StateFileReadCache,
): Promise<CleanupResult> {
  const deleted: StateFileSlot[] = [];
  let currentAgeDays: number | undefined;
  for (const slot of ['current', 'backup'] as const) {
    const file = slotPath(path, slot);
    const age = await ageDays(file, now, cache);
    if (slot === 'current') currentAgeDays = age;
    if (age !== undefined && age > maxAgeDays) {
      await rm(file, { force: true });
      deleted.push(slot);
    }
  }
  return { deleted, currentAgeDays };
}
