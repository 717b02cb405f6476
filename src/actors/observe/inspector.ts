// Inspection of the live actor system. createLocalInspector turns XState v5 inspection events (@xstate.actor,
// @xstate.event, @xstate.snapshot) into the plain JSON records of the local inspector page (state values, contexts
// and payloads, bounded) and serves it on 127.0.0.1. createStatelyInspector relays the same events to the Stately
// inspector through @statelyai/inspect (the successor of @xstate/inspect, which targets XState v4 only). The daemon
// passes `inspect` to createActor only when --inspect / --stately-inspect is given: otherwise nothing is attached.
import type { ActorRefLike, InspectionEvent } from 'xstate';
import type * as StatelyInspect from '@statelyai/inspect';
import type { Logger } from '../../io/log.js';
import { createInspectorServer } from '../../io/observe/inspectorServer.js';
import { createStatelyRelay, type StatelyRelay } from '../../io/observe/statelyRelay.js';
import { InspectorStore, type ActorInfo, type ActorStatus, type JsonValue } from '../../io/observe/inspectorStore.js';
import { toJsonSafe } from '../../io/observe/jsonSafe.js';
import { chartOf, isStateMachine } from './machineChart.js';

export interface RecorderOptions {
  /** Keys of event payloads and contexts that carry raw peer input (PTP lines): withheld unless `rawLines`. */
  rawLines?: boolean;
  /** Bounds of one context or payload (values visited; default 20 000). */
  maxNodes?: number;
}

export interface LocalInspectorOptions extends RecorderOptions {
  port: number;
  logger: Logger;
  /** Capacity of the history (default 10 000 records). */
  maxRecords?: number;
  assetsDir?: string;
}

export interface LocalInspector {
  inspect: (ev: InspectionEvent) => void;
  start(): Promise<{ url: string; port: number }>;
  stop(): Promise<void>;
  /** The records, for tests and for other consumers. */
  store: InspectorStore;
}

interface Tracked {
  info: ActorInfo;
  valueJson: string;
  contextJson: string;
  children: Set<string>;
}

/** The parts of an ActorRef the recorder reads (`systemId` and `logic` are public but untyped in v5). */
interface InspectedRef {
  sessionId: string;
  id: string;
  systemId?: string;
  logic?: unknown;
  getSnapshot(): unknown;
}

/**
 * Where raw peer input sits: `line` / `lines` of the socket's events, and the ptp sidecar's load queue (`queue` in its
 * context, handed on as the generation's `backlog`), which holds the texts read while a generation loads.
 */
export const rawLineKeys: ReadonlySet<string> = new Set(['line', 'lines', 'queue', 'backlog']);

function event0Active(ref: unknown): boolean {
  const snap = (ref as InspectedRef).getSnapshot() as { status?: unknown } | undefined;
  return toStatus(snap?.status) === 'active';
}

function toStatus(s: unknown): ActorStatus {
  return s === 'done' || s === 'error' || s === 'stopped' ? s : 'active';
}

/**
 * The translation from inspection events to records, without the server (tests use it directly). An actor's parent
 * is learned from public API only: the `xstate.init` event a child gets names its parent as the source, and a
 * parent's snapshot lists its children.
 */
