// Inspection of the live actor system. createLocalInspector turns XState v5 inspection events (@xstate.actor,
// @xstate.event, @xstate.snapshot) into the plain JSON records of the local inspector page and serves it on
// 127.0.0.1. createStatelyInspector relays the same events to the Stately inspector through @statelyai/inspect
// (the successor of @xstate/inspect, which targets XState v4 only). main.ts passes `inspect` to createActor only
// when --inspect / --stately-inspect is given: otherwise no observer is attached at all.
import type * as StatelyInspect from '@statelyai/inspect';
import type * as StatelyInspectServer from '@statelyai/inspect/server';
import type { ActorRefLike, InspectionEvent } from 'xstate';
import type { Logger } from '../../io/log.js';
import { createInspectorServer } from '../../io/observe/inspectorServer.js';
import { InspectorStore, type ActorInfo, type ActorStatus, type JsonValue } from '../../io/observe/inspectorStore.js';
import { chartOf, isStateMachine } from './machineChart.js';

export interface LocalInspectorOptions {
  port: number;
  logger: Logger;
  /** Capacity of the recent-record ring (default 2000). */
  maxRecords?: number;
  /** Event payloads longer than this are cut (default 400 characters). */
  maxPayloadChars?: number;
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
  children: Set<string>;
}

/** The parts of an ActorRef the recorder reads; `systemId`, `logic` and `_parent` are public-but-untyped in v5. */
interface InspectedRef {
  sessionId: string;
  id: string;
  systemId?: string;
  logic?: unknown;
  _parent?: { sessionId: string };
  getSnapshot(): unknown;
}

function event0Active(ref: unknown): boolean {
  const snap = (ref as InspectedRef).getSnapshot() as { status?: unknown } | undefined;
  return toStatus(snap?.status) === 'active';
}

function toStatus(s: unknown): ActorStatus {
  return s === 'done' || s === 'error' || s === 'stopped' ? s : 'active';
}

function toJson(v: unknown): JsonValue | undefined {
  if (v === undefined) return undefined;
  try {
    return JSON.parse(JSON.stringify(v)) as JsonValue;
  } catch {
    return String(v);
  }
}

function payloadOf(event: Record<string, unknown>, max: number): string | undefined {
  const keys = Object.keys(event).filter((k) => k !== 'type');
  if (keys.length === 0) return undefined;
  let text: string;
  try {
    const rest: Record<string, unknown> = {};
    for (const k of keys) rest[k] = event[k];
    text = JSON.stringify(rest, (_k, v: unknown) =>
      typeof v === 'object' && v !== null && 'sessionId' in v ? `[actor]` : v,
    );
  } catch {
    text = '[unserializable]';
  }
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/** The translation from inspection events to records, without the server (tests use it directly). */
export function createInspectionRecorder(store: InspectorStore, maxPayloadChars = 400): (ev: InspectionEvent) => void {
  const tracked = new Map<string, Tracked>();
  const machineKeys = new WeakMap<object, string>();
  const usedKeys = new Set<string>();

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

  const register = (actorRef: ActorRefLike) => {
    const ref = actorRef as unknown as InspectedRef;
    if (tracked.has(ref.sessionId)) return;
    const logic = ref.logic;
    const parent = ref._parent;
    const snap = ref.getSnapshot() as { status?: unknown; value?: unknown } | undefined;
    const info: ActorInfo = {
      id: ref.sessionId,
      actorId: ref.id,
      status: toStatus(snap?.status),
      since: store.elapsed(),
    };
    if (ref.systemId) info.systemId = ref.systemId;
    if (parent) info.parentId = parent.sessionId;
    if (isStateMachine(logic)) {
      info.machine = machineKey(logic, logic.id);
      const v = toJson(snap?.value);
      if (v !== undefined) info.value = v;
    }
    tracked.set(ref.sessionId, { info, valueJson: JSON.stringify(info.value ?? null), children: new Set() });
    if (parent) tracked.get(parent.sessionId)?.children.add(ref.sessionId);
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
          const rec: { kind: 'event'; to: string; type: string; from?: string; payload?: string } = {
            kind: 'event',
            to,
            type: event.type,
          };
          if (ev.sourceRef) rec.from = ev.sourceRef.sessionId;
          const p = payloadOf(event, maxPayloadChars);
          if (p !== undefined) rec.payload = p;
          store.publish(rec);
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
            children?: Record<string, { sessionId: string }>;
          };
          const status = toStatus(snap.status);
          const value = t.info.machine ? toJson(snap.value) : undefined;
          const valueJson = JSON.stringify(value ?? null);
          if (status !== t.info.status || valueJson !== t.valueJson) {
            t.valueJson = valueJson;
            t.info.status = status;
            if (value !== undefined) t.info.value = value;
            const rec: { kind: 'snapshot'; id: string; status: ActorStatus; value?: JsonValue } = {
              kind: 'snapshot',
              id,
              status,
            };
            if (value !== undefined) rec.value = value;
            store.publish(rec);
          }
          // Children that left the snapshot were stopped (callback/promise actors emit no final snapshot).
          if (snap.children && t.children.size > 0) {
            const live = new Set(Object.values(snap.children).map((c) => c.sessionId));
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
  const store = new InspectorStore({ maxRecords: opts.maxRecords ?? 2000 });
  const inspect = createInspectionRecorder(store, opts.maxPayloadChars ?? 400);
  const serverOpts: Parameters<typeof createInspectorServer>[0] = { store, port: opts.port, logger: opts.logger };
  if (opts.assetsDir) serverOpts.assetsDir = opts.assetsDir;
  const server = createInspectorServer(serverOpts);
  return { inspect, store, start: () => server.start(), stop: () => server.stop() };
}

export interface StatelyInspectorOptions {
  /** Port of the relay server (default 8080). */
  port?: number;
  logger: Logger;
  /** Open a browser on this host (default false: a daemon usually has no display). */
  autoOpen?: boolean;
}

export interface StatelyInspector {
  inspect: (ev: InspectionEvent) => void;
  /** The page to open: it embeds https://stately.ai/inspect, so this one needs internet. */
  url: string;
  stop(): void;
}

/**
 * Attach @statelyai/inspect: a local relay (createInspectorServer) and a WebSocket inspector feeding it.
 * @xstate/inspect is not used: it targets XState v4 only.
 */
export async function createStatelyInspector(opts: StatelyInspectorOptions): Promise<StatelyInspector> {
  // An optional dependency, loaded only for --stately-inspect (the runtime image does not ship it).
  let mods: [typeof StatelyInspect, typeof StatelyInspectServer];
  try {
    mods = await Promise.all([import('@statelyai/inspect'), import('@statelyai/inspect/server')]);
  } catch (err) {
    throw new Error(
      `--stately-inspect needs the optional package @statelyai/inspect (npm install @statelyai/inspect): ${(err as Error).message}`,
      { cause: err },
    );
  }
  const [{ createWebSocketInspector }, { createInspectorServer: createStatelyRelay }] = mods;
  const port = opts.port ?? 8080;
  const relay = createStatelyRelay({ port, autoOpen: opts.autoOpen ?? false });
  const ws = createWebSocketInspector({ url: `ws://localhost:${port}` });
  const url = `http://localhost:${port}`;
  opts.logger.info({ url }, 'stately inspector relay: open this page (it loads https://stately.ai/inspect)');
  return {
    inspect: (ev) => {
      try {
        ws.inspect.next?.(ev);
      } catch {
        // never break the inspected system
      }
    },
    url,
    stop: () => {
      ws.stop();
      relay.stop();
    },
  };
}
