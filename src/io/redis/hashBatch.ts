// One flush of HSET / DEL writes as one EVAL (one command, one reply) instead of one command per write. A pipelined
// batch still costs ioredis a Command, a promise and a reply dispatch per write; that was the largest part of a
// STATE_DB flush left after one RESP buffer per flush (docs/performance.md, P3). The script runs the same DEL and
// HSET calls in the same order, each under pcall, and returns the reply errors by command index, so the caller gets
// the results in the shape of `pipeline.exec()` for the commands the pipeline would have sent, and checks them as
// before (checkPipelineResults). The script is atomic: a batch of 2,000 writes holds the server for a few ms (SONiC's
// own producers batch with Lua the same way). Keys are not declared (a standalone server: SONiC's Redis is not a
// cluster). Property-tested against an ioredis pipeline on the real server (test/io/redis/hashBatch.test.ts).
import type { Redis } from 'ioredis';
import { sendBatch } from './respBatch.js';

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
const MAX_PAIRS = 3_000;

/**
 * Writes `writes` with one EVAL and resolves with one `[error, reply]` per command the pipeline would have sent (replies
 * are not kept: the writers only look at errors; successful commands give `[null, null]`). An error of the EVAL itself
 * is a reply error of every command when Redis refused it as a whole (OOM, BUSY, …), else (connection) every command
 * carries that error, as a pipeline's would.
 */
export async function sendHashBatch(client: Redis, writes: readonly HashWrite[]): Promise<Results> {
  const total = commandCount(writes);
  if (total === 0) return [];
  if (writes.some((w) => w.fields.length > 2 * MAX_PAIRS)) return sendBatch(client, plainCommands(writes));
  const argv: string[] = ['eval', hashBatchScript, '0'];
  for (const w of writes) {
    argv.push(w.del ? 'd' : 's', w.key, String(w.fields.length >> 1));
    for (const f of w.fields) argv.push(f);
  }
  const [[err, reply] = [new Error('no reply'), null]] = await sendBatch(client, [argv]);
  const results: Results = new Array<[Error | null, unknown]>(total);
  if (err) {
    for (let i = 0; i < total; i++) results[i] = [err, null];
    return results;
  }
  for (let i = 0; i < total; i++) results[i] = [null, null];
  const list = reply as (number | Buffer | string)[];
  for (let j = 0; j + 1 < list.length; j += 2) results[Number(list[j]) - 1] = [replyError(String(list[j + 1])), null];
  return results;
}
