// Fuzzing of the socket framing over a real Unix socket: random byte streams mixing log lines, CMD lines (and
// look-alikes), CR/LF mixes, lines over the limit and random bytes, cut into random chunks and written on several
// connections at once. What the server hands over must equal a reference framing of the same bytes.
import { createConnection, type Socket } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { Registry } from 'prom-client';
import { afterAll, describe, expect, it } from 'vitest';
import { linesOf, startLineServer } from '../../src/io/socket/lineServer.js';

const dir = mkdtempSync(join(tmpdir(), 'syncvisor-fuzz-sock-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const sentinel = 'END-OF-STREAM';

/**
 * The framing as documented: split on \n, keep the unterminated tail (delivered only at EOF, which these open
 * connections never reach), discard > max bytes not counting one trailing \r, strip that \r.
 */
function reference(stream: Buffer, max: number): { out: string[]; discarded: number } {
  const out: string[] = [];
  let discarded = 0;
  let start = 0;
  for (;;) {
    const nl = stream.indexOf(10, start);
    if (nl < 0) break;
    const raw = stream.subarray(start, nl);
    start = nl + 1;
    if (raw.length - (raw.at(-1) === 13 ? 1 : 0) > max) {
      discarded++;
      continue;
    }
    let line = raw.toString('utf8');
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (line.startsWith('CMD ')) out.push(`CMD:${line.slice(4)}`);
    else if (line !== '') out.push(line);
  }
  return { out, discarded };
}

const piece = (max: number): fc.Arbitrary<Buffer> =>
  fc.oneof(
    fc.string({ maxLength: 40 }).map((s) => Buffer.from(`${s.replace(/\n/g, ' ')}\n`)),
    fc
      .constantFrom(
        'CMD RESTART',
        'CMD LIVE_START',
        'CMD restart',
        'CMD  RESTART',
        'CMD',
        'CMDRESTART',
        ' CMD RESTART',
        'CMD ',
      )
      .chain((c) => fc.constantFrom('\n', '\r\n', '\r\r\n', '\n\r').map((e) => Buffer.from(c + e))),
    fc.constantFrom('\r', '\n', '\r\n', '\n\n', '\r\r').map((s) => Buffer.from(s)),
    fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)),
    // Around the limit, and far over it.
    fc.integer({ min: max - 2, max: max + 2 }).map((n) => Buffer.from(`${'x'.repeat(Math.max(0, n))}\n`)),
    fc.integer({ min: 4 * max, max: 200_000 }).map((n) => Buffer.from(`${'y'.repeat(n)}${n % 2 ? '\r\n' : '\n'}`)),
    // Multi-byte UTF-8, to be cut inside a character by the chunking.
    fc.constantFrom('Ünïcødé ✓ 時計\n', '😀😀😀\r\n').map((s) => Buffer.from(s)),
  );

const stream = (max: number): fc.Arbitrary<{ bytes: Buffer; cuts: number[] }> =>
  fc.array(piece(max), { maxLength: 60 }).chain((pieces) => {
    const bytes = Buffer.concat([...pieces, Buffer.from(`\n${sentinel}\n`)]);
    return fc
      .uniqueArray(fc.integer({ min: 1, max: Math.max(1, bytes.length - 1) }), { maxLength: 30 })
      .map((cuts) => ({ bytes, cuts: cuts.sort((a, b) => a - b) }));
  });

function connect(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = createConnection(path, () => resolve(s));
    s.once('error', reject);
  });
}

async function send(sock: Socket, bytes: Buffer, cuts: number[]): Promise<void> {
  let at = 0;
  for (const c of [...cuts, bytes.length]) {
    if (c <= at) continue;
    await new Promise<void>((res, rej) => sock.write(bytes.subarray(at, c), (err) => (err ? rej(err) : res())));
    at = c;
  }
}

async function counter(reg: Registry, name: string): Promise<number> {
  const m = (await reg.getMetricsAsJSON()).find((x) => x.name === name);
  return m?.values.reduce((a, v) => a + v.value, 0) ?? 0;
}

describe('socket framing under fuzzing (real Unix socket, three connections at once)', () => {
  it('hands over exactly the reference framing per connection, counts discards, never grows without bound', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc
          .constantFrom(64, 256, 4096)
          .chain((max) => fc.tuple(fc.constant(max), fc.tuple(stream(max), stream(max), stream(max)))),
        async ([max, streams]) => {
          const registry = new Registry();
          const got = new Map<number, string[]>();
          const push = (c: number, v: string) => (got.get(c) ?? got.set(c, []).get(c)!).push(v);
          const server = await startLineServer(
            { path: join(dir, `f${run++}.sock`), maxLineBytes: max, registry },
            {
              onLines: (c, text) => linesOf(text).forEach((l) => push(c, l)),
              onCommand: (c, command) => push(c, `CMD:${command}`),
            },
          );
          const socks: Socket[] = [];
          try {
            for (let i = 0; i < streams.length; i++) socks.push(await connect(server.path));
            await Promise.all(streams.map((s, i) => send(socks[i]!, s.bytes, s.cuts)));
            const done = () => [...got.values()].filter((v) => v.at(-1) === sentinel).length === streams.length;
            for (let i = 0; i < 1000 && !done(); i++) await new Promise((r) => setTimeout(r, 5));
            const models = streams.map((s) => reference(s.bytes, max));
            // Connection ids are assigned in accept order, which is our connect order.
            const ids = [...got.keys()].sort((a, b) => a - b);
            expect(ids.map((id) => got.get(id))).toEqual(models.map((m) => m.out));
            expect(await counter(registry, 'syncvisor_socket_discarded_lines_total')).toBe(
              models.reduce((a, m) => a + m.discarded, 0),
            );
            const cmds = models.flatMap((m) => m.out.filter((l) => l.startsWith('CMD:')));
            expect(await counter(registry, 'syncvisor_socket_commands_total')).toBe(cmds.length);
          } finally {
            for (const s of socks) s.destroy();
            await server.close();
          }
        },
      ),
      { numRuns: 60 },
    );
  }, 120_000);
});
