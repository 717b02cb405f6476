// One JSON POST to a consumer endpoint, as CEP's client sends it: `Content-Type: application/json`, no ce-* headers,
// a hard timeout over the whole exchange. Resolves with the status of any answer (the body is read and dropped,
// bounded); rejects on a connection error or the timeout. Keep-alive connections per host, like Go's client.
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import type { Agent as HttpsAgent } from 'node:https';
import { nodeHttps } from '../lazyBuiltins.js';

// No per-host socket limit: a queued request would spend its timeout waiting for a socket. The number of requests in
// flight is bounded by the callers (one per consumer's delivery machine, one per open API connection).
const httpAgent = new HttpAgent({ keepAlive: true, maxFreeSockets: 16 });
// node:https is loaded with the first https endpoint.
let httpsAgent: HttpsAgent | undefined;
const httpsKeepAlive = (): HttpsAgent =>
  (httpsAgent ??= new (nodeHttps().Agent)({ keepAlive: true, maxFreeSockets: 16 }));

export class PostError extends Error {
  constructor(
    message: string,
    readonly kind: 'timeout' | 'connection',
    /** The error hit a kept-alive socket that the peer had closed (no request reached it). */
    readonly staleSocket = false,
  ) {
    super(message);
  }
}

export function postJson(endpoint: string, body: string, timeoutMs: number): Promise<{ status: number }> {
  const deadline = Date.now() + timeoutMs;
  return postOnce(endpoint, body, timeoutMs).catch((err: unknown) => {
    // A kept-alive socket the consumer closed meanwhile fails at once; that is no answer from the consumer. Try once
    // more on a fresh socket within the same deadline (what Node's documentation advises for reused sockets).
    const left = deadline - Date.now();
    if (err instanceof PostError && err.staleSocket && left > 0) return postOnce(endpoint, body, left, true);
    throw err;
  });
}

function postOnce(endpoint: string, body: string, timeoutMs: number, fresh = false): Promise<{ status: number }> {
  return new Promise((resolve, reject) => {
    let url: URL;
    try {
      url = new URL(endpoint);
    } catch {
      reject(new PostError(`invalid URL ${endpoint}`, 'connection'));
      return;
    }
    const isHttps = url.protocol === 'https:';
    const payload = Buffer.from(body, 'utf8');
    let settled = false;
    const finish = (err: PostError | undefined, status?: number) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) reject(err);
      else resolve({ status: status ?? 0 });
    };
    const req = (isHttps ? nodeHttps().request : httpRequest)(
      url,
      {
        method: 'POST',
        agent: fresh ? false : isHttps ? httpsKeepAlive() : httpAgent,
        headers: { 'content-type': 'application/json', 'content-length': payload.length },
      },
      (res: IncomingMessage) => {
        let read = 0;
        res.on('data', (chunk: Buffer) => {
          read += chunk.length;
          if (read > 65_536) res.destroy(); // a consumer's reply body is never needed
        });
        res.on('end', () => finish(undefined, res.statusCode));
        res.on('close', () => finish(undefined, res.statusCode));
        res.on('error', () => finish(undefined, res.statusCode));
      },
    );
    const timer = setTimeout(() => {
      finish(new PostError(`no answer within ${timeoutMs} ms`, 'timeout'));
      req.destroy();
    }, timeoutMs);
    req.on('error', (err: NodeJS.ErrnoException) => {
      const stale = req.reusedSocket && (err.code === 'ECONNRESET' || err.code === 'EPIPE');
      finish(new PostError(err.code ?? err.message, 'connection', stale));
    });
    req.end(payload);
  });
}
