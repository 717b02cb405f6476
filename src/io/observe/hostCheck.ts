// DNS rebinding protection for the loopback servers (the local inspector, the Stately relay): a page from another
// origin whose name was made to resolve to 127.0.0.1 sends its own name in Host. Only loopback names are accepted.
import type { IncomingMessage } from 'node:http';

const loopbackNames = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * True when the request's Host header names a loopback address. The port is not compared: a tunnel or a forward
 * (`ssh -L 8000:127.0.0.1:9102`, the demo's port forward into its namespace) reaches the server under another port,
 * and a rebinding attack is recognised by the name alone.
 */
export function isLoopbackHost(req: IncomingMessage): boolean {
  const host = req.headers.host;
  if (typeof host !== 'string' || host.length === 0 || host.length > 300) return false;
  const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(host.toLowerCase());
  if (!m) return false;
  return loopbackNames.has(m[1]!) && (m[2] === undefined || Number(m[2]) <= 65535);
}
