// stateFileStore: the fromPromise actors the stateFile machine names (cleanupStale, loadState, saveState), adapting
// src/io/warmRestart/stateFileStore.ts. Use: stateFileMachine.provide({ actors: createStateFileStore({...}) }).
// Failures reject: load with a StateFileError (reason, message, isFutureVersion), which the machine decides on.
import { fromPromise } from 'xstate';
import type { Logger } from '../../io/log.js';
import {
  cleanupStaleStateFiles,
  loadStateFile,
  saveStateFile,
  StateFileReadCache,
} from '../../io/warmRestart/stateFileStore.js';
import { StateFileEncoder } from '../../io/warmRestart/stateFileEncoder.js';
import type { CleanupOutput, LoadOutput, PortMap, StateFileSlot } from '../../machines/warmRestart/stateFile.js';

export interface StateFileStoreDeps {
  path: string;
  maxAgeDays: number;
  logger: Logger;
  /** Wall clock in ms since the epoch (savedAt and file age); tests pass a fixed one. */
  now: () => number;
}

export function createStateFileStore(deps: StateFileStoreDeps) {
  const { path, maxAgeDays, logger, now } = deps;
  // The cleanup's read of each file is reused by the load right after it: one read per file per start.
  const cache = new StateFileReadCache();
  // Keeps each port's text between saves: the machine's port table keeps an unchanged port's object, so a save after
  // a few changes encodes those ports only.
  const encoder = new StateFileEncoder();
  return {
    cleanupStale: fromPromise<CleanupOutput>(async () => {
      const result = await cleanupStaleStateFiles(path, maxAgeDays, now(), cache);
      if (result.deleted.length > 0) {
        logger.info(
          { path, deleted: result.deleted, ageDays: result.currentAgeDays, maxAgeDays },
          'stale warm-restart state file deleted: cold start',
        );
      }
      return result;
    }),
    loadState: fromPromise<LoadOutput, { slot: StateFileSlot }>(async ({ input }) => {
      const content = await loadStateFile(path, input.slot, cache);
      return { savedAt: content.savedAt, ports: content.ports };
    }),
    saveState: fromPromise<void, { ports: PortMap; rotate: boolean }>(async ({ input }) => {
      await saveStateFile(path, input.ports, { now: now(), rotate: input.rotate, encoder });
    }),
  };
}
