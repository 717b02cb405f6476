// What the local inspector knows: the actor table, the charts of their machines and the history: a bounded ring of
// records plus the baseline (the actor table as it was just before the oldest record kept), so a page can rebuild
// the tree, every state value and every context as they were right after any record it holds (time travel). Plain
// JSON only: src/actors/observe/inspector.ts translates XState inspection events into these records, the inspector
// server serves them. Nothing here knows about XState.

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
  /** Current context as plain JSON (machines only; bounded). */
  context?: JsonValue;
  /** ms since the inspector started. */
  since: number;
}

export type InspectorRecord =
  | { kind: 'actor'; seq: number; t: number; actor: ActorInfo }
  | { kind: 'chart'; seq: number; t: number; machine: string; chart: JsonValue }
  | {
      kind: 'snapshot';
      seq: number;
      t: number;
      id: string;
      status: ActorStatus;
      value?: JsonValue;
      /** Only when it changed since the actor's previous snapshot record. */
      context?: JsonValue;
      /**
       * The seq of the event record this snapshot resulted from (the actor's own step: events queued for it while it
       * handled an earlier one come before this record but have snapshots of their own). Absent when that event was
       * not recorded (e.g. an event raised inside the actor).
       */
      event?: number;
    }
  | { kind: 'stopped'; seq: number; t: number; id: string; status: ActorStatus }
  | {
      kind: 'event';
      seq: number;
      t: number;
      to: string;
      from?: string;
      type: string;
      /** The event without its type, as plain JSON (bounded; raw input lines withheld unless configured). */
      payload?: JsonValue;
    };

/** A record before the store numbers and timestamps it. */
export type InspectorRecordInput = InspectorRecord extends infer R
  ? R extends InspectorRecord
    ? Omit<R, 'seq' | 't'>
    : never
  : never;

export interface InspectorState {
  /** 'live' for a running daemon, 'replay' for `syncvisor replay --inspect` (t is then the simulated clock). */
  mode: 'live' | 'replay';
  /** What is inspected: the trace file in replay mode. */
  source?: string;
  actors: ActorInfo[];
  /** The actor table just before the oldest record in `events`: the start of the history. */
  baseline: ActorInfo[];
  charts: Record<string, JsonValue>;
  /** The history: every kept record but charts, oldest first. */
  events: InspectorRecord[];
  /** Capacity of the history (records). */
  capacity: number;
  /** Number of records dropped from the history so far. */
  dropped: number;
}

export interface InspectorStoreOptions {
  /** Capacity of the history ring (default 10 000 records). */
  maxRecords?: number;
  /** Approximate JSON bytes the history may hold (default 64 MiB); the oldest records go first. */
  maxBytes?: number;
  mode?: 'live' | 'replay';
  source?: string;
  /** Stopped actors kept in the table for the page (default 200; oldest forgotten first). */
  maxStoppedActors?: number;
  /** Monotonic milliseconds; defaults to performance.now(). */
  now?: () => number;
}

export class InspectorStore {
  readonly actors = new Map<string, ActorInfo>();
  readonly charts = new Map<string, JsonValue>();
  /** The table as of just before the oldest record of the ring (records leaving the ring are applied to it). */
  private readonly baseline = new Map<string, ActorInfo>();
  private readonly baselineStopped: string[] = [];
  private readonly ring: InspectorRecord[] = [];
  private readonly sizes: number[] = [];
  private ringStart = 0;
  private bytes = 0;
  private readonly maxBytes: number;
  private seq = 0;
  private dropped = 0;
  private readonly stoppedOrder: string[] = [];
  private readonly listeners = new Set<(r: InspectorRecord) => void>();
  private readonly maxRecords: number;
  private readonly maxStopped: number;
  private readonly now: () => number;
  private readonly t0: number;
  readonly mode: 'live' | 'replay';
  readonly source: string | undefined;

  constructor(opts: InspectorStoreOptions = {}) {
    this.maxRecords = Math.max(1, opts.maxRecords ?? 10_000);
    this.maxBytes = Math.max(64 * 1024, opts.maxBytes ?? 64 * 1024 * 1024);
    this.mode = opts.mode ?? 'live';
    this.source = opts.source;
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
    applyRecord(this.actors, this.stoppedOrder, this.maxStopped, rec);
    if (rec.kind === 'chart') {
      // Charts are kept whole (one per machine), not in the history.
      this.charts.set(rec.machine, rec.chart);
    } else {
      // Contexts can be large (a port table): the history is bounded in bytes as well as in records.
      const bytes = rec.kind === 'snapshot' && rec.context !== undefined ? JSON.stringify(rec).length : 200;
      this.ring.push(rec);
      this.sizes.push(bytes);
      this.bytes += bytes;
      while (this.ring.length - this.ringStart > this.maxRecords || (this.bytes > this.maxBytes && this.size > 1)) {
        const old = this.ring[this.ringStart]!;
        applyRecord(this.baseline, this.baselineStopped, this.maxStopped, old);
        this.bytes -= this.sizes[this.ringStart]!;
        this.ringStart++;
        this.dropped++;
      }
      if (this.ringStart > 1024 && this.ringStart * 2 > this.ring.length) {
        this.ring.splice(0, this.ringStart);
        this.sizes.splice(0, this.ringStart);
        this.ringStart = 0;
      }
    }
    for (const l of this.listeners) l(rec);
    return rec;
  }

  /** Recent records, oldest first. */
  recent(): InspectorRecord[] {
    return this.ring.slice(this.ringStart);
  }

  /** Records kept in the history. */
  get size(): number {
    return this.ring.length - this.ringStart;
  }

  /** Approximate JSON bytes of the history. */
  get historyBytes(): number {
    return this.bytes;
  }

  get capacity(): number {
    return this.maxRecords;
  }

  state(): InspectorState {
    const out: InspectorState = {
      mode: this.mode,
      actors: [...this.actors.values()],
      baseline: [...this.baseline.values()],
      charts: Object.fromEntries(this.charts),
      events: this.recent(),
      capacity: this.maxRecords,
      dropped: this.dropped,
    };
    if (this.source !== undefined) out.source = this.source;
    return out;
  }

  subscribe(listener: (r: InspectorRecord) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

/** Applies one record to an actor table (the live one, or the baseline when the record leaves the history). */
function applyRecord(
  actors: Map<string, ActorInfo>,
  stoppedOrder: string[],
  maxStopped: number,
  rec: InspectorRecord,
): void {
  const markStopped = (id: string) => {
    if (stoppedOrder.includes(id)) return;
    stoppedOrder.push(id);
    while (stoppedOrder.length > maxStopped) {
      const old = stoppedOrder.shift();
      if (old !== undefined) actors.delete(old);
    }
  };
  switch (rec.kind) {
    case 'actor':
      actors.set(rec.actor.id, { ...actors.get(rec.actor.id), ...rec.actor });
      break;
    case 'snapshot': {
      const a = actors.get(rec.id);
      if (a) {
        actors.set(rec.id, {
          ...a,
          status: rec.status,
          ...(rec.value !== undefined ? { value: rec.value } : {}),
          ...(rec.context !== undefined ? { context: rec.context } : {}),
        });
        if (rec.status !== 'active') markStopped(rec.id);
      }
      break;
    }
    case 'stopped': {
      const a = actors.get(rec.id);
      if (a) {
        actors.set(rec.id, { ...a, status: rec.status });
        markStopped(rec.id);
      }
      break;
    }
    default:
      break;
  }
}
