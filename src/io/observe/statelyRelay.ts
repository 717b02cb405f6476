// The relay between the daemon and the Stately inspector (https://stately.ai/inspect) open in a browser: a small
// page (an iframe with the Stately inspector and a WebSocket back to this relay) and a WebSocket server, both on
// 127.0.0.1 only, with the Host header checked. The daemon hands the relay its inspection messages in-process (no
// WebSocket client, no name resolution: it works in a loopback-only namespace). A browser that connects late gets
// every live actor's registration and latest snapshot first, then the most recent other messages, so it can draw
// the whole system and not only what happened after it joined.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import type { Logger } from '../log.js';
import { isLoopbackHost } from './hostCheck.js';

export interface StatelyRelayOptions {
  /** 0 picks a free port. */
  port: number;
  logger: Logger;
  /** The inspector UI the page embeds (default https://stately.ai/inspect). */
  inspectorUrl?: string;
  /** Recent non-registration messages replayed to a late browser (default 500). */
  maxRecent?: number;
  /** Actors whose registration is kept for late browsers (default 5 000; the oldest stopped ones go first). */
  maxActors?: number;
}

export interface StatelyRelay {
  start(): Promise<{ url: string; port: number }>;
  /** One message from the inspected system (a Stately inspection event, plain JSON). */
  send(message: { type: string; sessionId?: string; snapshot?: { status?: string } }): void;
  readonly clients: number;
  stop(): Promise<void>;
}

function bridgeHtml(port: number, inspectorUrl: string): string {
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>syncvisor · Stately inspector</title>
<style>html,body{height:100%;margin:0}iframe{width:100%;height:100%;border:0}</style></head>
<body><iframe id="inspector" src="${inspectorUrl}"></iframe>
<script>
const iframe = document.getElementById('inspector');
const held = [];
let connected = false;
window.addEventListener('message', (e) => {
  if (e.data && e.data.type === '@statelyai.connected') {
    connected = true;
    for (const m of held) iframe.contentWindow.postMessage(m, '*');
    held.length = 0;
  }
});
const ws = new WebSocket('ws://127.0.0.1:${port}/');
ws.onmessage = (e) => {
  const data = JSON.parse(e.data);
  if (connected) iframe.contentWindow.postMessage(data, '*');
  else if (held.length < 20000) held.push(data);
};
</script></body></html>
`;
}

export function createStatelyRelay(opts: StatelyRelayOptions): StatelyRelay {
  const maxRecent = opts.maxRecent ?? 500;
  const maxActors = opts.maxActors ?? 5000;
  const inspectorUrl = opts.inspectorUrl ?? 'https://stately.ai/inspect';
  // sessionId → its registration and latest snapshot message (JSON text)
  const actors = new Map<string, { actor: string; snapshot?: string; stopped: boolean }>();
  const recent: string[] = [];
  let server: Server | undefined;
  let wss: WebSocketServer | undefined;
  let port = opts.port;

  const broadcast = (text: string) => {
    for (const c of wss?.clients ?? [])
      if (c.readyState === WebSocket.OPEN && c.bufferedAmount < 8 * 1024 * 1024) c.send(text);
  };

  const forgetStopped = () => {
    if (actors.size <= maxActors) return;
    for (const [id, a] of actors) {
      if (actors.size <= maxActors) break;
      if (a.stopped) actors.delete(id);
    }
    while (actors.size > maxActors) actors.delete(actors.keys().next().value!);
  };

  return {
    async start() {
      const srv = createServer((req, res) => {
        if (!isLoopbackHost(req)) {
          res.writeHead(403, { 'content-type': 'text/plain' }).end('forbidden: Host must be a loopback address\n');
          return;
        }
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
        res.end(bridgeHtml(port, inspectorUrl));
      });
      server = srv;
      await new Promise<void>((resolve, reject) => {
        srv.once('error', reject);
        srv.listen(opts.port, '127.0.0.1', () => {
          srv.off('error', reject);
          resolve();
        });
      });
      // The WebSocket server is attached once the port is ours (it re-emits the server's errors).
      const w = new WebSocketServer({
        server: srv,
        maxPayload: 64 * 1024,
        verifyClient: (info: { req: Parameters<typeof isLoopbackHost>[0] }) => isLoopbackHost(info.req),
      });
      wss = w;
      w.on('connection', (ws) => {
        opts.logger.info({ clients: w.clients.size }, 'stately relay: browser connected');
        for (const a of actors.values()) ws.send(a.actor);
        for (const a of actors.values()) if (a.snapshot) ws.send(a.snapshot);
        for (const m of recent) ws.send(m);
        ws.on('error', () => ws.terminate());
      });
      w.on('error', (err) => opts.logger.error({ err }, 'stately relay: WebSocket error'));
      srv.on('error', (err) => opts.logger.error({ err }, 'stately relay: server error'));
      port = (srv.address() as AddressInfo).port;
      return { url: `http://127.0.0.1:${port}/`, port };
    },
    send(message) {
      let text: string;
      try {
        text = JSON.stringify(message);
      } catch {
        return;
      }
      const id = message.sessionId;
      if (message.type === '@xstate.actor' && id) {
        actors.delete(id);
        actors.set(id, { actor: text, stopped: false });
        forgetStopped();
      } else if (message.type === '@xstate.snapshot' && id && actors.has(id)) {
        const a = actors.get(id)!;
        a.snapshot = text;
        const status = message.snapshot?.status;
        a.stopped = status === 'done' || status === 'error' || status === 'stopped';
      } else {
        recent.push(text);
        if (recent.length > maxRecent) recent.shift();
      }
      broadcast(text);
    },
    get clients() {
      return wss?.clients.size ?? 0;
    },
    async stop() {
      for (const c of wss?.clients ?? []) c.terminate();
      const w = wss;
      wss = undefined;
      await new Promise<void>((r) => (w ? w.close(() => r()) : r()));
      const srv = server;
      server = undefined;
      if (srv?.listening) await new Promise<void>((r) => srv.close(() => r()));
    },
  };
}
