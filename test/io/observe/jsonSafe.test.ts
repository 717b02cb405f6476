// Bounded plain JSON for the inspector: contexts and payloads of any shape leave the daemon bounded and printable.
import { describe, expect, it } from 'vitest';
import { toJsonSafe } from '../../../src/io/observe/jsonSafe.js';
import { isLoopbackHost } from '../../../src/io/observe/hostCheck.js';

describe('toJsonSafe', () => {
  it('turns refs, errors, maps, sets, buffers, bigints and cycles into JSON', () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    const shared = { x: 1 };
    const v = toJsonSafe({
      ref: { sessionId: 'x:3', id: 'kid', send: () => {} },
      err: new Error('boom'),
      map: new Map([['k', 1]]),
      set: new Set(['a']),
      buf: Buffer.from('hi'),
      big: 12n,
      nan: Number.NaN,
      fn: () => 1,
      cyclic,
      twice: [shared, shared],
    });
    expect(v).toEqual({
      ref: { actor: 'kid' },
      err: { error: 'boom' },
      map: { k: 1 },
      set: ['a'],
      buf: { base64: 'aGk=' },
      big: '12',
      nan: 'NaN',
      cyclic: { a: 1, self: '[cycle]' },
      twice: [{ x: 1 }, { x: 1 }],
    });
  });

  it('is bounded in depth, values and string length', () => {
    let deep: Record<string, unknown> = {};
    const top = deep;
    for (let i = 0; i < 50; i++) deep = deep.next = {} as Record<string, unknown>;
    expect(JSON.stringify(toJsonSafe(top, { maxDepth: 3 }))).toBe('{"next":{"next":{"next":"[cut: too deep]"}}}');
    const big = toJsonSafe(
      Array.from({ length: 100_000 }, (_, i) => i),
      { maxNodes: 1000 },
    ) as unknown[];
    expect(big.length).toBeLessThanOrEqual(1001);
    expect(big.at(-1)).toBe('[cut: too large]');
    expect(toJsonSafe('x'.repeat(10_000), { maxString: 10 })).toBe('xxxxxxxxxx… [10000 chars]');
  });

  it('withholds the named keys, saying what they held', () => {
    expect(
      toJsonSafe({ lines: ['a', 'b'], line: 'abc', n: 1 }, { withhold: new Set(['lines', 'line']), withheldNote: 'n' }),
    ).toEqual({
      lines: { withheld: '2 items', note: 'n' },
      line: { withheld: '3 chars', note: 'n' },
      n: 1,
    });
  });
});

describe('isLoopbackHost', () => {
  const req = (host: string | undefined) => ({ headers: host === undefined ? {} : { host } }) as never;
  it('accepts loopback names (any port: tunnels and forwards), refuses everything else', () => {
    for (const h of ['127.0.0.1:9102', 'localhost:9102', '[::1]:9102', 'LOCALHOST:9102', '127.0.0.1', 'localhost:8000'])
      expect(isLoopbackHost(req(h)), h).toBe(true);
    for (const h of [undefined, '', 'evil.example:9102', '127.0.0.2:9102', 'localhost.evil:9102', 'x'.repeat(400)])
      expect(isLoopbackHost(req(h)), String(h)).toBe(false);
  });
});
