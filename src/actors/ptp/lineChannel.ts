// The direct path of PTP lines while the sidecar serves: the socketServer hands each batch of a read to the serving
// generation's ingest with a plain call, instead of a `socket.line` event through the socket's lifecycle, the sidecar
// chart and a `ptp.lines` event to the generation actor (the chart path). Only lines take it; commands, connections
// and every other event still go through the statecharts.
//
// Two parties open it, and either closes it:
// - the sidecar chart, by its named actions: `attachLineSink` on entry of `serving`, `detachLineSink` on its exit
//   (src/daemon/ptp.ts provides them: attach() / detach());
// - the serving generation actor (src/actors/ptp/generationActor.ts), which offers its ingest once it has parsed the
//   backlog (the lines queued while loading) and withdraws it when its invocation stops.
// A batch is taken directly only while both hold, so no line taken directly overtakes one on the chart path: a line
// queued while loading is parsed before the ingest is offered, and a CMD RESTART goes through the chart, whose exit
// of `serving` detaches the sink before the framer hands over the next lines (the framer calls onCommand between the
// batches around it; XState processes an event sent from outside an actor before `send` returns). Lines after the
// RESTART thus take the chart path into the load queue, as before. The socketServer also keeps the chart path while
// one of its own events is being processed (a batch handed over from inside an actor's step could be queued behind
// events still in a mailbox).
//
// With trace recording on, each batch taken directly is written to the trace as the `socket.line` the chart path
// would have recorded (same target, same event), before it is parsed: a replay runs it on the chart path.

/** The serving generation's ingest: one text of newline-ended lines. */
export type LineSink = (text: string) => void;

/** Writes a source event to the trace as if it had entered the actor system (src/actors/observe/inspection.ts). */
export type SourceEventRecorder = (to: string, event: { type: string; [key: string]: unknown }) => void;

export interface LineChannelOptions {
  /**
   * With trace recording on: writes a batch taken directly as the chart path's `socket.line` to `as`, the systemId
   * that event enters (the socketServer's lifecycle).
   */
  record?: { write: SourceEventRecorder; as: string };
  /** false: every batch takes the chart path (a live inspector shows each socket.line). Default true. */
  enabled?: boolean;
}

export class LineChannel {
  private attached = false;
  private sink: LineSink | undefined;
  /** The sink in use: set while attached and offered, else undefined (one check per batch). */
  private active: LineSink | undefined;
  private readonly record: { write: SourceEventRecorder; as: string } | undefined;
  private readonly enabled: boolean;
  /** Batches taken directly (tests, the benchmark). */
  taken = 0;

  constructor(opts: LineChannelOptions = {}) {
    this.record = opts.record;
    this.enabled = opts.enabled ?? true;
  }

  /** The sidecar serves (its `attachLineSink` entry action). */
  attach(): void {
    this.attached = true;
    this.update();
  }

  /** The sidecar leaves `serving` (its `detachLineSink` exit action): lines take the chart path again. */
  detach(): void {
    this.attached = false;
    this.update();
  }

  /** The serving generation actor, its backlog parsed. */
  offer(sink: LineSink): void {
    this.sink = sink;
    this.update();
  }

  /** The generation actor's invocation stops: only the sink it offered is withdrawn. */
  withdraw(sink: LineSink): void {
    if (this.sink === sink) this.sink = undefined;
    this.update();
  }

  /** True while a batch would be taken directly. */
  get direct(): boolean {
    return this.active !== undefined;
  }

  /** Hands the batch to the serving generation and returns true, or returns false: the caller takes the chart path. */
  take(connId: number, text: string): boolean {
    const sink = this.active;
    if (sink === undefined) return false;
    this.taken++;
    this.record?.write(this.record.as, { type: 'socket.line', connId, lines: text });
    sink(text);
    return true;
  }

  private update(): void {
    this.active = this.enabled && this.attached ? this.sink : undefined;
  }
}
