// The local inspector's HTTP server: the page and its assets (served from the package, no internet needed),
// /api/actors (the whole picture as JSON) and /api/events (Server-Sent Events: an `init` message with the picture,
// then every record). Binds 127.0.0.1 only. It serves plain JSON records from an InspectorStore.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../log.js';
import type { InspectorRecord, InspectorStore } from './inspectorStore.js';
import { isLoopbackHost } from './hostCheck.js';

export interface InspectorServerOptions {
  store: InspectorStore;
  /** 0 picks a free port; the bound one is returned by start(). */
  port: number;
  logger: Logger;
  /** Loopback only; tests may pass '::1'. */
  host?: '127.0.0.1' | '::1';
  /** Directory holding index.html, app.js, style.css (default: the package's src/io/observe/inspector/assets). */
  assetsDir?: string;
  /** An SSE client whose unsent output exceeds this many bytes is disconnected (default 4 MiB). */
  maxClientBacklog?: number;
}

export interface InspectorServer {
  start(): Promise<{ url: string; port: number }>;
  stop(): Promise<void>;
}

const assetTypes: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'layout.js': 'text/javascript; charset=utf-8',
  'style.css': 'text/css; charset=utf-8',
  'elk.js': 'text/javascript; charset=utf-8',
};

/** The graph layout engine the page uses, served from the installed elkjs package (no CDN). */
function elkBundle(): string {
  return createRequire(import.meta.url).resolve('elkjs/lib/elk.bundled.js');
}

/** Where the assets are, both from src/ (tsx) and from dist/ (built; the package ships src/io/observe/inspector). */
export function defaultAssetsDir(): string {
  const candidates = [
    new URL('./inspector/assets/', import.meta.url),
    // dist/io/observe → the package's src/io/observe/inspector/assets (the package ships them)
    new URL('../../../src/io/observe/inspector/assets/', import.meta.url),
  ];
  for (const c of candidates) {
    const p = fileURLToPath(c);
    if (existsSync(`${p}index.html`)) return p;
  }
  return fileURLToPath(candidates[0]!);
}

export function createInspectorServer(opts: InspectorServerOptions): InspectorServer {
  const { store, logger } = opts;
  const host = opts.host ?? '127.0.0.1';
  const maxBacklog = opts.maxClientBacklog ?? 4 * 1024 * 1024;
  const assets = new Map<string, Buffer>();
  const clients = new Set<ServerResponse>();
  let pending: InspectorRecord[] = [];
  let flushScheduled = false;
  let unsubscribe: (() => void) | undefined;
  let heartbeat: NodeJS.Timeout | undefined;
  let server: Server | undefined;

  // Records are written once per tick, as one SSE message holding an array, so a burst costs one write per client.
  const flush = () => {
    flushScheduled = false;
    if (pending.length === 0) return;
    const msg = `event: records\ndata: ${JSON.stringify(pending)}\n\n`;
    pending = [];
    for (const res of clients) send(res, msg);
  };

  const send = (res: ServerResponse, msg: string) => {
    if (res.writableLength > maxBacklog) {
      logger.warn({ backlog: res.writableLength }, 'inspector: slow SSE client disconnected');
      clients.delete(res);
      res.destroy();
      return;
    }
    res.write(msg);
  };

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    // DNS rebinding: another site's name resolving to 127.0.0.1 still sends that name in Host.
    if (!isLoopbackHost(req)) {
      res.writeHead(403, { 'content-type': 'text/plain' }).end('forbidden: Host must be a loopback address\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('method not allowed\n');
      return;
    }
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path === '/' || path === '/index.html') return serveAsset(res, 'index.html');
    if (path === '/favicon.ico') {
      res.writeHead(204).end();
      return;
    }
    if (path.startsWith('/assets/')) return serveAsset(res, path.slice('/assets/'.length));
    if (path === '/api/actors') {
      const body = JSON.stringify(store.state());
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(body);
      return;
    }
    if (path === '/api/events') {
      res.writeHead(200, {
        'content-type': 'text/event-stream',
        'cache-control': 'no-store',
        connection: 'keep-alive',
      });
      res.write(`retry: 2000\nevent: init\ndata: ${JSON.stringify(store.state())}\n\n`);
      clients.add(res);
      const drop = () => clients.delete(res);
      req.on('close', drop);
      res.on('error', drop);
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
  };

  const serveAsset = (res: ServerResponse, name: string) => {
    const body = assets.get(name);
    const type = assetTypes[name];
    if (!body || !type) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    res.writeHead(200, { 'content-type': type, 'cache-control': 'no-cache' }).end(body);
  };

  return {
    async start() {
      const dir = opts.assetsDir ?? defaultAssetsDir();
      for (const name of Object.keys(assetTypes)) {
        try {
          const file = name === 'elk.js' ? elkBundle() : `${dir.endsWith('/') ? dir : dir + '/'}${name}`;
          assets.set(name, await readFile(file));
        } catch (err) {
          throw new Error(`inspector: asset ${name} not found in ${dir}: ${(err as Error).message}`);
        }
      }
      const srv = createServer(handle);
      server = srv;
      await new Promise<void>((resolve, reject) => {
        srv.once('error', reject);
        srv.listen(opts.port, host, () => {
          srv.off('error', reject);
          resolve();
        });
      });
      srv.on('error', (err) => logger.error({ err }, 'inspector: server error'));
      unsubscribe = store.subscribe((rec) => {
        if (clients.size === 0) return;
        pending.push(rec);
        if (!flushScheduled) {
          flushScheduled = true;
          setImmediate(flush);
        }
      });
      heartbeat = setInterval(() => {
        for (const res of clients) send(res, ': keep-alive\n\n');
      }, 15_000);
      heartbeat.unref();
      const port = (srv.address() as AddressInfo).port;
      const url = `http://${host === '::1' ? '[::1]' : host}:${port}/`;
      logger.info({ url }, 'inspector: serving');
      return { url, port };
    },
    async stop() {
      unsubscribe?.();
      unsubscribe = undefined;
      if (heartbeat) clearInterval(heartbeat);
      for (const res of clients) res.end();
      clients.clear();
      const srv = server;
      server = undefined;
      if (!srv) return;
      await new Promise<void>((resolve) => {
        srv.close(() => resolve());
        srv.closeAllConnections();
      });
    },
  };
}
