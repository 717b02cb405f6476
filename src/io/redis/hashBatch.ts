// One flush of HSET / DEL writes as one EVAL (one command, one reply) instead of one command per write. A pipelined
// batch still costs ioredis a Command, a promise and a reply dispatch per write; that was the largest part of a
// STATE_DB flush left after one RESP buffer per flush (docs/performance.md, P3). The script runs the same DEL and
// HSET calls in the same order, each under pcall, and returns the reply errors by command index, so the caller gets
// the results in the shape of `pipeline.exec()` for the commands the pipeline would have sent, and checks them as
// before (checkPipelineResults). The script is atomic: a batch of 2,000 writes holds the server for a few ms (SONiC's
// own producers batch with Lua the same way). Keys are not declared (a standalone server: SONiC's Redis is not a
// cluster). The EVAL is encoded by HashBatchEncoder straight into one reused Buffer (no argument array, no string
// concatenation, no UTF-8 pass over a batch string), byte for byte what encodeCommand gives for the argument list.
// Property-tested against an ioredis pipeline on the real server and against encodeCommand
// (test/io/redis/hashBatch.test.ts).
import type { Redis } from 'ioredis';
import { isWellFormed, textToBytes } from './byteText.js';
import { sendBatch, sendEncoded } from './respBatch.js';

/** One key's write: delete it first (`del`), then HSET `fields` (flat field, value, …) when there are any. */
export interface HashWrite {
  key: string;
  del: boolean;
  fields: readonly string[];
}

// ARGV: per write: "d" (DEL first) or "s", the key, the number of field/value pairs, then the pairs.
// Returns a flat array: the 1-based index of each command that failed, then its error text.
export const hashBatchScript = `
local errs = {}
local i, c, n = 1, 0, #ARGV
while i <= n do
  local key, pairs = ARGV[i + 1], tonumber(ARGV[i + 2])
  if ARGV[i] == 'd' then
    c = c + 1
    local ok, e = pcall(redis.call, 'DEL', key)
    if not ok then errs[#errs + 1] = c; errs[#errs + 1] = e.err or tostring(e) end
  end
  i = i + 3
  if pairs > 0 then
    c = c + 1
    local ok, e = pcall(redis.call, 'HSET', key, unpack(ARGV, i, i + 2 * pairs - 1))
    if not ok then errs[#errs + 1] = c; errs[#errs + 1] = e.err or tostring(e) end
  end
  i = i + 2 * pairs
end
return errs`;

type Results = [Error | null, unknown][];

/** The commands a pipeline would send for `writes`, in order: [DEL key]?, [HSET key …]? per write. */
export function commandCount(writes: readonly HashWrite[]): number {
  let n = 0;
  for (const w of writes) n += (w.del ? 1 : 0) + (w.fields.length > 0 ? 1 : 0);
  return n;
}

/** The same writes as plain commands (the pipeline's view; also the path for a write too big for one call). */
export function plainCommands(writes: readonly HashWrite[]): string[][] {
  const out: string[][] = [];
  for (const w of writes) {
    if (w.del) out.push(['del', w.key]);
    if (w.fields.length > 0) out.push(['hset', w.key, ...w.fields]);
  }
  return out;
}

function replyError(message: string): Error {
  const err = new Error(message);
  err.name = 'ReplyError';
  return err;
}

/** Unpack's bound on one call's arguments (LUAI_MAXCSTACK 8000): a batch with a bigger write is sent as plain commands. */
export const MAX_PAIRS = 3_000;

const CR = 13;
const LF = 10;
const DOLLAR = 36;
/** `$4\r\neval\r\n$<n>\r\n<script>\r\n$1\r\n0\r\n`: every argument of the EVAL before the writes. */
const EVAL_HEAD = Buffer.from(
  `$4\r\neval\r\n$${Buffer.byteLength(hashBatchScript)}\r\n${hashBatchScript}\r\n$1\r\n0\r\n`,
);
/** Room kept in front of the writes for `*<argc>\r\n` and EVAL_HEAD, written once the count is known. */
const HEAD_ROOM = 13 + EVAL_HEAD.length;
const INITIAL_BYTES = 64 * 1024;
/** A buffer that grew past this (a batch of big values) is not kept for the next batch. */
const KEEP_BYTES = 1024 * 1024;

