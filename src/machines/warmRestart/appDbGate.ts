// appDbGate: APP_DB PORT_TABLE writes during a warm restart's initial sync are HELD, not dropped (docs/warm-restart.md).
//
//   closed ─appDbGate.open {reconcile:false}→ open (flushes what it held)
//     └─appDbGate.open {reconcile:true}→ reconciling: reading ─→ writing ─→ open
//                                                       ↑ └fail┘ └fail→ waitingToRetry ─after reconcileRetry┘
//
// Contract
//   input:   { retryMs?: number (1000), deleteUnmentioned?: boolean (true) }
//   events:  appDb.write {ops: TableOp[]}        desired PORT_TABLE changes from the service (any state)
//            appDbGate.open {reconcile}          from its parent warmRestart (cold: false, warm: true)
//            redis.appDbContent {content}        answer to requestAppDbRead: PORT_TABLE:<key> hashes with pending
//                                                ProducerStateTable entries applied (what a consumer will see)
//            redis.appDbWritten                  answer to requestReconcileWrite: Redis has the writes
//            redis.requestFailed {message}       either request failed (Redis down, timeout)
//   named actions (requests to the Redis owner, redisTables, by systemId; the answers come back as events):
//            requestAppDbRead {keys}, requestReconcileWrite {ops}, forwardToAppDb {ops} (pass-through while open)
//            (without deleteUnmentioned the read asks for the held keys only, chooseReadKeys; an answer that misses
//            keys held after it was sent is read again, readCoversHeld)
//   named actions (no-ops unless provided):
//            heldKeysChanged {count}             syncvisor_app_db_held_keys
//            countReconcileWrites {set, del}     syncvisor_app_db_reconcile_writes_total{op}
//            logReconcileFailure {message}, notifyOpened {set, del} (default: emit appDbGate.opened)
// Closed writes nothing: it keeps the latest desired value per key (successive sets of one key merge their fields,
// as HSET would; a del replaces them). Reconcile writes only keys whose desired fields differ and deletes keys no
// longer desired (src/machines/warmRestart/appDbDiff.ts). A failed read or write (Redis down) retries after a delay
// and keeps holding. STATE_DB is never gated: it is not this machine's concern.
import { assign, emit, enqueueActions, setup } from 'xstate';
import { providedAction } from '../provided.js';
import type { RedisReplyEvent, RedisTablesCommand } from '../portsync/events.js';
import { appDbDiff, type AppDbContent, type DesiredOp } from './appDbDiff.js';

export type { AppDbContent, DesiredOp };

/**
 * An action that sends a command to the Redis owner (systemId redisTables) when it runs; the answer of a request
 * comes back as an event. Params (when the action has any) are passed to `build`.
 */
export function redisRequest<P = undefined>(build: (params: P) => RedisTablesCommand): (_: unknown, params: P) => void {
  // Typed as a plain action so that setup() infers its params; at run time it is an enqueueActions action.
  return enqueueActions(({ system, enqueue }, params: P) => {
    const redis = system.get('redisTables');
    if (redis) enqueue.sendTo(redis, build(params));
  }) as unknown as (_: unknown, params: P) => void;
}

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
  /**
   * The keys the read in progress asks for (the held ones when it was sent), or undefined for every key (the gate
   * deletes unmentioned keys, or too many rounds).
   */
  readKeys: string[] | undefined;
  /** Reads sent in this reconciliation (a read that missed keys held after it is sent again, a few times at most). */
  readRounds: number;
}

export type AppDbGateEvent =
  { type: 'appDb.write'; ops: DesiredOp[] } | { type: 'appDbGate.open'; reconcile: boolean } | RedisReplyEvent;

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

/** Reads of the held keys before the gate reads every key (new keys held while each read was on its way). */
const MAX_KEYED_READS = 3;

