// appDbGate, model-based: every state and bounded simple paths of closed → reconciling → open, replayed on a real
// actor. Invariants: nothing reaches APP_DB while the gate is not open; Redis is read only in reading and written
// only in writing; once open nothing is held and the gate announced itself exactly once; a cold open forwards
// exactly what was held, an open gate each write as it is.
import { describe, expect } from 'vitest';
import type { AnyMachineSnapshot } from 'xstate';
import {
  appDbGateMachine,
  type AppDbContent,
  type AppDbGateContext,
  type DesiredOp,
} from '../../../src/machines/warmRestart/appDbGate.js';
import { modelPathTests, type ModelSpec } from '../../support/modelTesting.js';

const log = {
  forwarded: [] as DesiredOp[][],
  reads: 0,
  writes: [] as DesiredOp[][],
  opened: 0,
  heldCounts: [] as number[],
};
// The requests to redisTables are recorded; their answers are model events.
const machine = appDbGateMachine.provide({
  actions: {
    requestAppDbRead: () => void (log.reads += 1),
    requestReconcileWrite: (_, p: { ops: DesiredOp[] }) => void log.writes.push(p.ops),
    forwardToAppDb: (_, p: { ops: DesiredOp[] }) => void log.forwarded.push(p.ops),
    heldKeysChanged: (_, p: { count: number }) => void log.heldCounts.push(p.count),
    notifyOpened: () => void (log.opened += 1),
  },
});

const appDb: AppDbContent = { Ethernet0: { mtu: '1500' }, Ethernet8: { mtu: '9100' } };

const ctx = (s: AnyMachineSnapshot) => s.context as AppDbGateContext;

let seen = { forwarded: 0, reads: 0, writes: 0 };

const spec: ModelSpec<typeof machine> = {
  machine,
  input: { retryMs: 1000 },
  events: {
    'appDb.write': [
      { type: 'appDb.write', ops: [{ op: 'set', key: 'Ethernet0', fields: { mtu: '9100' } }] },
      { type: 'appDb.write', ops: [{ op: 'del', key: 'Ethernet4' }] },
    ],
    'appDbGate.open': [
      { type: 'appDbGate.open', reconcile: true },
      { type: 'appDbGate.open', reconcile: false },
    ],
    'redis.appDbContent': [{ type: 'redis.appDbContent', content: appDb }],
    'redis.appDbWritten': [{ type: 'redis.appDbWritten' }],
    'redis.requestFailed': [{ type: 'redis.requestFailed', request: 'readAppDb', message: 'ECONNREFUSED' }],
  },
  // late grows with every write while reconciling and reconcileAttempts with every retry: only their shape matters.
  serialize: (s) => {
    const c = ctx(s);
    return JSON.stringify([
      s.value,
      c.held,
      [...new Set(c.late.map((o) => `${o.op}:${o.key}`))].sort(),
      c.pendingOps,
      c.reconciled,
    ]);
  },
  project: (s) => ({ held: ctx(s).held, heldCount: ctx(s).heldCount, pendingOps: ctx(s).pendingOps }),
  reset: () => {
    log.forwarded = [];
    log.reads = 0;
    log.writes = [];
    log.opened = 0;
    log.heldCounts = [];
    seen = { forwarded: 0, reads: 0, writes: 0 };
  },
  effects: () => log,
  check: ({ snapshot, prev, event }) => {
    const c = ctx(snapshot);
    const isOpen = snapshot.matches('open');
    const wasOpen = prev?.matches('open') ?? false;
    expect(c.heldCount).toBe(Object.keys(c.held).length);
    if (!isOpen) {
      expect(log.forwarded, 'forwardToAppDb while the gate is not open').toEqual([]);
      expect(log.opened).toBe(0);
    } else {
      expect(c.held, 'held map after open').toEqual({});
      expect(c.late).toEqual([]);
      expect(log.opened, 'appDbGate.opened exactly once').toBe(1);
      if (!wasOpen && prev?.matches('closed')) {
        // A cold open writes exactly what was held (nothing when nothing was).
        const held = Object.values(ctx(prev).held);
        expect(log.forwarded).toEqual(held.length > 0 ? [held] : []);
      }
      if (wasOpen && event.type === 'appDb.write') {
        // An open gate passes each write through as it is, once.
        expect(log.forwarded.length, 'writes forwarded while open').toBe(seen.forwarded + 1);
        expect(log.forwarded.at(-1)).toEqual((event as unknown as { ops: DesiredOp[] }).ops);
      }
    }
    if (log.reads > seen.reads) expect(snapshot.matches({ reconciling: 'reading' }), 'readAppDb started').toBe(true);
    if (log.writes.length > seen.writes) {
      expect(snapshot.matches({ reconciling: 'writing' }), 'writeAppDb started').toBe(true);
      expect(log.writes.at(-1)).toEqual(c.pendingOps);
    }
    expect(log.heldCounts.at(-1) ?? 0).toBe(isOpen ? 0 : c.heldCount);
    seen = { forwarded: log.forwarded.length, reads: log.reads, writes: log.writes.length };
  },
};

describe('appDbGate model (xstate/graph)', () => {
  modelPathTests(spec, { minShortestPaths: 11, simplePaths: { maxDepth: 10, max: 300, min: 51 } });
});
