// Byte text (src/io/redis/byteText.ts), the form Redis values take inside syncvisor: for any bytes, decoding then
// encoding gives the same bytes back; valid UTF-8 decodes as Node decodes it; bytes that are not UTF-8 are the only
// lone surrogates; equal strings mean equal bytes; a metric label shows them escaped.
import { isUtf8 } from 'node:buffer';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bytesToText, fieldsFromReply, printableText, textToBytes } from '../../../src/io/redis/byteText.js';

const wellFormed = (s: string) => (s as string & { isWellFormed(): boolean }).isWellFormed();
/** Bytes with plenty of UTF-8 in them: random bytes, text, and text cut or spliced with random bytes. */
const bytes = fc.oneof(
  fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)),
  fc.string({ unit: 'grapheme', maxLength: 16 }).map((s) => Buffer.from(s)),
  fc
    .tuple(fc.string({ unit: 'grapheme', maxLength: 8 }), fc.uint8Array({ maxLength: 4 }), fc.nat(40))
    .map(([s, junk, cut]) => {
      const t = Buffer.from(s);
      return Buffer.concat([t.subarray(0, cut % (t.length + 1)), Buffer.from(junk), t.subarray(cut % (t.length + 1))]);
    }),
);

describe('byte text', () => {
  it('round-trips any bytes exactly', () => {
    fc.assert(
      fc.property(bytes, (b) => {
        expect(textToBytes(bytesToText(b)).equals(b)).toBe(true);
      }),
      { numRuns: 3_000 },
    );
  });

  it('is UTF-8 for valid UTF-8, and has lone U+DC80…U+DCFF exactly for the bytes that are not', () => {
    fc.assert(
      fc.property(bytes, (b) => {
        const t = bytesToText(b);
        expect(wellFormed(t)).toBe(isUtf8(b));
        if (isUtf8(b)) expect(t).toBe(b.toString('utf8'));
        // Without the escapes, what is left is valid text, and no U+FFFD is invented.
        expect(wellFormed(t.replace(/(?<![\ud800-\udbff])[\udc80-\udcff]/g, ''))).toBe(true);
        expect(t.includes('\ufffd')).toBe(b.includes(Buffer.from('\ufffd')));
      }),
      { numRuns: 3_000 },
    );
  });

  it('equal strings are equal bytes', () => {
    fc.assert(
      fc.property(bytes, bytes, (a, b) => {
        expect(bytesToText(a) === bytesToText(b)).toBe(a.equals(b));
      }),
      { numRuns: 3_000 },
    );
    // What the UTF-8 decoder of today's readers made of them: one and the same U+FFFD.
    expect(bytesToText(Buffer.of(0xff))).not.toBe(bytesToText(Buffer.of(0xfe)));
  });

  it('escapes each byte of an invalid sequence, and keeps text around it', () => {
    const b = Buffer.concat([Buffer.of(0xff, 0xfe, 0x80), Buffer.from('é€😀'), Buffer.of(0x00, 0xe2, 0x82, 0x41)]);
    expect(bytesToText(b)).toBe('\udcff\udcfe\udc80é€😀\u0000\udce2\udc82A');
    // An encoded surrogate and an overlong NUL are not UTF-8 either.
    expect(bytesToText(Buffer.of(0xed, 0xa0, 0x80, 0xc0, 0x80))).toBe('\udced\udca0\udc80\udcc0\udc80');
    // A real U+FFFD (ef bf bd) stays one, beside a byte that is not UTF-8 and alone.
    expect(bytesToText(Buffer.of(0xef, 0xbf, 0xbd, 0xff))).toBe('\ufffd\udcff');
    expect(bytesToText(Buffer.of(0xef, 0xbf, 0xbd))).toBe('\ufffd');
  });

  it('builds a record from an HGETALL reply, __proto__ as an own field', () => {
    const fields = fieldsFromReply([Buffer.from('__proto__'), Buffer.of(0xff), Buffer.of(0x80), Buffer.from('x')]);
    expect(Object.getPrototypeOf(fields)).toBe(Object.prototype);
    expect(Object.entries(fields)).toEqual([
      ['__proto__', '\udcff'],
      ['\udc80', 'x'],
    ]);
  });

  it('shows bytes that are not UTF-8 as \\xNN where only text goes', () => {
    expect(printableText('Ethernet0 é')).toBe('Ethernet0 é');
    expect(printableText(bytesToText(Buffer.from([0x45, 0xff, 0x5c, 0x80])))).toBe('E\\xff\\\\\\x80');
  });
});
