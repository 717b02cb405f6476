import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { pacedDelivery } from '../../../src/io/netlink/paced.js';

const PORT_ID = 4242;
/** A datagram whose first nlmsghdr carries `pid` (a reply when it is our port id, a notification when 0). */
function datagram(pid: number, tag: number): Buffer {
  const b = Buffer.alloc(20);
  b.writeUInt32LE(20, 0);
  b.writeUInt32LE(tag, 8); // nlmsg_seq: identifies it in the test
  b.writeUInt32LE(pid, 12);
  return b;
}
const tagOf = (d: Buffer): number => d.readUInt32LE(8);
const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

function recorder(opts: { sliceMs?: number; queueMax?: number; clock?: { t: number }; costMs?: number }) {
  const out: string[] = [];
  const clock = opts.clock;
  const paced = pacedDelivery({
    portId: () => PORT_ID,
    ...(opts.sliceMs !== undefined ? { sliceMs: opts.sliceMs } : {}),
    ...(opts.queueMax !== undefined ? { queueMax: opts.queueMax } : {}),
    ...(clock ? { now: () => clock.t } : {}),
    onMessages: (ds) => {
      for (const d of ds) out.push(`d${tagOf(d)}`);
      if (clock) clock.t += opts.costMs ?? 0;
    },
    onOverflow: (s) => out.push(`overflow:${s}`),
  });
  return { out, paced };
}

describe('pacedDelivery', () => {
  it('hands datagrams and overflow reports on in arrival order, also across slices and later arrivals', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.oneof(
            fc.record({ kind: fc.constant('batch' as const), n: fc.integer({ min: 1, max: 20 }) }),
            fc.record({
              kind: fc.constant('overflow' as const),
              source: fc.constantFrom('kernel' as const, 'queue' as const),
            }),
            fc.record({ kind: fc.constant('turn' as const) }),
          ),
          { maxLength: 30 },
        ),
        async (steps) => {
          const clock = { t: 0 };
          const { out, paced } = recorder({ sliceMs: 3, clock, costMs: 1 });
          const expected: string[] = [];
          let tag = 0;
          for (const s of steps) {
            if (s.kind === 'batch') {
              const ds = Array.from({ length: s.n }, () => datagram(PORT_ID, ++tag));
              for (const d of ds) expected.push(`d${tagOf(d)}`);
              paced.onMessages(ds);
            } else if (s.kind === 'overflow') {
              // Back-to-back reports of one kind while they wait are one report.
              if (expected.at(-1) !== `overflow:${s.source}` || paced.backlog === 0)
                expected.push(`overflow:${s.source}`);
              paced.onOverflow(s.source);
            } else await turn();
          }
          while (paced.backlog > 0) await turn();
          expect(out).toEqual(expected);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('gives the event loop a turn between slices of a long batch', async () => {
    const clock = { t: 0 };
    const { out, paced } = recorder({ sliceMs: 4, clock, costMs: 1 });
    paced.onMessages(Array.from({ length: 20 }, (_, i) => datagram(PORT_ID, i)));
    // 4 ms of handling (1 ms each), then the rest waits for the next turn.
    expect(out).toHaveLength(4);
    expect(paced.backlog).toBe(16);
    const order: string[] = [];
    setImmediate(() => order.push(`immediate after ${out.length}`));
    while (paced.backlog > 0) await turn();
    expect(out).toHaveLength(20);
    expect(order[0]).not.toBe('immediate after 20');
  });

  it('bounds the notifications that wait: drops beyond queueMax with one queue overflow, never a dump reply', () => {
    const clock = { t: 0 };
    // Each datagram uses the whole slice: everything after the first waits.
    const { out, paced } = recorder({ sliceMs: 1, queueMax: 3, clock, costMs: 1 });
    const ds = [
      datagram(0, 1),
      datagram(0, 2),
      datagram(0, 3), // waiting: 1, 2, 3 = queueMax (the batch is queued before the first slice)
      datagram(0, 4), // dropped
      datagram(0, 5), // dropped (one report)
      datagram(PORT_ID, 6), // a dump reply: kept
      datagram(0, 7), // dropped again: a second report after the reply
    ];
    paced.onMessages(ds);
    expect(out).toEqual(['d1']);
    return (async () => {
      while (paced.backlog > 0) await turn();
      expect(out).toEqual(['d1', 'd2', 'd3', 'overflow:queue', 'd6', 'overflow:queue']);
    })();
  });

  it('hands nothing on after close', async () => {
    const clock = { t: 0 };
    const { out, paced } = recorder({ sliceMs: 1, clock, costMs: 1 });
    paced.onMessages([datagram(PORT_ID, 1), datagram(PORT_ID, 2), datagram(PORT_ID, 3)]);
    paced.close();
    paced.onMessages([datagram(PORT_ID, 4)]);
    paced.onOverflow('kernel');
    await turn();
    await turn();
    expect(out).toEqual(['d1']);
    expect(paced.backlog).toBe(0);
  });
});
