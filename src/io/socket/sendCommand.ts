// The client side of the control protocol, used by `syncvisor ctl restart`: one short connection, one CMD line.
import { createConnection } from 'node:net';

export class NoListenerError extends Error {
  override name = 'NoListenerError';
}

/** Connects to `path`, writes `CMD <command>\n`, closes. Rejects with a one-line error when nothing listens. */
export function sendCommand(path: string, command = 'RESTART', timeoutMs = 2_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const sock = createConnection(path);
    let settled = false;
    const fail = (err: Error): void => {
      if (settled) return;
      settled = true;
      sock.destroy();
      reject(err);
    };
    sock.setTimeout(timeoutMs, () => fail(new Error(`timed out after ${timeoutMs} ms talking to ${path}`)));
    sock.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED' || err.code === 'ENOTSOCK') {
        fail(new NoListenerError(`no sidecar listens on ${path}`));
      } else {
        fail(new Error(`cannot send CMD ${command} to ${path}: ${err.message}`));
      }
    });
    sock.once('connect', () => {
      sock.end(`CMD ${command}\n`);
    });
    sock.once('close', () => {
      if (settled) return;
      settled = true;
      resolve();
    });
    sock.resume();
  });
}