export function createInspectionRecorder(
  store: InspectorStore,
  opts: RecorderOptions = {},
): (ev: InspectionEvent) => void {
  const tracked = new Map<string, Tracked>();
  // The event record of each delivered event object, per receiving actor: XState hands the same object to the
  // @xstate.snapshot that results from it, so a snapshot names its own event even when more were queued meanwhile.
  // (One object can go to several actors: forwardTo.)
  const eventSeqs = new WeakMap<object, Map<string, number>>();
  const machineKeys = new WeakMap<object, string>();
  const usedKeys = new Set<string>();
  const safe = (v: unknown): JsonValue =>
    toJsonSafe(v, {
      maxNodes: opts.maxNodes ?? 20_000,
      ...(opts.rawLines ? {} : { withhold: rawLineKeys, withheldNote: 'raw input lines: set inspect.rawLines' }),
    });

  const machineKey = (logic: object, id: string): string => {
    let key = machineKeys.get(logic);
    if (key) return key;
    key = id;
    for (let n = 2; usedKeys.has(key); n++) key = `${id}#${n}`;
    usedKeys.add(key);
    machineKeys.set(logic, key);
    try {
      store.publish({ kind: 'chart', machine: key, chart: chartOf(logic as never) as unknown as JsonValue });
    } catch {
      store.publish({ kind: 'chart', machine: key, chart: null });
    }
    return key;
  };

  const stopTree = (id: string, status: ActorStatus) => {
    const t = tracked.get(id);
    if (!t) return;
    tracked.delete(id);
    if (t.info.status === 'active') store.publish({ kind: 'stopped', id, status });
    for (const c of t.children) stopTree(c, 'stopped');
  };

  const setParent = (childId: string, parentId: string) => {
    const t = tracked.get(childId);
    if (!t || t.info.parentId === parentId || childId === parentId) return;
    // The child moves: its former parent no longer claims it (else that parent's next snapshot, which does not list
    // it, would mark a live child stopped: the clock bank's clocks name the sidecar as parent in their xstate.init).
    if (t.info.parentId !== undefined) tracked.get(t.info.parentId)?.children.delete(childId);
    t.info.parentId = parentId;
    tracked.get(parentId)?.children.add(childId);
    store.publish({ kind: 'actor', actor: { ...t.info } });
  };

  const register = (actorRef: ActorRefLike) => {
    const ref = actorRef as unknown as InspectedRef;
    if (tracked.has(ref.sessionId)) return;
    const logic = ref.logic;
    const snap = ref.getSnapshot() as { status?: unknown; value?: unknown; context?: unknown } | undefined;
    const info: ActorInfo = {
      id: ref.sessionId,
      actorId: ref.id,
      status: toStatus(snap?.status),
      since: store.elapsed(),
    };
    if (ref.systemId) info.systemId = ref.systemId;
    let contextJson = 'null';
    if (isStateMachine(logic)) {
      info.machine = machineKey(logic, logic.id);
      if (snap?.value !== undefined) info.value = safe(snap.value);
      if (snap?.context !== undefined) {
        info.context = safe(snap.context);
        contextJson = JSON.stringify(info.context);
      }
    }
    tracked.set(ref.sessionId, {
      info,
      valueJson: JSON.stringify(info.value ?? null),
      contextJson,
      children: new Set(),
    });
    store.publish({ kind: 'actor', actor: { ...info } });
  };

  return (ev: InspectionEvent) => {
    try {
      switch (ev.type) {
        case '@xstate.actor':
          register(ev.actorRef);
          return;
        case '@xstate.event': {
          const to = ev.actorRef.sessionId;
          // A re-invoked child gets its xstate.init before its @xstate.actor: name it first.
          if (!tracked.has(to) && event0Active(ev.actorRef)) register(ev.actorRef);
          const event = ev.event as Record<string, unknown> & { type: string };
          if (event.type === 'xstate.init' && ev.sourceRef) setParent(to, ev.sourceRef.sessionId);
          const rec: { kind: 'event'; to: string; type: string; from?: string; payload?: JsonValue } = {
            kind: 'event',
            to,
            type: event.type,
          };
          if (ev.sourceRef) rec.from = ev.sourceRef.sessionId;
          const { type: _type, ...rest } = event;
          if (Object.keys(rest).length > 0) rec.payload = safe(rest);
          const { seq } = store.publish(rec);
          const byTarget = eventSeqs.get(ev.event) ?? new Map<string, number>();
          byTarget.set(to, seq);
          eventSeqs.set(ev.event, byTarget);
          return;
        }
        case '@xstate.snapshot': {
          const id = ev.actorRef.sessionId;
          let t = tracked.get(id);
          if (!t) {
            // Already stopped and forgotten, or registered before this inspector was attached.
            if (toStatus((ev.snapshot as { status?: unknown }).status) !== 'active') return;
            register(ev.actorRef);
            t = tracked.get(id);
            if (!t) return;
          }
          const systemId = (ev.actorRef as unknown as InspectedRef).systemId;
          if (!t.info.systemId && systemId) {
            t.info.systemId = systemId;
            store.publish({ kind: 'actor', actor: { ...t.info } });
          }
          const snap = ev.snapshot as {
            status?: unknown;
            value?: unknown;
            context?: unknown;
            children?: Record<string, { sessionId: string } | undefined>;
          };
          const status = toStatus(snap.status);
          const value = t.info.machine && snap.value !== undefined ? safe(snap.value) : undefined;
          const valueJson = JSON.stringify(value ?? null);
          const context = t.info.machine && snap.context !== undefined ? safe(snap.context) : undefined;
          const contextJson = JSON.stringify(context ?? null);
          if (status !== t.info.status || valueJson !== t.valueJson || contextJson !== t.contextJson) {
            const rec: {
              kind: 'snapshot';
              id: string;
              status: ActorStatus;
              value?: JsonValue;
              context?: JsonValue;
              event?: number;
            } = { kind: 'snapshot', id, status };
            const cause = eventSeqs.get(ev.event)?.get(id);
            if (cause !== undefined) rec.event = cause;
            if (value !== undefined) rec.value = value;
            if (context !== undefined && contextJson !== t.contextJson) rec.context = context;
            t.valueJson = valueJson;
            t.contextJson = contextJson;
            t.info.status = status;
            if (value !== undefined) t.info.value = value;
            if (context !== undefined) t.info.context = context;
            store.publish(rec);
          }
          const live = new Set<string>();
          for (const c of Object.values(snap.children ?? {})) {
            if (!c) continue;
            live.add(c.sessionId);
            setParent(c.sessionId, id);
          }
          // Children that left the snapshot were stopped (callback/promise actors emit no final snapshot).
          if (snap.children && t.children.size > 0) {
            for (const c of [...t.children]) {
              if (!live.has(c)) {
                t.children.delete(c);
                stopTree(c, 'stopped');
              }
            }
          }
          if (status !== 'active') stopTree(id, status);
          return;
        }
        default:
          return;
      }
    } catch {
      // Inspection must never break the system it watches.
    }
  };
}

