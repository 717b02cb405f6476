// stateFile, model-based: every state and bounded simple paths of cleanup → load → recovery → ready ⇄ dirty →
// saving → final save, replayed on a real actor with the debounce and retry timers on a ModelClock. Invariants: a
// save only starts from dirty (debounce) or saveFailed (retry), a final save only after shutdown; never two saves at
// once; each save writes the current ports and rotates unless the current file is known bad; the debounce timer is
// armed exactly in dirty and the retry timer exactly in saveFailed; loaded/cold is announced once, when the load
// phase ends; after shutdown the machine only heads for its final save or stopped. Saves are held (input holdSaves,
// as warmRestart starts it): no save but the final one before stateFile.release, which may also come before the
// file is read.
import { describe, expect } from 'vitest';
import { fromPromise, type AnyMachineSnapshot } from 'xstate';
import {
  stateFileMachine,
  type CleanupOutput,
  type LoadOutput,
  type PortMap,
  type PortRecord,
  type StateFileContext,
  type StateFileSlot,
} from '../../../src/machines/warmRestart/stateFile.js';
import * as table from '../../../src/machines/portsync/portTable.js';
import { modelPathTests, type ModelSpec } from '../../support/modelTesting.js';

const log = {
  saves: [] as { ports: PortMap; rotate: boolean }[],
  loads: [] as StateFileSlot[],
  announced: [] as string[],
  savesRunning: 0,
  maxSavesRunning: 0,
};
let shutdownSent = false;
let released = false;
let savesSeen = 0;

const never = () => new Promise<never>(() => {});

const machine = stateFileMachine.provide({
  actors: {
    cleanupStale: fromPromise<CleanupOutput>(never),
    loadState: fromPromise<LoadOutput, { slot: StateFileSlot }>(({ input }) => {
      log.loads.push(input.slot);
      return never();
    }),
    saveState: fromPromise<void, { ports: PortMap; rotate: boolean }>(({ input, signal }) => {
      log.saves.push(structuredClone(input));
      log.savesRunning += 1;
      log.maxSavesRunning = Math.max(log.maxSavesRunning, log.savesRunning);
      signal.addEventListener('abort', () => void (log.savesRunning -= 1));
      return never();
    }),
  },
  actions: {
    notifyLoaded: () => void log.announced.push('loaded'),
    notifyCold: ({ context }) => void log.announced.push(`cold:${context.coldReason}`),
  },
});

function port(name: string, mtu = 9100): PortRecord {
  return { name, adminState: 'up', operState: 'up', flags: 0x41, mtu, ifindex: 10 };
}

const ctx = (s: AnyMachineSnapshot) => s.context as StateFileContext;
const loadPhase = ['cleaningUp', 'loading', 'recovering'];

const spec: ModelSpec<typeof machine> = {
  machine,
  limit: 200_000,
  input: { debounceMs: 200, retryMs: 5000, holdSaves: true },
  events: {
    'stateFile.release': [{ type: 'stateFile.release' }],
    'stateFile.upsert': [{ type: 'stateFile.upsert', port: port('Ethernet0') }],
    'stateFile.remove': [{ type: 'stateFile.remove', name: 'Ethernet4' }],
    shutdown: [{ type: 'shutdown' }],
    'done:cleanupStale': [
      { type: 'done', output: { deleted: [] } },
      { type: 'done', output: { deleted: ['current'], currentAgeDays: 9 } },
    ],
    'done:loadState': [{ type: 'done', output: { savedAt: 1000, ports: { Ethernet4: port('Ethernet4') } } }],
    'error:loadState': [
      { type: 'error', error: { reason: 'missing', message: 'ENOENT' } },
      { type: 'error', error: { reason: 'checksum', message: 'checksum mismatch' } },
      { type: 'error', error: { reason: 'version', message: 'unsupported version 9', isFutureVersion: true } },
    ],
    'error:saveState': [{ type: 'error', error: { message: 'EACCES' } }],
  },
  // Counters and the queue of early changes grow without bound; what they hold decides the future.
  // stopped is terminal.
  serialize: (s) => {
    if (s.value === 'stopped') return 'stopped';
    const { saves: _s, saveFailures: _f, early, ports, ...context } = ctx(s);
    const rest = { ...context, ports: table.toRecord(ports) };
    return JSON.stringify([s.value, rest, [...new Set(early.map((e) => JSON.stringify(e)))]]);
  },
  reset: () => {
    log.saves = [];
    log.loads = [];
    log.announced = [];
    log.savesRunning = 0;
    log.maxSavesRunning = 0;
    shutdownSent = false;
    released = false;
    savesSeen = 0;
  },
  effects: () => ({ saves: log.saves, loads: log.loads, announced: log.announced }),
  check: ({ snapshot, prev, event, clock }) => {
    const c = ctx(snapshot);
    const state = typeof snapshot.value === 'string' ? snapshot.value : JSON.stringify(snapshot.value);
    if (event.type === 'shutdown') shutdownSent = true;
    if (event.type === 'stateFile.release') released = true;
    expect(c.holdSaves, 'held until released').toBe(!released);
    if (state === 'holding' || state === 'holdingChanges') expect(released).toBe(false);
    expect(log.maxSavesRunning, 'two saves at once').toBeLessThanOrEqual(1);
    expect(log.savesRunning).toBe(state === 'saving' || state === 'finalSaving' ? 1 : 0);
    if (log.saves.length > savesSeen) {
      expect(log.saves.length).toBe(savesSeen + 1);
      const from = prev?.value as string;
      if (state === 'saving') expect(['dirty', 'saveFailed'], 'a save starts from dirty or saveFailed').toContain(from);
      if (state === 'saving') expect(released, 'no save before the release').toBe(true);
      else expect(state).toBe('finalSaving');
      if (state === 'finalSaving') expect(shutdownSent, 'final save only after shutdown').toBe(true);
      expect(log.saves.at(-1)).toEqual({ ports: table.toRecord(c.ports), rotate: !c.currentKnownBad });
    }
    savesSeen = log.saves.length;
    const timers = clock.pending().map((t) => t.event?.type ?? '?');
    expect(timers.filter((t) => t.startsWith('xstate.after.saveDebounce')).length).toBe(state === 'dirty' ? 1 : 0);
    expect(timers.filter((t) => t.startsWith('xstate.after.saveRetry')).length).toBe(state === 'saveFailed' ? 1 : 0);
    expect(timers.length).toBeLessThanOrEqual(1);
    if (loadPhase.includes(state)) expect(log.announced).toEqual([]);
    else if (state !== 'stopped' || log.announced.length > 0) {
      expect(log.announced.length, 'loaded/cold announced once').toBe(1);
      expect(c.early, 'early changes applied once loaded').toEqual([]);
    }
    if (log.announced[0] === 'loaded') expect(['current', 'backup']).toContain(c.origin);
    if (log.announced[0]?.startsWith('cold:')) expect(c.origin).toBe('cold');
    if (shutdownSent) {
      expect(['finalSaving', 'stopped', 'saving'], 'after shutdown').toContain(state);
      if (state === 'saving') expect(c.shutdownRequested).toBe(true);
    }
    if (state === 'ready' && prev?.value === 'saving') expect(log.saves.at(-1)?.ports).toEqual(table.toRecord(c.ports));
    if (snapshot.status === 'done') expect(state).toBe('stopped');
  },
};

describe('stateFile model (xstate/graph)', () => {
  modelPathTests(spec, {
    minShortestPaths: 21,
    simplePaths: { maxDepth: 10, max: 500, min: 101 },
  });
});
