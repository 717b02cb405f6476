// /metrics, /healthz, /readyz on node:http. Loopback unless configured otherwise.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
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

export function startHttpServer(opts: HttpServerOptions): Promise<RunningHttpServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end('method not allowed\n');
      return;
    }
    if (path === '/metrics') {
      opts.metrics.text().then(
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
