// DNS rebinding protection for the loopback servers (the local inspector, the Stately relay): a page from another
// origin whose name was made to resolve to 127.0.0.1 sends its own name in Host. Only loopback names are accepted.
import type { IncomingMessage } from 'node:http';

const loopbackNames = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** True when the request's Host header names a loopback address, with the server's own port (or none). */
export function isLoopbackHost(req: IncomingMessage, port: number): boolean {
  const host = req.headers.host;
  if (typeof host !== 'string' || host.length === 0 || host.length > 300) return false;
  const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(host.toLowerCase());
  if (!m) return false;
  if (!loopbackNames.has(m[1]!)) return false;
  return m[2] === undefined || Number(m[2]) === port;
}