function digits(n: number): number {
  let d = 1;
  while (n >= 10) {
    n = Math.floor(n / 10);
    d++;
  }
  return d;
}

/**
 * Encodes one batch of writes as the RESP of `EVAL hashBatchScript 0 <argv>` into one reused Buffer: per write "d" or
 * "s", the key, the number of pairs, the pairs; the bytes are those of encodeCommand for the same argument list
 * (arguments are byte text, byteText.ts: ASCII byte by byte, other well-formed text as UTF-8, a lone U+DC80…U+DCFF as
 * its byte). The Buffer returned by finish() is lent to the socket write: release() it when the write is done; a
 * batch begun while it is still lent gets a new Buffer (the lent one is left to the socket).
 */
export class HashBatchEncoder {
  private buf = Buffer.allocUnsafe(INITIAL_BYTES);
  private pos = HEAD_ROOM;
  private argc = 3;
  private lent: Buffer | undefined;
  /** Commands (DEL, HSET) a pipeline would have sent for the writes added since begin(). */
  commands = 0;

  begin(): void {
    if (this.lent !== undefined || this.buf.length > KEEP_BYTES) {
      this.lent = undefined;
      this.buf = Buffer.allocUnsafe(INITIAL_BYTES);
    }
    this.pos = HEAD_ROOM;
    this.argc = 3;
    this.commands = 0;
  }

  /** One write of a record of fields (`pairs`: how many own enumerable fields it has): key is prefix + name. */
  addRecord(
    prefix: string,
    name: string,
    del: boolean,
    fields: Readonly<Record<string, string>> | undefined,
    pairs: number,
  ): void {
    this.head(prefix, name, del, pairs);
    if (fields !== undefined && pairs > 0) {
      for (const field in fields) {
        this.text(field);
        this.text(fields[field]!);
      }
    }
  }

  /** One write of flat pairs (field, value, …). */
  addFlat(key: string, del: boolean, fields: readonly string[]): void {
    const pairs = fields.length >> 1;
    this.head('', key, del, pairs);
    for (let i = 0; i < 2 * pairs; i++) this.text(fields[i]!);
  }

  /** The whole EVAL command; the Buffer is lent until release(). */
  finish(): Buffer {
    const count = `*${this.argc}\r\n`;
    const start = HEAD_ROOM - EVAL_HEAD.length - count.length;
    this.buf.write(count, start, 'latin1');
    EVAL_HEAD.copy(this.buf, HEAD_ROOM - EVAL_HEAD.length);
    const out = this.buf.subarray(start, this.pos);
    this.lent = out;
    return out;
  }

  /** The socket is done with the Buffer of finish() (a stale release of an abandoned Buffer is ignored). */
  release(out: Buffer): void {
    if (this.lent === out) this.lent = undefined;
  }

  private head(prefix: string, name: string, del: boolean, pairs: number): void {
    this.argc += 3 + 2 * pairs;
    this.commands += (del ? 1 : 0) + (pairs > 0 ? 1 : 0);
    this.text(del ? 'd' : 's');
    this.text2(prefix, name);
    this.text(String(pairs));
  }

