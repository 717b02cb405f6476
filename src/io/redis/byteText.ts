// Redis values are bytes; inside syncvisor they are strings in "byte text": the bytes decoded as UTF-8 where they are
// valid UTF-8, and every byte that is not part of a valid UTF-8 sequence as the lone surrogate U+DC00 + byte
// (U+DC80…U+DCFF; the scheme of Python's surrogateescape). Valid UTF-8 never decodes to a lone surrogate, so the
// mapping is one-to-one: textToBytes(bytesToText(b)) is b for every b, and two values are equal as strings exactly
// when they are equal as bytes. Text stays text (a log line, a trace, the inspector show "é" as "é"), the bytes
// that are not text appear as \udcXX in every JSON output, and the machines compare and copy plain strings.
// Converted only here, at the Redis edge (docs/sonic.md, "Values are bytes").
import { isUtf8 } from 'node:buffer';

/** String.prototype.isWellFormed (Node 20; the ES2024 lib is not in tsconfig): no lone surrogate in s. */
export function isWellFormed(s: string): boolean {
  return (s as string & { isWellFormed(): boolean }).isWellFormed();
}

/** Redis bytes → byte text. Fast path: valid UTF-8 (every value portsync writes itself) costs one decode. */
export function bytesToText(bytes: Buffer): string {
  const text = bytes.toString('utf8');
  // Invalid UTF-8 always decodes with a U+FFFD in it; a U+FFFD may also be real (EF BF BD): then ask isUtf8.
  if (!text.includes('\ufffd') || isUtf8(bytes)) return text;
  let out = '';
  let run = 0; // start of the current run of valid UTF-8
  let i = 0;
  const n = bytes.length;
  while (i < n) {
    const len = utf8SequenceLength(bytes, i);
    if (len > 0) {
      i += len;
      continue;
    }
    if (run < i) out += bytes.toString('utf8', run, i);
    out += String.fromCharCode(0xdc00 + bytes[i]!);
    i += 1;
    run = i;
  }
  if (run < n) out += bytes.toString('utf8', run, n);
  return out;
}

/** Length of the valid UTF-8 sequence at b[i] (RFC 3629: no overlongs, no surrogates, ≤ U+10FFFF), 0 if invalid. */
function utf8SequenceLength(b: Buffer, i: number): number {
  const c = b[i]!;
  if (c < 0x80) return 1;
  const cont = (j: number, lo = 0x80, hi = 0xbf): boolean => i + j < b.length && b[i + j]! >= lo && b[i + j]! <= hi;
  if (c >= 0xc2 && c <= 0xdf) return cont(1) ? 2 : 0;
  if (c === 0xe0) return cont(1, 0xa0) && cont(2) ? 3 : 0;
  if (c === 0xed) return cont(1, 0x80, 0x9f) && cont(2) ? 3 : 0;
  if (c >= 0xe1 && c <= 0xef) return cont(1) && cont(2) ? 3 : 0;
  if (c === 0xf0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
  if (c >= 0xf1 && c <= 0xf3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
  if (c === 0xf4) return cont(1, 0x80, 0x8f) && cont(2) && cont(3) ? 4 : 0;
  return 0;
}

/**
 * Byte text → Redis bytes. A well-formed string is plain UTF-8; a lone U+DC80…U+DCFF is its byte. (Other lone
 * surrogates come from no Redis read and are not bytes: they become U+FFFD, as Node encodes them.)
 */
export function textToBytes(text: string): Buffer {
  if (isWellFormed(text)) return Buffer.from(text, 'utf8');
  const parts: Buffer[] = [];
  let run = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0xd800 || c > 0xdfff) continue;
    if (c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        i += 1; // a pair: UTF-8 as usual
        continue;
      }
    }
    if (c < 0xdc80 || c > 0xdcff) continue; // a lone surrogate that is no byte: left to Buffer.from (U+FFFD)
    if (run < i) parts.push(Buffer.from(text.slice(run, i), 'utf8'));
    parts.push(Buffer.of(c - 0xdc00));
    run = i + 1;
  }
  if (run < text.length) parts.push(Buffer.from(text.slice(run), 'utf8'));
  return Buffer.concat(parts);
}

/** Byte texts as Redis returns them in an array reply (HGETALL: field, value, …) → a record, `__proto__` included. */
export function fieldsFromReply(reply: readonly Buffer[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < reply.length; i += 2) {
    const field = bytesToText(reply[i]!);
    const value = bytesToText(reply[i + 1]!);
    if (field === '__proto__') {
      Object.defineProperty(out, field, { value, enumerable: true, writable: true, configurable: true });
    } else out[field] = value;
  }
  return out;
}

/**
 * Byte text for a place that takes only text (a metric label): unchanged when it is all UTF-8, else every byte that
 * is not as `\xNN` and a backslash as `\\` (so that an escape cannot be mistaken for text).
 */
export function printableText(text: string): string {
  if (isWellFormed(text)) return text;
  return text.replace(/\\|[\udc80-\udcff]/g, (c, at: number) => {
    if (c === '\\') return '\\\\';
    const before = at > 0 ? text.charCodeAt(at - 1) : 0;
    if (before >= 0xd800 && before <= 0xdbff) return c; // the second half of a pair
    return `\\x${(c.charCodeAt(0) - 0xdc00).toString(16).padStart(2, '0')}`;
  });
}
