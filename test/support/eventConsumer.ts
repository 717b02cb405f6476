// A small HTTP consumer on loopback for the events tests and benchmark: records every POST body in order and
// answers as told (204, 500, slowly, never, or not at all once closed).
import { createServer, type IncomingMessage, type ServerResponse, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type ConsumerMode =
  { kind: '204' } | { kind: 'status'; status: number } | { kind: 'slow'; ms: number } | { kind: 'never' };

export interface Received {
  path: string;
  body: string;
  headers: IncomingMessage['headers'];
  at: number;
}

export class EventConsumer {
  readonly received: Received[] = [];
  mode: ConsumerMode = { kind: '204' };
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly held = new Set<ServerResponse>();
  port = 0;

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.received.push({
          path: req.url ?? '/',
          body: Buffer.concat(chunks).toString('utf8'),
          headers: req.headers,
          at: Date.now(),
        });
        const m = this.mode;
        if (m.kind === '204') res.writeHead(204).end();
        else if (m.kind === 'status') res.writeHead(m.status).end('no');
        else if (m.kind === 'slow') setTimeout(() => res.writeHead(204).end(), m.ms);
        else this.held.add(res);
      });
    });
    this.server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', () => r()));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  url(path = '/event'): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  bodies(path?: string): unknown[] {
    return this.received.filter((r) => path === undefined || r.path === path).map((r) => JSON.parse(r.body));
  }

  /** Stops listening and drops every connection: later POSTs are refused. */
  async close(): Promise<void> {
    if (!this.server) return;
    const s = this.server;
    this.server = undefined;
    for (const r of this.held) r.destroy();
    for (const sock of this.sockets) sock.destroy();
    await new Promise<void>((r) => s.close(() => r()));
  }
}
