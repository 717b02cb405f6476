// The node:http transport of the events REST API: bounded request bodies (413 past the cap), request and header
// timeouts, a cap on open connections. Routing and replies are the handler's (src/actors/events/api.ts).
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RestRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  body: string;
}

export interface RestReply {
  status: number;
  body?: string;
  contentType?: string;
}

export interface RestServerOptions {
  host: string;
  port: number;
  maxBodyBytes: number;
  maxConnections: number;
  handle: (req: RestRequest) => Promise<RestReply>;
  /** A handler that threw (a bug): answered 500 and reported here. */
  onError?: (err: unknown) => void;
}

export interface RunningRestServer {
  address: string;
  port: number;
  close(): Promise<void>;
}

function readBody(req: IncomingMessage, max: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > max) {
      resolve(undefined);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > max) {
        resolve(undefined);
        req.pause();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export function startRestServer(opts: RestServerOptions): Promise<RunningRestServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    readBody(req, opts.maxBodyBytes).then(
      async (body) => {
        if (body === undefined) {
          res.writeHead(413, { connection: 'close' }).end();
          req.destroy();
          return;
        }
        let reply: RestReply;
        try {
          reply = await opts.handle({ method: req.method ?? 'GET', path, body });
        } catch (err) {
          opts.onError?.(err);
          reply = { status: 500 };
        }
        const headers: Record<string, string | number> = {};
        if (reply.contentType) headers['content-type'] = reply.contentType;
        headers['content-length'] = Buffer.byteLength(reply.body ?? '');
        res.writeHead(reply.status, headers).end(reply.body ?? '');
      },
      () => req.destroy(),
    );
  });
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000;
  server.maxConnections = opts.maxConnections;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      const a = server.address() as AddressInfo;
      resolve({
        address: a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`,
        port: a.port,
        close: () =>
          new Promise((r) => {
            server.close(() => r());
            server.closeAllConnections();
          }),
      });
    });
  });
}
