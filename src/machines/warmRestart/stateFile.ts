// stateFile: the lifecycle of the warm-restart state file (docs/warm-restart.md).
//
//   cleaningUp ─stale→ cold
//       └→ loading(current) ─ok→ ready          ─future version→ cold
//              └─fail→ recovering(backup) ─ok→ ready (first save without rotation)   ─fail→ cold
//   cold → ready ⇄ dirty ─after saveDebounce→ saving ─ok→ ready | dirty,  ─fail→ saveFailed ─after saveRetry→ saving
//   with input holdSaves: loaded / cold → holding ─change→ holdingChanges; stateFile.release → ready / dirty
//   (no save before the release, e.g. while a warm restart's initial sync and reconciliation run)
//   shutdown (from ready/dirty/saving/saveFailed/cold) → finalSaving → stopped (final);  before load → stopped
//   (changes during finalSaving are dropped: the final save writes what was known at shutdown)
//
// Contract
//   input:   { debounceMs?: number (200), retryMs?: number (5000), holdSaves?: boolean (false) }
//   events:  stateFile.upsert {port}   stateFile.remove {name}   stateFile.replace {ports}   shutdown
//            stateFile.release (saves may start; remembered when it comes before the file is read)
//            (changes that arrive before the file is read are queued and applied over it, then saved)
//   actors (provided by src/actors/warmRestart/stateFileStore.ts):
//     cleanupStale: () → {deleted: ('current'|'backup')[], currentAgeDays?}
//     loadState:   {slot} → {savedAt, ports};  rejects with {reason, message, isFutureVersion?}
//     saveState:   {ports (in no particular key order), rotate} → void;     rejects with an Error
//   emitted (default implementations of notifyLoaded / notifyCold; the composer may provide sendParent instead):
//     stateFile.loaded {ports, slot, savedAt}   stateFile.cold {reason: 'stale'|'missing'|'corrupt'|'futureVersion'}
//   counted/logged through named actions (no-ops unless provided): countLoadFailure {slot, reason, message},
//     countRecovery, countSaveFailure {message}, logCleanup {deleted}, logFutureVersion {message}, logCleanupFailure.
// "Missing" is not a failure (first start): it is not counted, the result is a cold start.
import { and, assign, emit, setup } from 'xstate';
import { providedAction, providedPromise } from '../provided.js';
import * as table from '../portsync/portTable.js';
import type { PortTable } from '../portsync/portTable.js';

import type { ColdReason, PortMap, PortRecord, StateFileChange, StateFileSlot } from './events.js';

export type { ColdReason, PortMap, PortRecord, StateFileChange, StateFileSlot };

export interface StateFileInput {
  debounceMs?: number;
  retryMs?: number;
  /**
   * No save (but the final one on shutdown) until stateFile.release: changes are applied and saved, throttled as
   * usual, once released. warmRestart holds the saves until its initial sync and reconciliation are over.
   */
  holdSaves?: boolean;
}

export interface LoadFailure {
  reason: string;
  message: string;
  isFutureVersion?: boolean;
}

export interface CleanupOutput {
  deleted: StateFileSlot[];
  currentAgeDays?: number | undefined;
}

export interface LoadOutput {
  savedAt: number;
  ports: PortMap;
}

export interface StateFileContext {
  /** A persistent table (src/machines/portsync/portTable.ts): an upsert costs O(√n), not a copy of every port. */
  ports: PortTable<PortRecord>;
  debounceMs: number;
  retryMs: number;
  /** Saves wait for stateFile.release (input holdSaves; cleared by the release, also one before the file is read). */
  holdSaves: boolean;
  /** Where the ports came from. */
  origin: StateFileSlot | 'cold' | undefined;
  /** savedAt of the loaded file (ms since epoch), 0 when cold. */
  savedAt: number;
  coldReason: ColdReason | undefined;
  /** The current file failed to load: do not rotate it over the good backup on the next save. */
  currentKnownBad: boolean;
  /** Changes that arrived before the file was read; applied over what it held. */
  early: StateFileChange[];
  /** Changes arrived while a save was in flight. */
  changedWhileSaving: boolean;
  shutdownRequested: boolean;
  /** The backup slot's failure reason, when recovery failed (kept for the cold reason). */
  lastFailure: LoadFailure | undefined;
  saves: number;
  saveFailures: number;
}

