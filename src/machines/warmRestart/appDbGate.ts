// appDbGate: APP_DB PORT_TABLE writes during a warm restart's initial sync are HELD, not dropped (ARCHITECTURE.md §4).
//
//   closed ─appDbGate.open {reconcile:false}→ open (flushes what it held)
//     └─appDbGate.open {reconcile:true}→ reconciling: reading ─→ writing ─→ open
//                                                       ↑ └fail┘ └fail→ waitingToRetry ─after reconcileRetry┘
//
// Contract
//   input:   { retryMs?: number (1000), deleteUnmentioned?: boolean (true) }
//   events:  appDb.write {ops: DesiredOp[]}      desired PORT_TABLE changes from the service (any state)
//            appDbGate.open {reconcile}          from warmRestart's openAppDbGate (cold: false, warm: true)
//   actors:  readAppDb: () → AppDbContent        current PORT_TABLE:<key> hashes, with pending ProducerStateTable
//                                                entries applied (_PORT_TABLE:<key> fields over them for keys in
//                                                PORT_TABLE_KEY_SET; keys in PORT_TABLE_DEL_SET treated as absent)
//            writeAppDb: {ops} → void            the reconciliation writes (ProducerStateTable set/del)
//   named actions (no-ops unless provided):
//            forwardToAppDb {ops}                pass-through while open (the composer's Redis writer)
//            heldKeysChanged {count}             syncvisor_app_db_held_keys
//            countReconcileWrites {set, del}     syncvisor_app_db_reconcile_writes_total{op}
//            logReconcileFailure {message}, notifyOpened {set, del} (default: emit appDbGate.opened)
// Closed writes nothing: it keeps the latest desired value per key (successive sets of one key merge their fields,
// as HSET would; a del replaces them). Reconcile writes only keys whose desired fields differ and deletes keys no
// longer desired (src/machines/warmRestart/appDbDiff.ts). A failed read or write (Redis down) retries after a delay and keeps
// holding. STATE_DB is never gated: it is not this machine's concern.
import { assign, emit, enqueueActions, fromPromise, setup } from 'xstate';
import { appDbDiff, type AppDbContent, type DesiredOp } from './appDbDiff.js';

export type { AppDbContent, DesiredOp };

export interface AppDbGateInput {
  retryMs?: number;
  deleteUnmentioned?: boolean;
}

export interface AppDbGateContext {
  held: Record<string, DesiredOp>;
  heldCount: number;
  /** Ops that arrived after the diff was computed; written when the gate opens. */
  late: DesiredOp[];
  pendingOps: DesiredOp[];
  retryMs: number;
  deleteUnmentioned: boolean;
  reconcileAttempts: number;
  reconciled: { set: number; del: number } | undefined;
}

export type AppDbGateEvent = { type: 'appDb.write'; ops: DesiredOp[] } | { type: 'appDbGate.open'; reconcile: boolean };

export interface AppDbGateOpenedEvent {
  type: 'appDbGate.opened';
  set: number;
  del: number;
}

/** Folds ops into the held map: set after set merges fields (HSET semantics), del replaces. */
export function holdOps(held: Record<string, DesiredOp>, ops: readonly DesiredOp[]): Record<string, DesiredOp> {
  const next = { ...held };
  for (const op of ops) {
    const prev = next[op.key];
    if (op.op === 'set' && prev?.op === 'set') {
      next[op.key] = { op: 'set', key: op.key, fields: { ...prev.fields, ...op.fields } };
    } else {
      next[op.key] = op;
    }
  }
  return next;
}

function countOps(ops: readonly DesiredOp[]): { set: number; del: number } {
  let set = 0;
  for (const op of ops) if (op.op === 'set') set += 1;
  return { set, del: ops.length - set };
}

