// /metrics, /healthz, /readyz on node:http. Loopback unless configured otherwise.
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Counter, Gauge } from 'prom-client';
import type { MetricsHub } from './metricsHub.js';

export interface HealthStatus {
  /** The process is up and its supervisor is running. */
  live: boolean;
  /** Every enabled service reports ready. */
  ready: boolean;
  /** Per-child readiness and state, shown in the body. */
  detail: Record<string, unknown>;
}

export interface HttpServerOptions {
  listen: string;
  metrics: MetricsHub;
  status: () => HealthStatus;
  /** Connections beyond this are answered 503 and closed, counted. Default 64. */
  maxConnections?: number;
  /** A connection idle (no request, or a request not complete) this long is closed. Default 30,000 ms. */
  idleTimeoutMs?: number;
  /** Pipelined requests one connection may have unanswered; beyond it the connection is closed. Default 16. */
  maxRequestsInFlight?: number;
}

export interface RunningHttpServer {
  address: string;
  close(): Promise<void>;
}

export function parseListen(listen: string): { host: string; port: number } {
  const i = listen.lastIndexOf(':');
  const host = listen.slice(0, i).replace(/^\[(.*)\]$/, '$1');
  return { host, port: Number(listen.slice(i + 1)) };
}

function httpMetrics(hub: MetricsHub) {
  const reg = hub.global;
  const rejected =
    (reg.getSingleMetric('syncvisor_http_rejected_total') as Counter<'reason'> | undefined) ??
    new Counter({
      name: 'syncvisor_http_rejected_total',
      help: 'HTTP connections refused at the connection limit (connections) or closed for too many pipelined requests (pipelined).',
      labelNames: ['reason'],
      registers: [reg],
    });
  const connections =
    (reg.getSingleMetric('syncvisor_http_connections') as Gauge | undefined) ??
    new Gauge({ name: 'syncvisor_http_connections', help: 'Open HTTP connections.', registers: [reg] });
  rejected.inc({ reason: 'connections' }, 0);
  rejected.inc({ reason: 'pipelined' }, 0);
  return { rejected, connections };
}

const busy = 'too many connections\n';
const busyResponse =
  'HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Type: text/plain\r\nRetry-After: 1\r\n' +
  `Content-Length: ${busy.length}\r\n\r\n${busy}`;

export function startHttpServer(opts: HttpServerOptions): Promise<RunningHttpServer> {
  const maxConnections = opts.maxConnections ?? 64;
  const idleTimeoutMs = opts.idleTimeoutMs ?? 30_000;
  const maxInFlight = opts.maxRequestsInFlight ?? 16;
  const m = httpMetrics(opts.metrics);
  const inFlight = new WeakMap<Socket, number>();
  // Concurrent scrapes share one rendering of the page.
  let rendering: Promise<string> | undefined;
  const metricsText = (): Promise<string> =>
    (rendering ??= opts.metrics.text().finally(() => {
      rendering = undefined;
    }));
  const server: Server = createServer({ connectionsCheckingInterval: Math.min(30_000, idleTimeoutMs) }, (req, res) => {
    // Bounded pipelining: requests parsed but not answered hold their responses in memory; a client that sends more
    // than maxInFlight of them without reading is cut off (the rest of what it sent is never answered).
    const sock = req.socket;
    const n = (inFlight.get(sock) ?? 0) + 1;
    if (sock.destroyed) return;
    if (n > maxInFlight) {
      m.rejected.inc({ reason: 'pipelined' });
      sock.destroy();
      return;
    }
    inFlight.set(sock, n);
    res.once('close', () => inFlight.set(sock, (inFlight.get(sock) ?? 1) - 1));
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end('method not allowed\n');
      return;
    }
    if (path === '/metrics') {
      metricsText().then(
        (text) => res.writeHead(200, { 'content-type': opts.metrics.contentType }).end(text),
        (err: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${err.message}\n`),
      );
      return;
    }
    if (path === '/healthz' || path === '/readyz') {
      const s = opts.status();
      const ok = path === '/healthz' ? s.live : s.live && s.ready;
      res
        .writeHead(ok ? 200 : 503, { 'content-type': 'application/json' })
        .end(`${JSON.stringify({ status: ok ? 'ok' : 'unavailable', ...s })}\n`);
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics, /healthz, /readyz\n');
  });
  // Idle connections are closed: no request within idleTimeoutMs (headers, whole request), keep-alive 5 s.
  server.headersTimeout = idleTimeoutMs;
  server.requestTimeout = idleTimeoutMs;
  server.keepAliveTimeout = Math.min(5_000, idleTimeoutMs);
  server.setTimeout(idleTimeoutMs, (sock) => sock.destroy());
  let open = 0;
  server.on('connection', (sock: Socket) => {
    open++;
    m.connections.set(open);
    sock.once('close', () => {
      open--;
      m.connections.set(open);
    });
    if (open > maxConnections) {
      m.rejected.inc({ reason: 'connections' });
      sock.end(busyResponse);
      sock.setTimeout(1_000, () => sock.destroy());
    }
  });
  const { host, port } = parseListen(opts.listen);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const a = server.address() as AddressInfo;
      resolve({
        address: a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`,
        close: () =>
          new Promise((r) => {
            server.close(() => r());
            server.closeAllConnections();
          }),
      });
    });
  });
}
