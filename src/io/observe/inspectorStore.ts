// What the local inspector knows: the actor table, the charts of their machines and a bounded ring of recent
// records. Plain JSON only: src/actors/observe/inspector.ts translates XState inspection events into these records, the
// inspector server serves them. Nothing here knows about XState.

export type JsonValue = null | boolean | number | string | JsonValue[] | { [k: string]: JsonValue };

export type ActorStatus = 'active' | 'done' | 'error' | 'stopped';

export interface ActorInfo {
  /** Unique per actor instance (XState's sessionId). */
  id: string;
  /** The actor's id inside its parent. */
  actorId: string;
  systemId?: string;
  parentId?: string;
  /** Key of its chart in `charts` (machines only). */
  machine?: string;
  status: ActorStatus;
  /** Current state value (machines only). */
  value?: JsonValue;
  /** ms since the inspector started. */
  since: number;
}

export type InspectorRecord =
  | { kind: 'actor'; seq: number; t: number; actor: ActorInfo }
  | { kind: 'chart'; seq: number; t: number; machine: string; chart: JsonValue }
  | { kind: 'snapshot'; seq: number; t: number; id: string; status: ActorStatus; value?: JsonValue }
  | { kind: 'stopped'; seq: number; t: number; id: string; status: ActorStatus }
  | { kind: 'event'; seq: number; t: number; to: string; from?: string; type: string; payload?: string };

/** A record before the store numbers and timestamps it. */
export type InspectorRecordInput = InspectorRecord extends infer R
  ? R extends InspectorRecord
    ? Omit<R, 'seq' | 't'>
    : never
  : never;

export interface InspectorState {
  actors: ActorInfo[];
  charts: Record<string, JsonValue>;
  events: InspectorRecord[];
  /** Number of records dropped from the ring so far. */
  dropped: number;
}

export interface InspectorStoreOptions {
  /** Capacity of the recent-record ring (default 2000). */
  maxRecords?: number;
  /** Stopped actors kept in the table for the page (default 200; oldest forgotten first). */
  maxStoppedActors?: number;
  /** Monotonic milliseconds; defaults to performance.now(). */
  now?: () => number;
}

export class InspectorStore {
  readonly actors = new Map<string, ActorInfo>();
  readonly charts = new Map<string, JsonValue>();
  private readonly ring: InspectorRecord[] = [];
  private ringStart = 0;
  private seq = 0;
  private dropped = 0;
  private readonly stoppedOrder: string[] = [];
  private readonly listeners = new Set<(r: InspectorRecord) => void>();
  private readonly maxRecords: number;
  private readonly maxStopped: number;
  private readonly now: () => number;
  private readonly t0: number;

  constructor(opts: InspectorStoreOptions = {}) {
    this.maxRecords = Math.max(1, opts.maxRecords ?? 2000);
    this.maxStopped = Math.max(0, opts.maxStoppedActors ?? 200);
    this.now = opts.now ?? (() => performance.now());
    this.t0 = this.now();
  }

  elapsed(): number {
    return Math.round((this.now() - this.t0) * 1000) / 1000;
  }

  /** Apply a record to the tables, keep it in the ring and hand it to subscribers. */
  publish(input: InspectorRecordInput): InspectorRecord {
    const rec = { ...input, seq: ++this.seq, t: this.elapsed() } as InspectorRecord;
    this.apply(rec);
    if (this.ring.length < this.maxRecords) this.ring.push(rec);
    else {
      this.ring[this.ringStart] = rec;
      this.ringStart = (this.ringStart + 1) % this.maxRecords;
      this.dropped++;
    }
    for (const l of this.listeners) l(rec);
    return rec;
  }

  private apply(rec: InspectorRecord): void {
    switch (rec.kind) {
      case 'actor':
        this.actors.set(rec.actor.id, rec.actor);
        break;
      case 'chart':
        this.charts.set(rec.machine, rec.chart);
        break;
      case 'snapshot': {
        const a = this.actors.get(rec.id);
        if (a) {
          a.status = rec.status;
          if (rec.value !== undefined) a.value = rec.value;
          if (rec.status !== 'active') this.markStopped(rec.id);
        }
        break;
      }
      case 'stopped': {
        const a = this.actors.get(rec.id);
        if (a) {
          a.status = rec.status;
          this.markStopped(rec.id);
        }
        break;
      }
      case 'event':
        break;
    }
  }

  private markStopped(id: string): void {
    if (this.stoppedOrder.includes(id)) return;
    this.stoppedOrder.push(id);
    while (this.stoppedOrder.length > this.maxStopped) {
      const old = this.stoppedOrder.shift();
      if (old !== undefined) this.actors.delete(old);
    }
  }

  /** Recent records, oldest first. */
  recent(): InspectorRecord[] {
    return [...this.ring.slice(this.ringStart), ...this.ring.slice(0, this.ringStart)];
  }

  state(): InspectorState {
    return {
      actors: [...this.actors.values()],
      charts: Object.fromEntries(this.charts),
      events: this.recent().filter((r) => r.kind === 'event' || r.kind === 'snapshot'),
      dropped: this.dropped,
    };
  }

  subscribe(listener: (r: InspectorRecord) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