export const appDbGateMachine = setup({
  types: {
    input: {} as AppDbGateInput,
    context: {} as AppDbGateContext,
    events: {} as AppDbGateEvent,
    emitted: {} as AppDbGateOpenedEvent,
  },
  actors: {
    readAppDb: fromPromise<AppDbContent>(async () => {
      throw new Error("actor 'readAppDb' was not provided");
    }),
    writeAppDb: fromPromise<void, { ops: DesiredOp[] }>(async () => {
      throw new Error("actor 'writeAppDb' was not provided");
    }),
  },
  guards: {
    shouldReconcile: ({ event }) => event.type === 'appDbGate.open' && event.reconcile,
  },
  delays: {
    reconcileRetry: ({ context }) => context.retryMs,
  },
  actions: {
    hold: assign(({ context, event }) => {
      if (event.type !== 'appDb.write') return {};
      const held = holdOps(context.held, event.ops);
      return { held, heldCount: Object.keys(held).length };
    }),
    holdLate: assign(({ context, event }) =>
      event.type === 'appDb.write' ? { late: [...context.late, ...event.ops] } : {},
    ),
    releaseHeld: assign({ held: {}, heldCount: 0, late: [], pendingOps: [] }),
    forwardToAppDb: (_, _params: { ops: DesiredOp[] }) => {},
    heldKeysChanged: (_, _params: { count: number }) => {},
    countReconcileWrites: (_, _params: { set: number; del: number }) => {},
    logReconcileFailure: (_, _params: { message: string; attempt: number }) => {},
    notifyOpened: emit(({ context }) => ({
      type: 'appDbGate.opened' as const,
      set: context.reconciled?.set ?? 0,
      del: context.reconciled?.del ?? 0,
    })),
  },
}).createMachine({
  id: 'appDbGate',
  context: ({ input }) => ({
    held: {},
    heldCount: 0,
    late: [],
    pendingOps: [],
    retryMs: input?.retryMs ?? 1000,
    deleteUnmentioned: input?.deleteUnmentioned ?? true,
    reconcileAttempts: 0,
    reconciled: undefined,
  }),
  initial: 'closed',
  states: {
    closed: {
      on: {
        'appDb.write': {
          actions: ['hold', { type: 'heldKeysChanged', params: ({ context }) => ({ count: context.heldCount }) }],
        },
        'appDbGate.open': [
          { guard: 'shouldReconcile', target: 'reconciling' },
          {
            // Cold start: nothing to reconcile against; what was held (if anything) is simply written.
            target: 'open',
            actions: enqueueActions(({ context, enqueue }) => {
              if (context.heldCount > 0) {
                enqueue({ type: 'forwardToAppDb', params: { ops: Object.values(context.held) } });
              }
            }),
          },
        ],
      },
    },
    reconciling: {
      initial: 'reading',
      on: {
        'appDb.write': {
          actions: [
            'hold',
            'holdLate',
            { type: 'heldKeysChanged', params: ({ context }) => ({ count: context.heldCount }) },
          ],
        },
      },
      states: {
        reading: {
          entry: assign({ reconcileAttempts: ({ context }) => context.reconcileAttempts + 1 }),
          invoke: {
            src: 'readAppDb',
            onDone: {
              target: 'writing',
              actions: assign({
                pendingOps: ({ context, event }) =>
                  appDbDiff(event.output, context.held, { deleteUnmentioned: context.deleteUnmentioned }),
                // Everything held so far is in the diff; only what comes after it is late.
                late: [],
              }),
            },
            onError: {
              target: 'waitingToRetry',
              actions: {
                type: 'logReconcileFailure',
                params: ({ context, event }) => ({
                  message: `readAppDb: ${String((event.error as Error)?.message ?? event.error)}`,
                  attempt: context.reconcileAttempts,
                }),
              },
            },
          },
        },
        writing: {
          invoke: {
            src: 'writeAppDb',
            input: ({ context }) => ({ ops: context.pendingOps }),
            onDone: {
              target: '#appDbGate.open',
              actions: [
                assign({ reconciled: ({ context }) => countOps(context.pendingOps) }),
                { type: 'countReconcileWrites', params: ({ context }) => countOps(context.pendingOps) },
              ],
            },
            onError: {
              target: 'waitingToRetry',
              actions: {
                type: 'logReconcileFailure',
                params: ({ context, event }) => ({
                  message: `writeAppDb: ${String((event.error as Error)?.message ?? event.error)}`,
                  attempt: context.reconcileAttempts,
                }),
              },
            },
          },
        },
        waitingToRetry: {
          after: { reconcileRetry: 'reading' },
        },
      },
    },
    open: {
      entry: [
        enqueueActions(({ context, enqueue }) => {
          if (context.late.length > 0) {
            enqueue({ type: 'forwardToAppDb', params: { ops: Object.values(holdOps({}, context.late)) } });
          }
        }),
        'releaseHeld',
        { type: 'heldKeysChanged', params: { count: 0 } },
        'notifyOpened',
      ],
      on: {
        'appDb.write': {
          actions: { type: 'forwardToAppDb', params: ({ event }) => ({ ops: event.ops }) },
        },
      },
    },
  },
});

export type AppDbGateMachine = typeof appDbGateMachine;