export function createLocalInspector(opts: LocalInspectorOptions): LocalInspector {
  const store = new InspectorStore({ maxRecords: opts.maxRecords ?? 10_000 });
  const inspect = createInspectionRecorder(store, opts);
  const serverOpts: Parameters<typeof createInspectorServer>[0] = { store, port: opts.port, logger: opts.logger };
  if (opts.assetsDir) serverOpts.assetsDir = opts.assetsDir;
  const server = createInspectorServer(serverOpts);
  return { inspect, store, start: () => server.start(), stop: () => server.stop() };
}

export interface StatelyInspectorOptions {
  /** Port of the relay on 127.0.0.1 (default 8080; 0 picks a free one). */
  port?: number;
  logger: Logger;
  /** The inspector UI the relay page embeds (default https://stately.ai/inspect). */
  inspectorUrl?: string;
}

export interface StatelyInspector {
  inspect: (ev: InspectionEvent) => void;
  /** Starts the relay; resolves to its page, or to undefined (with a warning logged) when it cannot listen. */
  start(): Promise<string | undefined>;
  /** The relay, for tests. */
  relay: StatelyRelay;
  stop(): Promise<void>;
}

/**
 * Attach the Stately inspector (@statelyai/inspect's createInspector, the successor of @xstate/inspect, which targets
 * XState v4 only). Its inspection messages go straight into a relay on 127.0.0.1 (src/io/observe/statelyRelay.ts):
 * no WebSocket client in the daemon, so nothing buffers silently when a name does not resolve.
 */
export async function createStatelyInspector(opts: StatelyInspectorOptions): Promise<StatelyInspector> {
  // An optional dependency, loaded only for --stately-inspect (the runtime image does not ship it).
  let createStatelyAdapterInspector: (typeof StatelyInspect)['createInspector'];
  try {
    ({ createInspector: createStatelyAdapterInspector } = await import('@statelyai/inspect'));
  } catch (err) {
    throw new Error(
      `--stately-inspect needs the optional package @statelyai/inspect (npm install @statelyai/inspect): ${(err as Error).message}`,
      { cause: err },
    );
  }
  const relay = createStatelyRelay({
    port: opts.port ?? 8080,
    logger: opts.logger,
    ...(opts.inspectorUrl ? { inspectorUrl: opts.inspectorUrl } : {}),
  });
  const inspector = createStatelyAdapterInspector(
    {
      send: (event) => relay.send(toJsonSafe(event, { maxDepth: 10 }) as never),
    },
    { autoStart: true },
  );
  return {
    inspect: (ev) => {
      try {
        inspector.inspect.next?.(ev);
      } catch {
        // never break the inspected system
      }
    },
    relay,
    async start() {
      try {
        const { url } = await relay.start();
        opts.logger.info({ url }, 'stately inspector relay: open this page (it loads https://stately.ai/inspect)');
        return url;
      } catch (err) {
        opts.logger.warn(
          { err: (err as Error).message, port: opts.port ?? 8080 },
          'stately inspector relay: cannot listen on 127.0.0.1; the Stately inspector is off (set inspect.statelyPort)',
        );
        return undefined;
      }
    },
    stop: async () => {
      inspector.stop();
      await relay.stop();
    },
  };
}
