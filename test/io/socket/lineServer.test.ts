import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createConnection, createServer, type Socket } from 'node:net';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { linesOf, startLineServer, type LineServer } from '../../../src/io/socket/lineServer.js';
import { sendCommand } from '../../../src/io/socket/sendCommand.js';

const dir = mkdtempSync(join(tmpdir(), 'syncvisor-linesrv-'));
let n = 0;
const open: { close(): unknown }[] = [];
afterEach(async () => {
  for (const o of open.splice(0)) await o.close();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Rec = { kind: 'lines'; conn: number; lines: string[] } | { kind: 'cmd'; conn: number; command: string };

async function start(opts: { maxLineBytes?: number; maxConnections?: number } = {}) {
  const path = join(dir, `s${n++}.sock`);
  const registry = new Registry();
  const got: Rec[] = [];
  const events: string[] = [];
  const server = await startLineServer(
    { path, registry, ...opts },
    {
      onLines: (conn, text) => got.push({ kind: 'lines', conn, lines: linesOf(text) }),
      onCommand: (conn, command) => got.push({ kind: 'cmd', conn, command }),
      onConnected: (c) => events.push(`+${c}`),
      onDisconnected: (c) => events.push(`-${c}`),
    },
  );
  open.push(server);
  return { path, registry, got, events, server };
}

function connect(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = createConnection(path, () => resolve(s));
    s.once('error', reject);
    open.push({ close: () => s.destroy() });
  });
}

