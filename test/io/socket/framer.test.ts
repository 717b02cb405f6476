// The framer decodes the complete lines of a chunk at once and slices them from that text; it must frame exactly as
// splitting all the bytes on newlines would, whatever the chunking and the bytes (ASCII, UTF-8, invalid bytes).
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Registry } from 'prom-client';
import { Framer, linesOf, socketMetrics } from '../../../src/io/socket/lineServer.js';

type Item = ['line', string] | ['cmd', string];

/** The simple version: all bytes, split on \n, each line checked and decoded on its own. */
function reference(bytes: Buffer, max: number): { items: Item[]; discarded: number } {
  const items: Item[] = [];
  let discarded = 0;
  let start = 0;
  for (let nl = bytes.indexOf(10); nl >= 0; nl = bytes.indexOf(10, start)) {
    const raw = bytes.subarray(start, nl);
    start = nl + 1;
    const len = raw.length > 0 && raw[raw.length - 1] === 13 ? raw.length - 1 : raw.length;
    if (len > max) {
      discarded++;
      continue;
    }
    let line = raw.toString('utf8');
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (line.startsWith('CMD ')) items.push(['cmd', line.slice(4)]);
    else if (line.length > 0) items.push(['line', line]);
  }
  return { items, discarded };
}

const piece = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('ptp4l[1.0]: [ptp4l.0.config] master offset -5 s2', 'a', 'bb', ' ', ':') },
  { weight: 4, arbitrary: fc.constant('\n') },
  { weight: 1, arbitrary: fc.constantFrom('\r\n', '\r', 'CMD RESTART\n', 'CMD ', 'é', '€', '😀') },
  { weight: 1, arbitrary: fc.constantFrom('\xff', '\xf0\x9f', '\xe2\x82', '\x80') },
);

describe('line framer', () => {
  it('frames like a split of all bytes on newlines, for any chunking', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(piece, { maxLength: 60 }),
        fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 20 }),
        fc.integer({ min: 4, max: 80 }),
        async (pieces, cuts, max) => {
          // Invalid-byte pieces are written as bytes (latin1), the rest as UTF-8.
          const bytes = Buffer.concat([
            ...pieces.map((p) => (/^[\x80-\xff]+$/.test(p) ? Buffer.from(p, 'latin1') : Buffer.from(p, 'utf8'))),
            Buffer.from('\n'),
          ]);
          const got: Item[] = [];
          const metrics = socketMetrics(new Registry());
          const framer = new Framer(
            max,
            1,
            {
              onLines: (_id, text, count) => {
                // One text of `count` lines, each followed by \n (so none is empty or holds a newline).
                expect(text.endsWith('\n')).toBe(true);
                const lines = linesOf(text);
                expect(lines.length).toBe(count);
                lines.forEach((l) => got.push(['line', l]));
              },
              onCommand: (_id, c) => got.push(['cmd', c]),
            },
            metrics,
          );
          let at = 0;
          for (let i = 0; at < bytes.length; i++) {
            const n = cuts[i % cuts.length]!;
            framer.push(bytes.subarray(at, at + n));
            at += n;
          }
          const want = reference(bytes, max);
          expect(got).toEqual(want.items);
          const discarded = await metrics.discarded.get();
          expect(discarded.values[0]?.value ?? 0).toBe(want.discarded);
        },
      ),
      { numRuns: 1000 },
    );
  });
});
