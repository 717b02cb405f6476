// One flush of a writer as one RESP buffer written once on the connection. ioredis keeps what it is good at (the
// connection, reconnects, the reply parser and the command queue that matches replies to commands); what it costs
// per command in a pipeline (argument flattening and stringification, a Command, a promise chain per result, the
// pipeline's bookkeeping) was most of a STATE_DB flush (docs/performance.md, P3). Here every command is encoded by
// encodeCommand into one string, each queued Command only carries its slice of it and hands its reply straight to
// the batch, and the whole string is written with a single stream write. Arguments are byte text (byteText.ts): a
// command with bytes that are not UTF-8 is encoded byte for byte into a Buffer, and that batch is written as one
// Buffer. The result has the shape of
// `pipeline.exec()`, so the writers check replies exactly as before (checkPipelineResults).
import { Command, type Redis } from 'ioredis';
import { isWellFormed, textToBytes } from './byteText.js';

/**
 * The RESP encoding of one command: an array of bulk strings (`*n`, then `$len` + bytes per argument). Arguments are
 * byte text (byteText.ts): a string when they are all well-formed (their UTF-8 is their bytes), else the exact bytes.
 */
export function encodeCommand(args: readonly string[]): string | Buffer {
  let out = `*${args.length}\r\n`;
  for (const a of args) out += `$${Buffer.byteLength(a)}\r\n${a}\r\n`;
  return isWellFormed(out) ? out : encodeCommandBytes(args);
}

const CRLF = Buffer.from('\r\n');

/** encodeCommand for arguments that carry bytes that are not UTF-8 (lone U+DC80…U+DCFF): byte by byte. */
export function encodeCommandBytes(args: readonly string[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const a of args) {
    const bytes = textToBytes(a);
    parts.push(Buffer.from(`$${bytes.length}\r\n`), bytes, CRLF);
  }
  return Buffer.concat(parts);
}

/** Commands to send, each as its argument list (lower-case name first), e.g. `['hset', key, field, value]`. */
export type BatchCommands = readonly (readonly string[])[];

type Results = [Error | null, unknown][];

/**
 * A queued command of a batch: written as part of the batch's one buffer, its own bytes only if ioredis ever sends
 * it again by itself (a resend after a reconnect: with the writers' options, maxRetriesPerRequest 0, ioredis rejects
 * the queue instead, and the writer retries the batch). Its reply goes to `settle`, not to a promise.
 */
class BatchCommand extends Command {
  constructor(
    name: string,
    private readonly bytes: string | Buffer,
    settle: (err: Error | null, reply: unknown) => void,
  ) {
    super(name);
    this.resolve = (reply: unknown) => settle(null, reply);
    this.reject = (err: Error) => settle(err, undefined);
  }

  override toWritable(): string | Buffer {
    return this.bytes;
  }
}

/**
 * Sends `commands` as one buffer on `client` and resolves with one `[error, reply]` per command, in order, once
 * every reply is in (replies as the parser gives them: bulk strings as Buffers; the writers only look at errors).
 * Rejects at once when the connection is not ready (nothing is written then).
 */
export function sendBatch(client: Redis, commands: BatchCommands): Promise<Results> {
  if (commands.length === 0) return Promise.resolve([]);
  const names: string[] = [];
  const parts: (string | Buffer)[] = [];
  for (const args of commands) {
    names.push(args[0]!);
    parts.push(encodeCommand(args));
  }
  return queueBatch(client, names, parts, undefined);
}

/**
 * Sends one command already encoded as RESP (`bytes`, e.g. by HashBatchEncoder) and resolves with its
 * `[error, reply]`. `written` is called once the socket is done with `bytes` (written, or never to be written): until
 * then the caller must not change them. Rejects at once when the connection is not ready (nothing is written then).
 */
export async function sendEncoded(
  client: Redis,
  name: string,
  bytes: Buffer,
  written: () => void,
): Promise<[Error | null, unknown]> {
  const [result] = await queueBatch(client, [name], [bytes], written);
  return result!;
}

function queueBatch(
  client: Redis,
  names: readonly string[],
  parts: readonly (string | Buffer)[],
  written: (() => void) | undefined,
): Promise<Results> {
  if (client.status !== 'ready') {
    written?.();
    return Promise.reject(new Error(`redis connection is ${client.status}`));
  }
  return new Promise<Results>((resolve) => {
    const results: Results = new Array<[Error | null, unknown]>(names.length);
    let left = names.length;
    // While the batch is queued the commands' own writes are swallowed (the whole buffer follows); a later resend of
    // one command by ioredis goes to the connection's current stream.
    let queuing = true;
    let refused = false;
    const sink = {
      write: (chunk: string | Buffer): boolean => (queuing ? true : client.stream.write(chunk)),
    };
    let text = '';
    let chunks: Buffer[] | undefined; // when some part is a Buffer (bytes that are not UTF-8, or encoded as bytes)
    for (let i = 0; i < names.length; i++) {
      const bytes = parts[i]!;
      if (typeof bytes === 'string') text += bytes;
      else if (names.length === 1) chunks = [bytes];
      else {
        (chunks ??= []).push(Buffer.from(text), bytes);
        text = '';
      }
      const command = new BatchCommand(names[i]!, bytes, (err, reply) => {
        if (results[i] !== undefined) return;
        if (queuing) refused = true;
        results[i] = [err, reply];
        if (--left === 0) resolve(results);
      });
      client.sendCommand(command, sink as never);
    }
    queuing = false;
    // A command refused while queuing means the stream is not writable: ioredis's close handling rejects the rest.
    if (refused) {
      written?.();
      return;
    }
    const whole = chunks
      ? chunks.length === 1 && text === ''
        ? chunks[0]!
        : Buffer.concat([...chunks, Buffer.from(text)])
      : text;
    if (written) client.stream.write(whole, () => written());
    else client.stream.write(whole);
  });
}
