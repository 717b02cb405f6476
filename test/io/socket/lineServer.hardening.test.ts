// The line server's hardening on real Unix sockets: the last line before EOF without a newline is delivered, a CR
// does not count toward the line limit, the socket path is owned through a flock'ed lock file (a second server is
// refused even when the first one stalls, a stale socket is replaced only by the lock holder, close() removes only
// its own inode), idle connections time out.
import { createConnection, type Socket } from 'node:net';
import { lstatSync, mkdtempSync, rmSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, describe, expect, it } from 'vitest';
import { linesOf, SocketInUseError, startLineServer } from '../../../src/io/socket/lineServer.js';

const dir = mkdtempSync(join(tmpdir(), 'syncvisor-linesrv-h-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

async function start(opts: { maxLineBytes?: number; idleTimeoutMs?: number; path?: string } = {}) {
  const path = opts.path ?? join(dir, `h${n++}.sock`);
  const registry = new Registry();
  const lines: string[] = [];
  const server = await startLineServer(
    { path, registry, ...opts },
    {
      onLines: (_c, text) => lines.push(...linesOf(text)),
      onCommand: (_c, command) => lines.push(`CMD:${command}`),
    },
  );
  return { path, registry, lines, server };
}

function connect(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = createConnection(path, () => resolve(s));
    s.once('error', reject);
  });
}

async function until(what: string, f: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!f()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const metric = async (reg: Registry, name: string) =>
  (await reg.getMetricsAsJSON()).find((x) => x.name === name)?.values.reduce((a, v) => a + v.value, 0);

describe('line server hardening', () => {
  it('delivers the last line before EOF without a newline (as bufio.Scanner), also a CMD, also in pieces', async () => {
    const { path, lines, server } = await start();
    const a = await connect(path);
    a.end('ptp4l[1.0]: first\nptp4l[2.0]: last without newline');
    const b = await connect(path);
    b.write('CMD RES');
    await new Promise((r) => setTimeout(r, 20));
    b.end('TART');
    await until('both tails', () => lines.length === 3);
    expect(lines.sort()).toEqual(['CMD:RESTART', 'ptp4l[1.0]: first', 'ptp4l[2.0]: last without newline'].sort());
    await server.close();
  });

  it('a line of exactly maxLineBytes ending in CRLF is kept, one byte more is discarded; CR does not count at EOF either', async () => {
    const max = 64;
    const { path, lines, registry, server } = await start({ maxLineBytes: max });
    const exact = 'x'.repeat(max);
    const c = await connect(path);
    c.write(`${exact}\r`); // the CR arrives before its LF, in another chunk
    await new Promise((r) => setTimeout(r, 20));
    c.write(`\n${'y'.repeat(max + 1)}\r\n${'z'.repeat(max)}\r`);
    c.end();
    await until('lines', () => lines.length === 2);
    expect(lines).toEqual([exact, 'z'.repeat(max)]);
    expect(await metric(registry, 'syncvisor_socket_discarded_lines_total')).toBe(1);
    await server.close();
  });

  it('a second server on the same path is refused by the lock even when the first one does not accept (stalled)', async () => {
    const first = await start();
    // Simulate the stall from outside: a second server must not even probe; the lock says the path is owned.
    await expect(start({ path: first.path })).rejects.toThrow(SocketInUseError);
    await expect(start({ path: first.path })).rejects.toThrow(/another syncvisor instance owns/);
    expect(lstatSync(first.path).isSocket()).toBe(true);
    const c = await connect(first.path); // still the first server's socket
    c.end('still here\n');
    await until('first serves', () => first.lines.includes('still here'));
    await first.server.close();
    // Released: the next one takes the path.
    const next = await start({ path: first.path });
    await next.server.close();
  });

  it('close() removes only its own socket inode: a file that replaced it at the path stays', async () => {
    const s = await start();
    const moved = `${s.path}.moved`;
    renameSync(s.path, moved); // someone else's socket now sits at the path…
    const other = await start({ path: join(dir, `other${n++}.sock`) });
    renameSync(other.path, s.path);
    const before = lstatSync(s.path);
    await s.server.close();
    const after = lstatSync(s.path); // …and our close did not unlink it
    expect([after.dev, after.ino]).toEqual([before.dev, before.ino]);
    rmSync(moved, { force: true });
    await other.server.close();
  });

  it('an idle connection is closed after idleTimeoutMs and counted', async () => {
    const { path, registry, server } = await start({ idleTimeoutMs: 200 });
    const c = await connect(path);
    let closed = false;
    c.on('close', () => (closed = true));
    c.on('error', () => {});
    await until('idle close', () => closed, 3000);
    expect(await metric(registry, 'syncvisor_socket_idle_closed_total')).toBe(1);
    await server.close();
  });
});