export const appDbGateMachine = setup({
  types: {
    input: {} as AppDbGateInput,
    context: {} as AppDbGateContext,
    events: {} as AppDbGateEvent,
    emitted: {} as AppDbGateOpenedEvent,
  },
  guards: {
    shouldReconcile: ({ event }) => event.type === 'appDbGate.open' && event.reconcile,
    hasHeld: ({ context }) => context.heldCount > 0,
    hasLate: ({ context }) => context.late.length > 0,
    /** The answer covers every held key: it asked for all, or nothing was held after it was sent (held only grows). */
    readCoversHeld: ({ context }) => context.readKeys === undefined || context.readKeys.length === context.heldCount,
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
    /** Pass-through while open: the writes go to Redis through redisTables. */
    forwardToAppDb: redisRequest(({ ops }: { ops: DesiredOp[] }) => ({ type: 'redis.write', table: 'app', ops })),
    /** Asks redisTables for APP_DB as a consumer will see it (answer: redis.appDbContent). */
    requestAppDbRead: redisRequest(({ keys }: { keys: string[] | undefined }) =>
      keys === undefined
        ? { type: 'redis.readAppDb', replyTo: 'appDbGate' }
        : { type: 'redis.readAppDb', replyTo: 'appDbGate', keys },
    ),
    /**
     * Which keys the read asks for: without deleteUnmentioned the diff looks at the held keys only, so only those
     * are read (the reconciliation then costs O(held), not O(APP_DB)); every key otherwise, and from the fourth round
     * on (writes of new keys kept arriving while reading).
     */
    chooseReadKeys: assign(({ context }) => ({
      readKeys:
        context.deleteUnmentioned || context.readRounds >= MAX_KEYED_READS ? undefined : Object.keys(context.held),
      readRounds: context.readRounds + 1,
    })),
    /** Asks redisTables to write the reconciliation and confirm it (answer: redis.appDbWritten). */
    requestReconcileWrite: redisRequest(({ ops }: { ops: DesiredOp[] }) => ({
      type: 'redis.reconcileAppDb',
      ops,
      replyTo: 'appDbGate',
    })),
    computeDiff: assign({
      pendingOps: ({ context, event }) =>
        event.type === 'redis.appDbContent'
          ? appDbDiff(event.content, context.held, { deleteUnmentioned: context.deleteUnmentioned })
          : context.pendingOps,
      // Everything held so far is in the diff; only what comes after it is late.
      late: [],
    }),
    recordReconciled: assign({ reconciled: ({ context }) => countOps(context.pendingOps) }),
    countAttempt: assign({ reconcileAttempts: ({ context }) => context.reconcileAttempts + 1 }),
    heldKeysChanged: providedAction<{ count: number }>(),
    countReconcileWrites: providedAction<{ set: number; del: number }>(),
    logReconcileFailure: providedAction<{ message: string; attempt: number }>(),
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
    readKeys: undefined,
    readRounds: 0,
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
          // Cold start: nothing to reconcile against; what was held (if anything) is simply written.
          {
            guard: 'hasHeld',
            target: 'open',
            actions: { type: 'forwardToAppDb', params: ({ context }) => ({ ops: Object.values(context.held) }) },
          },
          { target: 'open' },
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
          entry: [
            'countAttempt',
            'chooseReadKeys',
            { type: 'requestAppDbRead', params: ({ context }) => ({ keys: context.readKeys }) },
          ],
          on: {
            'redis.appDbContent': [
              { guard: 'readCoversHeld', target: 'writing', actions: 'computeDiff' },
              // Keys were held after the read was sent: read again, with them.
              { target: 'reading', reenter: true },
            ],
            'redis.requestFailed': {
              target: 'waitingToRetry',
              actions: {
                type: 'logReconcileFailure',
                params: ({ context, event }) => ({
                  message: `readAppDb: ${event.message}`,
                  attempt: context.reconcileAttempts,
                }),
              },
            },
          },
        },
        writing: {
          entry: { type: 'requestReconcileWrite', params: ({ context }) => ({ ops: context.pendingOps }) },
          on: {
            'redis.appDbWritten': [
              {
                // What arrived after the diff was computed is written once the gate is open.
                guard: 'hasLate',
                target: '#appDbGate.open',
                actions: [
                  'recordReconciled',
                  { type: 'countReconcileWrites', params: ({ context }) => countOps(context.pendingOps) },
                  {
                    type: 'forwardToAppDb',
                    params: ({ context }) => ({ ops: Object.values(holdOps({}, context.late)) }),
                  },
                ],
              },
              {
                target: '#appDbGate.open',
                actions: [
                  'recordReconciled',
                  { type: 'countReconcileWrites', params: ({ context }) => countOps(context.pendingOps) },
                ],
              },
            ],
            'redis.requestFailed': {
              target: 'waitingToRetry',
              actions: {
                type: 'logReconcileFailure',
                params: ({ context, event }) => ({
                  message: `writeAppDb: ${event.message}`,
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
      entry: ['releaseHeld', { type: 'heldKeysChanged', params: { count: 0 } }, 'notifyOpened'],
      on: {
        'appDb.write': {
          actions: { type: 'forwardToAppDb', params: ({ event }) => ({ ops: event.ops }) },
        },
      },
    },
  },
});

export type AppDbGateMachine = typeof appDbGateMachine;