  private room(bytes: number): void {
    if (this.pos + bytes <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + bytes) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  private length(n: number): void {
    const buf = this.buf;
    let p = this.pos;
    buf[p++] = DOLLAR;
    if (n < 10) buf[p++] = 48 + n;
    else p += buf.write(String(n), p, 'latin1');
    buf[p++] = CR;
    buf[p++] = LF;
    this.pos = p;
  }

  /** One bulk string. */
  private text(s: string): void {
    const n = s.length;
    this.room(n + 16);
    const start = this.pos;
    this.length(n);
    const buf = this.buf;
    let p = this.pos;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) {
        this.pos = start;
        this.bytes(s);
        return;
      }
      buf[p++] = c;
    }
    buf[p++] = CR;
    buf[p++] = LF;
    this.pos = p;
  }

  /** One bulk string of a + b. */
  private text2(a: string, b: string): void {
    const n = a.length + b.length;
    this.room(n + 16);
    const start = this.pos;
    this.length(n);
    const buf = this.buf;
    let p = this.pos;
    for (let i = 0; i < a.length; i++) {
      const c = a.charCodeAt(i);
      if (c >= 0x80) return this.slow2(start, a, b);
      buf[p++] = c;
    }
    for (let i = 0; i < b.length; i++) {
      const c = b.charCodeAt(i);
      if (c >= 0x80) return this.slow2(start, a, b);
      buf[p++] = c;
    }
    buf[p++] = CR;
    buf[p++] = LF;
    this.pos = p;
  }

  private slow2(start: number, a: string, b: string): void {
    this.pos = start;
    this.bytes(a + b);
  }

  /** A bulk string that is not all ASCII: its UTF-8, or its bytes when it carries bytes that are not UTF-8. */
  private bytes(s: string): void {
    if (!isWellFormed(s)) {
      const raw = textToBytes(s);
      this.room(raw.length + 16);
      this.length(raw.length);
      raw.copy(this.buf, this.pos);
      this.pos += raw.length;
    } else {
      this.room(3 * s.length + 16);
      // Written after the shortest possible length prefix, moved right if the byte length has more digits.
      const guess = digits(s.length);
      const at = this.pos + guess + 3;
      const n = this.buf.write(s, at, 'utf8');
      const shift = digits(n) - guess;
      if (shift > 0) this.buf.copyWithin(at + shift, at, at + n);
      this.length(n);
      this.pos += n;
    }
    this.buf[this.pos++] = CR;
    this.buf[this.pos++] = LF;
  }
}

/** Results of one EVAL of a batch: every command's error at once, or the reply errors by command index. */
export interface HashBatchReply {
  /** The EVAL's own error (connection, or Redis refused it as a whole), null when it ran. */
  error: Error | null;
  /** 1-based command index, error text, … (empty when every command succeeded). */
  failed: readonly (number | Buffer | string)[];
}

/**
 * Sends the batch encoded in `encoder` (finish() is called here) as one command, releasing its Buffer once written.
 * Resolves with the EVAL's error or the per-command reply errors.
 */
export async function sendEncodedBatch(client: Redis, encoder: HashBatchEncoder): Promise<HashBatchReply> {
  const bytes = encoder.finish();
  const [err, reply] = await sendEncoded(client, 'eval', bytes, () => encoder.release(bytes));
  if (err) return { error: err, failed: [] };
  return { error: null, failed: reply as (number | Buffer | string)[] };
}

/** A HashBatchReply in the shape of `pipeline.exec()` for `total` commands. */
export function pipelineResults(reply: HashBatchReply, total: number): Results {
  const results: Results = new Array<[Error | null, unknown]>(total);
  if (reply.error) {
    for (let i = 0; i < total; i++) results[i] = [reply.error, null];
    return results;
  }
  for (let i = 0; i < total; i++) results[i] = [null, null];
  const list = reply.failed;
  for (let j = 0; j + 1 < list.length; j += 2) results[Number(list[j]) - 1] = [replyError(String(list[j + 1])), null];
  return results;
}

const batchEncoder = new HashBatchEncoder();

/**
 * Writes `writes` with one EVAL and resolves with one `[error, reply]` per command the pipeline would have sent (replies
 * are not kept: the writers only look at errors; successful commands give `[null, null]`). An error of the EVAL itself
 * is a reply error of every command when Redis refused it as a whole (OOM, BUSY, …), else (connection) every command
 * carries that error, as a pipeline's would.
 */
export async function sendHashBatch(
  client: Redis,
  writes: readonly HashWrite[],
  encoder?: HashBatchEncoder,
): Promise<Results> {
  const total = commandCount(writes);
  if (total === 0) return [];
  if (writes.some((w) => w.fields.length > 2 * MAX_PAIRS)) return sendBatch(client, plainCommands(writes));
  // A shared encoder is only lent to one batch at a time: a concurrent batch encodes into a fresh Buffer.
  const enc = encoder ?? batchEncoder;
  enc.begin();
  for (const w of writes) enc.addFlat(w.key, w.del, w.fields);
  return pipelineResults(await sendEncodedBatch(client, enc), total);
}
