// Paced delivery of netlink datagrams to JS. The addon hands JS everything its receive thread queued since the last
// call in one array: the whole dump of thousands of links arrives at once, and handling it in one go kept the event
// loop busy for the whole dump (0.2–17 s), so that every Redis reply, timer and setImmediate of the daemon waited for
// its end (the early APPL_DB read and the STATE_DB flushes of a warm start were all queued behind it:
// docs/performance.md, P4). Here the datagrams are handed on in arrival order, in slices of at most `sliceMs` of
// handling; between slices the event loop turns (setImmediate), and datagrams that arrive meanwhile queue behind the
// rest. Overflow reports keep their place in that order.
//
// Bounded as the addon's queue is: at most `queueMax` notification datagrams wait here; beyond that they are dropped
// and a `queue` overflow is reported in their place (the caller re-dumps). Replies to our own requests (a dump: the
// first message's nlmsg_pid is our port id) are never dropped, as in the addon.

export interface PacedDeliveryOptions {
  /** Handling time per slice before the event loop gets a turn (default 4 ms). */
  sliceMs?: number;
  /** Notification datagrams that may wait (default 4096, the addon's default queue). */
  queueMax?: number;
  /** Our netlink port id (known once the socket is open): datagrams whose first message carries it are replies. */
  portId: () => number;
  onMessages(datagrams: Buffer[]): void;
  onOverflow(source: 'kernel' | 'queue'): void;
  /** Monotonic clock in ms (tests). */
  now?: () => number;
}

export interface PacedDelivery {
  /** For the addon: datagrams in arrival order. */
  onMessages(datagrams: Buffer[]): void;
  /** For the addon: an overflow, in order with the datagrams. */
  onOverflow(source: 'kernel' | 'queue'): void;
  /** Datagrams and reports waiting (for tests and metrics). */
  readonly backlog: number;
  /** Drops what waits; nothing is handed on after it. */
  close(): void;
}

type Item = Buffer | { overflow: 'kernel' | 'queue' };

/** nlmsg_pid of the first message (0 for a datagram too short to hold a header). */
function firstPid(d: Buffer): number {
  return d.length >= 16 ? d.readUInt32LE(12) : 0;
}

export function pacedDelivery(opts: PacedDeliveryOptions): PacedDelivery {
  const sliceMs = opts.sliceMs ?? 4;
  const queueMax = opts.queueMax ?? 4096;
  const now = opts.now ?? (() => performance.now());
  // A FIFO as an array and a read index (compacted when drained), so that a 16,384-port dump costs no shift per item.
  let items: Item[] = [];
  let head = 0;
  let notifications = 0;
  /** A queue overflow is the last item waiting (back-to-back drops are one report). */
  let overflowMarked = false;
  let scheduled = false;
  let running = false;
  let closed = false;

  const push = (item: Item): void => {
    items.push(item);
  };
  /** Nothing waits any more. */
  const reset = (): void => {
    items = [];
    head = 0;
    notifications = 0;
    overflowMarked = false;
  };
  const isReply = (d: Buffer): boolean => {
    const pid = firstPid(d);
    return pid !== 0 && pid === opts.portId();
  };

  const drain = (): void => {
    if (closed || running) return;
    running = true;
    try {
      const start = now();
      while (head < items.length) {
        // One datagram (or report) per call: the slice ends as soon as its time is used.
        const item = items[head]!;
        items[head] = undefined as unknown as Item;
        head += 1;
        if (Buffer.isBuffer(item)) {
          if (!isReply(item)) notifications -= 1;
          opts.onMessages([item]);
        } else {
          if (head === items.length) overflowMarked = false;
          opts.onOverflow(item.overflow);
        }
        if (closed) return;
        if (head < items.length && now() - start >= sliceMs) break;
      }
    } finally {
      running = false;
      if (head >= items.length) reset();
      else if (!closed && !scheduled) {
        scheduled = true;
        setImmediate(() => {
          scheduled = false;
          drain();
        });
      }
    }
  };

  return {
    onMessages(datagrams) {
      if (closed) return;
      for (const d of datagrams) {
        if (!isReply(d)) {
          if (notifications >= queueMax) {
            if (!overflowMarked) {
              push({ overflow: 'queue' });
              overflowMarked = true;
            }
            continue;
          }
          notifications += 1;
        }
        push(d);
        overflowMarked = false;
      }
      if (!scheduled) drain();
    },
    onOverflow(source) {
      if (closed) return;
      const last = items.length > head ? items[items.length - 1] : undefined;
      // Back-to-back reports of one kind are one overflow for the caller (as in the addon).
      if (last && !Buffer.isBuffer(last) && last.overflow === source) return;
      push({ overflow: source });
      if (source === 'queue') overflowMarked = true;
      if (!scheduled) drain();
    },
    get backlog() {
      return items.length - head;
    },
    close() {
      closed = true;
      reset();
    },
  };
}
