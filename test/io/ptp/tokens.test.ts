// The line parser's tokenizer replaced `text.trim().split(/[\s:]+/)` on the hot path; it must split exactly the same.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { tokens } from '../../../src/io/ptp/lineParser.js';

const reference = (line: string, from: number): string[] =>
  line
    .slice(from)
    .trim()
    .split(/[\s:]+/);

describe('ptp line tokens', () => {
  it('splits like trim().split(/[\\s:]+/) on edge cases', () => {
    for (const l of ['', ' ', ':', ' : ', 'a:', ':a', 'a::b', ' a:b  c: ', '\u00a0x\u3000y ', 'PTP_PROCESS_STATUS:1'])
      expect(tokens(l, 0)).toEqual(reference(l, 0));
  });

  it('splits like trim().split(/[\\s:]+/) on random text, from any offset', () => {
    const unit = fc.constantFrom(' ', ':', 'a', 'b', '\t', '\u00a0', '\u2028', '\ufeff', 'é', '\r', '\n');
    fc.assert(
      fc.property(fc.string({ unit }), fc.nat(4), (l, from) => {
        expect(tokens(l, from)).toEqual(reference(l, from));
      }),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (l) => {
        expect(tokens(l, 0)).toEqual(reference(l, 0));
      }),
      { numRuns: 2000 },
    );
  });
});