async function until<T>(what: string, f: () => T | undefined | false, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const allLines = (got: Rec[]) => got.flatMap((r) => (r.kind === 'lines' ? r.lines : [`CMD:${r.command}`]));
const metric = async (reg: Registry, name: string) => {
  const m = (await reg.getMetricsAsJSON()).find((x) => x.name === name);
  return m?.values.reduce((a, v) => a + v.value, 0);
};

describe('lineServer', () => {
  it('pause() stops reading every connection (new ones too) until resume(): the writer is held back, nothing lost', async () => {
    const { path, got, server } = await start();
    const a = await connect(path);
    a.write('before\n');
    await until('before', () => allLines(got).includes('before'));
    server.pause();
    expect(server.paused).toBe(true);
    const b = await connect(path); // accepted while paused: starts paused
    const chunk = `${'x'.repeat(1000)}\n`.repeat(4096); // 4 MiB: more than the kernel buffers hold
    const aDrained = a.write(chunk);
    b.write('from b\n');
    await new Promise((r) => setTimeout(r, 200));
    expect(allLines(got)).toEqual(['before']); // nothing read while paused
    expect(aDrained).toBe(false); // backpressure reached the writer
    server.resume();
    await until('all lines after resume', () => allLines(got).length === 1 + 4096 + 1);
    expect(allLines(got).filter((l) => l === 'from b')).toEqual(['from b']);
  });

  it('frames lines across chunks, strips \\r, separates CMD lines in order, batches per chunk', async () => {
    const { path, got, registry } = await start();
    const c = await connect(path);
    c.write('a1\r\na2\nCMD RESTART\r\na3\npart');
    await until('first chunk', () => allLines(got).length >= 4);
    c.write('ial\nCMD FOO bar\n');
    await until('second chunk', () => allLines(got).length >= 6);
    expect(allLines(got)).toEqual(['a1', 'a2', 'CMD:RESTART', 'a3', 'partial', 'CMD:FOO bar']);
    expect(got[0]).toEqual({ kind: 'lines', conn: 1, lines: ['a1', 'a2'] });
    expect(await metric(registry, 'syncvisor_socket_lines_total')).toBe(4);
    const cmds = (await registry.getMetricsAsJSON()).find((m) => m.name === 'syncvisor_socket_commands_total');
    expect(cmds?.values.map((v) => `${v.labels.command}=${v.value}`).sort()).toEqual(['RESTART=1', 'other=1']);
  });

  it('keeps many concurrent connections apart', async () => {
    const { path, got, events } = await start();
    const socks = await Promise.all([connect(path), connect(path), connect(path)]);
    socks.forEach((s, i) => s.write(`x${i}-`));
    socks.forEach((s, i) => s.write(`y${i}\n`));
    await until('three lines', () => allLines(got).length === 3);
    expect(allLines(got).sort()).toEqual(['x0-y0', 'x1-y1', 'x2-y2']);
    expect(new Set(got.map((r) => r.conn)).size).toBe(3);
    socks[0]!.destroy();
    await until('disconnect', () => events.some((e) => e.startsWith('-')));
  });

  it('discards a too long line, counts it and keeps the connection', async () => {
    const { path, got, registry } = await start({ maxLineBytes: 100 });
    const c = await connect(path);
    c.write(`${'x'.repeat(60)}`);
    c.write(`${'y'.repeat(60)}\nok1\n${'z'.repeat(101)}\nok2\n`);
    await until('ok2', () => allLines(got).includes('ok2'));
    expect(allLines(got)).toEqual(['ok1', 'ok2']);
    expect(await metric(registry, 'syncvisor_socket_discarded_lines_total')).toBe(2);
    expect(c.destroyed).toBe(false);
  });

  it('keeps memory bounded for a 10 MB line without newline', async () => {
    const { path, got, registry } = await start();
    const c = await connect(path);
    const chunk = Buffer.alloc(1024 * 1024, 0x61);
    const before = process.memoryUsage().rss;
    for (let i = 0; i < 10; i++) {
      await new Promise<void>((r) => c.write(chunk, () => r()));
    }
    c.write('\nafter\n');
    await until('after', () => allLines(got).includes('after'));
    expect(allLines(got)).toEqual(['after']);
    expect(await metric(registry, 'syncvisor_socket_discarded_lines_total')).toBe(1);
    // 10 MB went through; the server held at most one 64 KiB partial line. Generous bound against GC noise.
    expect(process.memoryUsage().rss - before).toBeLessThan(64 * 1024 * 1024);
  });

  it('creates the socket with mode 0660', async () => {
    const { path } = await start();
    expect(statSync(path).mode & 0o777).toBe(0o660);
  });

  it('refuses and counts connections beyond the limit', { timeout: 10_000 }, async () => {
    const { path, registry, server } = await start({ maxConnections: 2 });
    await connect(path);
    await connect(path);
    await until('2 open', () => server.connections === 2);
    const third = await connect(path);
    let closed = false;
    third.on('close', () => (closed = true));
    third.resume();
    await until('third closed by the server', () => closed || third.destroyed);
    expect(await metric(registry, 'syncvisor_socket_refused_connections_total')).toBe(1);
    expect(await metric(registry, 'syncvisor_socket_connections')).toBe(2);
  });

  it('replaces a stale socket file but refuses when a live listener answers', async () => {
    const path = join(dir, 'stale.sock');
    // A stale socket: bound then the process "died" (server closed without unlinking is simulated by a second bind).
    const other = createServer();
    await new Promise<void>((r) => other.listen(path, r));
    await expect(startLineServer({ path }, { onLines: () => {}, onCommand: () => {} })).rejects.toThrow(
      `another process listens on ${path}`,
    );
    await new Promise<void>((r) => other.close(() => r()));
    // node unlinks on close; recreate a dead socket file with a listener that never accepts again.
    const dead = createServer();
    await new Promise<void>((r) => dead.listen(path, r));
    (dead as unknown as { _handle: { close(): void } })._handle.close(); // the file stays, nothing listens
    const s = await startLineServer({ path }, { onLines: () => {}, onCommand: () => {} });
    open.push(s);
    await sendCommand(path, 'RESTART');
  });

  it('refuses to remove a path that is not a socket', async () => {
    const path = join(dir, 'plain-file');
    writeFileSync(path, 'keep me');
    await expect(startLineServer({ path }, { onLines: () => {}, onCommand: () => {} })).rejects.toThrow(/not a socket/);
  });
});

describe('sendCommand', () => {
  it('writes CMD RESTART on a short connection', async () => {
    const { path, got } = await start();
    await sendCommand(path);
    await until('command', () => got.length === 1);
    expect(got).toEqual([{ kind: 'cmd', conn: 1, command: 'RESTART' }]);
  });

  it('fails with one line when nothing listens', async () => {
    const path = join(dir, 'nobody.sock');
    await expect(sendCommand(path)).rejects.toThrow(`no sidecar listens on ${path}`);
  });
});

export type { LineServer };