export type StateFileEvent = StateFileChange | { type: 'shutdown' } | { type: 'stateFile.release' };

export type StateFileEmitted =
  | { type: 'stateFile.loaded'; ports: PortMap; slot: StateFileSlot; savedAt: number }
  | { type: 'stateFile.cold'; reason: ColdReason };

function asFailure(error: unknown): LoadFailure {
  if (typeof error === 'object' && error !== null) {
    const e = error as { reason?: unknown; message?: unknown; isFutureVersion?: unknown };
    return {
      reason: typeof e.reason === 'string' ? e.reason : 'unreadable',
      message: typeof e.message === 'string' ? e.message : String(error),
      isFutureVersion: e.isFutureVersion === true,
    };
  }
  return { reason: 'unreadable', message: String(error) };
}

/** The six values of a record are the same (the file would hold the same member). */
function samePort(a: PortRecord, b: PortRecord): boolean {
  return (
    a.name === b.name &&
    a.adminState === b.adminState &&
    a.operState === b.operState &&
    a.flags === b.flags &&
    a.mtu === b.mtu &&
    a.ifindex === b.ifindex
  );
}

/**
 * The table of `next`, keeping the record object of every port whose values did not change: the store's encoder
 * reuses an unchanged port's text by its object, so the save after a dump's replace encodes only what changed
 * instead of every port.
 */
function replacePorts(ports: PortTable<PortRecord>, next: PortMap): PortTable<PortRecord> {
  const before = table.toMap(ports);
  return table.fromRecordMapped(next, (name, port) => {
    const prev = before.get(name);
    return prev !== undefined && samePort(prev, port) ? prev : port;
  });
}

function applyChange(ports: PortTable<PortRecord>, event: StateFileEvent): PortTable<PortRecord> {
  switch (event.type) {
    case 'stateFile.upsert':
      return table.set(ports, event.port.name, event.port);
    case 'stateFile.remove':
      return table.remove(ports, event.name);
    case 'stateFile.replace':
      return replacePorts(ports, event.ports);
    default:
      return ports;
  }
}

/**
 * The ports a save hands the store: a plain record in the table's own order, not sorted (the store's encoder sorts
 * the names, once for a given key order, and keeps an unchanged port's text by its object; sorting 4,096 entries
 * with a comparator here cost more than the encode after one change).
 */
function portsToSave(ports: PortTable<PortRecord>): PortMap {
  const out: PortMap = {};
  for (const [name, port] of table.entries(ports)) {
    if (name === '__proto__')
      Object.defineProperty(out, name, { value: port, enumerable: true, writable: true, configurable: true });
    else out[name] = port;
  }
  return out;
}

/**
 * Once the file is read (or the start is cold): the changes that came before it are applied over it; saves wait in
 * holding / holdingChanges while they are held, else start from ready / dirty.
 */
const afterRead = [
  { guard: and(['savesHeld', 'hasEarlyChanges']), target: 'holdingChanges', actions: 'applyEarlyChanges' },
  { guard: 'savesHeld', target: 'holding' },
  { guard: 'hasEarlyChanges', target: 'dirty', actions: 'applyEarlyChanges' },
  { target: 'ready' },
] as const;

