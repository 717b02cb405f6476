// The state file on disk: atomic save with rotation, the load chain (current, then backup) and stale cleanup.
// Pure node:fs, no XState; every failure is a typed value or a rejected promise with a StateFileError/Node error.
import { open, readFile, rename, rm, stat, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import {
  decodeStateFile,
  encodeStateFile,
  StateFileError,
  type PersistedPort,
  type StateFileContent,
} from './stateFileCodec.js';
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

/** Reads and decodes one slot; rejects with a StateFileError (reason 'missing' when the file does not exist). */
export async function loadStateFile(path: string, slot: StateFileSlot = 'current'): Promise<StateFileContent> {
  const file = slotPath(path, slot);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if (errCode(err) === 'ENOENT') throw new StateFileError('missing', `${file} does not exist`);
    throw new StateFileError('unreadable', `${file}: ${(err as Error).message}`);
  }
  const result = decodeStateFile(text);
  if (!result.ok) {
    result.error.message = `${file}: ${result.error.message}`;
    throw result.error;
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
}

/**
 * Atomic save: write `.tmp` and fsync it, rename current → `.backup`, rename `.tmp` → current, fsync the directory.
 * The temp file is written before the rotation so that the window without a current file is two renames long; a crash
 * inside it leaves a good `.backup`, which the load chain recovers. Creates the directory when it is missing.
 */
export async function saveStateFile(
  path: string,
  ports: Record<string, PersistedPort>,
  opts: SaveOptions,
): Promise<void> {
  const dir = dirname(path);
  const tmp = tmpPathOf(path);
  await mkdir(dir, { recursive: true });
  const fh = await open(tmp, 'w', 0o644);
  try {
    await fh.writeFile(encodeStateFile(ports, opts.now), 'utf8');
    await fh.sync();
  } finally {
    await fh.close();
  }
  if (opts.rotate ?? true) {
    try {
      await rename(path, backupPathOf(path));
    } catch (err) {
      if (errCode(err) !== 'ENOENT') {
        await rm(tmp, { force: true }).catch(() => undefined);
        throw err;
      }
    }
  }
  await rename(tmp, path);
  await fsyncDir(dir);
}

async function fsyncDir(dir: string): Promise<void> {
  const dh = await open(dir, 'r');
  try {
    await dh.sync();
  } finally {
    await dh.close();
  }
}

export interface CleanupResult {
  /** Slots whose files were deleted as stale. */
  deleted: StateFileSlot[];
  /** Age of the current file in days (from savedAt when it decodes, else mtime); undefined when it is missing. */
  currentAgeDays: number | undefined;
}

const dayMs = 86_400_000;

async function ageDays(file: string, now: number): Promise<number | undefined> {
  let mtimeMs: number;
  try {
    mtimeMs = (await stat(file)).mtimeMs;
  } catch (err) {
    if (errCode(err) === 'ENOENT') return undefined;
    throw err;
  }
  // savedAt is what we wrote; mtime is only a fallback for files that do not decode (a copy can refresh mtime).
  let at = mtimeMs;
  try {
    const decoded = decodeStateFile(await readFile(file, 'utf8'));
    if (decoded.ok) at = decoded.value.savedAt;
  } catch {
    // unreadable: keep mtime; the load step reports it
  }
  return (now - at) / dayMs;
}

/** Deletes the current and backup files when they are older than maxAgeDays. */
export async function cleanupStaleStateFiles(path: string, maxAgeDays: number, now: number): Promise<CleanupResult> {
  const deleted: StateFileSlot[] = [];
  let currentAgeDays: number | undefined;
  for (const slot of ['current', 'backup'] as const) {
    const file = slotPath(path, slot);
    const age = await ageDays(file, now);
    if (slot === 'current') currentAgeDays = age;
    if (age !== undefined && age > maxAgeDays) {
      await rm(file, { force: true });
      deleted.push(slot);
    }
  }
  return { deleted, currentAgeDays };
}
