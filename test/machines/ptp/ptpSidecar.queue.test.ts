// The load queue holds the socket's texts (lines each followed by a newline) and is bounded in bytes; it must keep,
// drop and count exactly what the per-line rule does: lines in arrival order while each fits (its length + 1, its
// newline), the rest of a batch dropped and counted once one does not.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { initialTransition, transition } from 'xstate';
import { ptpSidecarMachine } from '../../../src/machines/ptp/ptpSidecar.js';

const machine = ptpSidecarMachine.provide({ actions: { reportReady: () => {} } });

/** The per-line rule, on arrays of lines. */
function model(max: number, batches: string[][]): { kept: string[]; bytes: number; dropped: number } {
  const kept: string[] = [];
  let bytes = 0;
  let dropped = 0;
  for (const b of batches) {
    let i = 0;
    for (; i < b.length && bytes + b[i]!.length + 1 <= max; i++) {
      kept.push(b[i]!);
      bytes += b[i]!.length + 1;
    }
    dropped += b.length - i;
  }
  return { kept, bytes, dropped };
}

const line = fc.string({ unit: fc.constantFrom('a', 'b', ' ', ':', 'é', '\r'), minLength: 1, maxLength: 12 });

describe('ptpSidecar load queue', () => {
  it('keeps, drops and counts lines as the per-line rule does, for any batches and bound', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 80 }),
        fc.array(fc.array(line, { minLength: 1, maxLength: 6 }), { maxLength: 10 }),
        (max, batches) => {
          let [snap] = initialTransition(machine, { queueMaxBytes: max, restartMode: 'inProcess', emitLogs: false });
          const dropped: number[] = [];
          for (const b of batches) {
            const [next, actions] = transition(machine, snap, {
              type: 'socket.line',
              connId: 1,
              lines: b.map((l) => `${l}\n`).join(''),
            });
            for (const a of actions)
              if (a.type === 'queueOverflowed') dropped.push((a.params as { dropped: number }).dropped);
            snap = next;
          }
          const want = model(max, batches);
          const queued = snap.context.queue.join('');
          expect(queued === '' ? [] : queued.slice(0, -1).split('\n')).toEqual(want.kept);
          expect(snap.context.queueBytes).toBe(want.bytes);
          expect(queued.length).toBe(want.bytes);
          expect(snap.context.queueDropped).toBe(want.dropped);
          expect(dropped.reduce((x, y) => x + y, 0)).toBe(want.dropped);
        },
      ),
      { numRuns: 500 },
    );
  });
});