export const stateFileMachine = setup({
  types: {
    input: {} as StateFileInput,
    context: {} as StateFileContext,
    events: {} as StateFileEvent,
    emitted: {} as StateFileEmitted,
  },
  actors: {
    // Placeholders: the composition module provides the real ones (src/actors/warmRestart/stateFileStore.ts), tests provide fakes.
    cleanupStale: providedPromise<CleanupOutput>('cleanupStale'),
    loadState: providedPromise<LoadOutput, { slot: StateFileSlot }>('loadState'),
    saveState: providedPromise<void, { ports: PortMap; rotate: boolean }>('saveState'),
  },
  guards: {
    currentWasDeleted: (_, params: { deleted: StateFileSlot[] }) => params.deleted.includes('current'),
    isFutureVersion: (_, params: { failure: LoadFailure }) => params.failure.isFutureVersion === true,
    isMissing: (_, params: { failure: LoadFailure }) => params.failure.reason === 'missing',
    shutdownRequested: ({ context }) => context.shutdownRequested,
    changedWhileSaving: ({ context }) => context.changedWhileSaving,
    hasEarlyChanges: ({ context }) => context.early.length > 0,
    savesHeld: ({ context }) => context.holdSaves,
  },
  delays: {
    saveDebounce: ({ context }) => context.debounceMs,
    saveRetry: ({ context }) => context.retryMs,
  },
  actions: {
    applyChange: assign({ ports: ({ context, event }) => applyChange(context.ports, event) }),
    markChangedWhileSaving: assign({ changedWhileSaving: true }),
    queueEarlyChange: assign({
      early: ({ context, event }) =>
        event.type === 'shutdown' || event.type === 'stateFile.release' ? context.early : [...context.early, event],
    }),
    /** A release before the saves were held (the file not read yet): nothing will be held. */
    releaseSaves: assign({ holdSaves: false }),
    applyEarlyChanges: assign({
      ports: ({ context }) => context.early.reduce(applyChange, context.ports),
      early: [],
    }),
    requestShutdown: assign({ shutdownRequested: true }),
    notifyLoaded: emit(({ context }) => ({
      type: 'stateFile.loaded' as const,
      ports: table.toRecord(context.ports),
      slot: context.origin === 'backup' ? ('backup' as const) : ('current' as const),
      savedAt: context.savedAt,
    })),
    notifyCold: emit(({ context }) => ({ type: 'stateFile.cold' as const, reason: context.coldReason ?? 'missing' })),
    countLoadFailure: providedAction<{ slot: StateFileSlot; reason: string; message: string }>(),
    countRecovery: providedAction(),
    countSaveFailure: providedAction<{ message: string }>(),
    countSaved: providedAction(),
    logCleanup: providedAction<{ deleted: StateFileSlot[]; currentAgeDays: number | undefined }>(),
    logCleanupFailure: providedAction<{ message: string }>(),
    logFutureVersion: providedAction<{ message: string }>(),
  },
}).createMachine({
  id: 'stateFile',
  context: ({ input }) => ({
    ports: table.empty<PortRecord>(),
    debounceMs: input?.debounceMs ?? 200,
    retryMs: input?.retryMs ?? 5000,
    holdSaves: input?.holdSaves ?? false,
    origin: undefined,
    savedAt: 0,
    coldReason: undefined,
    currentKnownBad: false,
    early: [],
    changedWhileSaving: false,
    shutdownRequested: false,
    lastFailure: undefined,
    saves: 0,
    saveFailures: 0,
  }),
  initial: 'cleaningUp',
  on: {
    // Before a state is known, a shutdown just stops: saving nothing over a file we have not read yet.
    shutdown: '.stopped',
    // Netlink does not wait for the file: changes that arrive while it loads are applied after it.
    'stateFile.upsert': { actions: 'queueEarlyChange' },
    'stateFile.remove': { actions: 'queueEarlyChange' },
    'stateFile.replace': { actions: 'queueEarlyChange' },
    'stateFile.release': { actions: 'releaseSaves' },
  },
  states: {
    cleaningUp: {
      invoke: {
        src: 'cleanupStale',
        onDone: [
          {
            guard: { type: 'currentWasDeleted', params: ({ event }) => ({ deleted: event.output.deleted }) },
            target: 'cold',
            actions: [
              assign({ coldReason: 'stale' }),
              {
                type: 'logCleanup',
                params: ({ event }) => ({ deleted: event.output.deleted, currentAgeDays: event.output.currentAgeDays }),
              },
            ],
          },
          {
            target: 'loading',
            actions: {
              type: 'logCleanup',
              params: ({ event }) => ({ deleted: event.output.deleted, currentAgeDays: event.output.currentAgeDays }),
            },
          },
        ],
        // A failed cleanup (e.g. an unreadable directory) is logged; the load step decides what the files are worth.
        onError: {
          target: 'loading',
          actions: { type: 'logCleanupFailure', params: ({ event }) => ({ message: asFailure(event.error).message }) },
        },
      },
    },
    loading: {
      invoke: {
        src: 'loadState',
        input: { slot: 'current' },
        onDone: {
          target: 'loaded',
          actions: assign({
            ports: ({ event }) => table.fromRecord(event.output.ports),
            savedAt: ({ event }) => event.output.savedAt,
            origin: 'current',
          }),
        },
        onError: [
          {
            guard: { type: 'isFutureVersion', params: ({ event }) => ({ failure: asFailure(event.error) }) },
            target: 'cold',
            actions: [
              assign({ coldReason: 'futureVersion', currentKnownBad: true }),
              { type: 'logFutureVersion', params: ({ event }) => ({ message: asFailure(event.error).message }) },
              {
                type: 'countLoadFailure',
                params: ({ event }) => ({ slot: 'current' as const, ...asFailure(event.error) }),
              },
            ],
          },
          {
            guard: { type: 'isMissing', params: ({ event }) => ({ failure: asFailure(event.error) }) },
            target: 'recovering',
            actions: assign({ lastFailure: ({ event }) => asFailure(event.error) }),
          },
          {
            target: 'recovering',
            actions: [
              assign({ currentKnownBad: true, lastFailure: ({ event }) => asFailure(event.error) }),
              {
                type: 'countLoadFailure',
                params: ({ event }) => ({ slot: 'current' as const, ...asFailure(event.error) }),
              },
            ],
          },
        ],
      },
    },
    recovering: {
      invoke: {
        src: 'loadState',
        input: { slot: 'backup' },
        onDone: {
          target: 'loaded',
          actions: [
            assign({
              ports: ({ event }) => table.fromRecord(event.output.ports),
              savedAt: ({ event }) => event.output.savedAt,
              origin: 'backup',
            }),
            'countRecovery',
          ],
        },
        onError: [
          {
            guard: { type: 'isMissing', params: ({ event }) => ({ failure: asFailure(event.error) }) },
            target: 'cold',
            actions: assign({
              coldReason: ({ context }) => (context.currentKnownBad ? 'corrupt' : 'missing'),
            }),
          },
          {
            target: 'cold',
            actions: [
              assign({ coldReason: 'corrupt', lastFailure: ({ event }) => asFailure(event.error) }),
              {
                type: 'countLoadFailure',
                params: ({ event }) => ({ slot: 'backup' as const, ...asFailure(event.error) }),
              },
            ],
          },
        ],
      },
    },
    loaded: {
      entry: 'notifyLoaded',
      always: afterRead,
    },
    cold: {
      entry: [assign({ origin: 'cold', ports: table.empty<PortRecord>() }), 'notifyCold'],
      always: afterRead,
    },
    holding: {
      // Saves held (nothing changed yet): the file on disk stays the one that was read.
      on: {
        'stateFile.upsert': { target: 'holdingChanges', actions: 'applyChange' },
        'stateFile.remove': { target: 'holdingChanges', actions: 'applyChange' },
        'stateFile.replace': { target: 'holdingChanges', actions: 'applyChange' },
        'stateFile.release': { target: 'ready', actions: 'releaseSaves' },
        shutdown: 'finalSaving',
      },
    },
    holdingChanges: {
      // Saves held, changes applied: saved (throttled as any change) once released, or by the final save.
      on: {
        'stateFile.upsert': { actions: 'applyChange' },
        'stateFile.remove': { actions: 'applyChange' },
        'stateFile.replace': { actions: 'applyChange' },
        'stateFile.release': { target: 'dirty', actions: 'releaseSaves' },
        shutdown: 'finalSaving',
      },
    },
    ready: {
      on: {
        'stateFile.upsert': { target: 'dirty', actions: 'applyChange' },
        'stateFile.remove': { target: 'dirty', actions: 'applyChange' },
        'stateFile.replace': { target: 'dirty', actions: 'applyChange' },
        shutdown: 'finalSaving',
      },
    },
    dirty: {
      // A throttle, not a reset-on-every-change debounce: a flap storm still saves once per window.
      after: { saveDebounce: 'saving' },
      on: {
        'stateFile.upsert': { actions: 'applyChange' },
        'stateFile.remove': { actions: 'applyChange' },
        'stateFile.replace': { actions: 'applyChange' },
        shutdown: 'finalSaving',
      },
    },
    saving: {
      entry: assign({ changedWhileSaving: false }),
      invoke: {
        src: 'saveState',
        input: ({ context }) => ({ ports: portsToSave(context.ports), rotate: !context.currentKnownBad }),
        onDone: [
          {
            guard: 'shutdownRequested',
            target: 'finalSaving',
            actions: [assign({ currentKnownBad: false, saves: ({ context }) => context.saves + 1 }), 'countSaved'],
          },
          {
            guard: 'changedWhileSaving',
            target: 'dirty',
            actions: [assign({ currentKnownBad: false, saves: ({ context }) => context.saves + 1 }), 'countSaved'],
          },
          {
            target: 'ready',
            actions: [assign({ currentKnownBad: false, saves: ({ context }) => context.saves + 1 }), 'countSaved'],
          },
        ],
        onError: [
          {
            guard: 'shutdownRequested',
            target: 'finalSaving',
            actions: [
              assign({ saveFailures: ({ context }) => context.saveFailures + 1 }),
              { type: 'countSaveFailure', params: ({ event }) => ({ message: asFailure(event.error).message }) },
            ],
          },
          {
            target: 'saveFailed',
            actions: [
              assign({ saveFailures: ({ context }) => context.saveFailures + 1 }),
              { type: 'countSaveFailure', params: ({ event }) => ({ message: asFailure(event.error).message }) },
            ],
          },
        ],
      },
      on: {
        'stateFile.upsert': { actions: ['applyChange', 'markChangedWhileSaving'] },
        'stateFile.remove': { actions: ['applyChange', 'markChangedWhileSaving'] },
        'stateFile.replace': { actions: ['applyChange', 'markChangedWhileSaving'] },
        shutdown: { actions: 'requestShutdown' },
      },
    },
    saveFailed: {
      // The daemon keeps running with an unwritable directory: retry later, keep collecting changes.
      after: { saveRetry: 'saving' },
      on: {
        'stateFile.upsert': { actions: 'applyChange' },
        'stateFile.remove': { actions: 'applyChange' },
        'stateFile.replace': { actions: 'applyChange' },
        shutdown: 'finalSaving',
      },
    },
    finalSaving: {
      invoke: {
        src: 'saveState',
        input: ({ context }) => ({ ports: portsToSave(context.ports), rotate: !context.currentKnownBad }),
        onDone: {
          target: 'stopped',
          actions: [assign({ saves: ({ context }) => context.saves + 1 }), 'countSaved'],
        },
        onError: {
          target: 'stopped',
          actions: [
            assign({ saveFailures: ({ context }) => context.saveFailures + 1 }),
            { type: 'countSaveFailure', params: ({ event }) => ({ message: asFailure(event.error).message }) },
          ],
        },
      },
      on: {
        // Changes during the final save are not saved: we are stopping (the next start reconciles with the kernel's
        // dump). They are dropped here, not queued as early changes by the root handlers: nothing would apply them.
        'stateFile.upsert': {},
        'stateFile.remove': {},
        'stateFile.replace': {},
        shutdown: {},
      },
    },
    stopped: {
      type: 'final',
    },
  },
  output: ({ context }) => ({ saves: context.saves, saveFailures: context.saveFailures }),
});

export type StateFileMachine = typeof stateFileMachine;
