// Bounded data for the inspector: plain JSON of any shape, the loopback Host check, a history bounded in bytes.
import { describe, expect, it } from 'vitest';
import { toJsonSafe } from '../../../src/io/observe/jsonSafe.js';
import { isLoopbackHost } from '../../../src/io/observe/hostCheck.js';
import { InspectorStore } from '../../../src/io/observe/inspectorStore.js';

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

describe('InspectorStore history', () => {
  it('is bounded in bytes as well as in records: large contexts push the oldest records out', () => {
    const store = new InspectorStore({ maxRecords: 10_000, maxBytes: 1024 * 1024 });
    store.publish({ kind: 'actor', actor: { id: 'a', actorId: 'a', status: 'active', since: 0 } });
    const big = Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [`Ethernet${i}`, { mtu: 9100, up: true }]));
    for (let i = 0; i < 100; i++)
      store.publish({ kind: 'snapshot', id: 'a', status: 'active', value: 's', context: { i, big } });
    expect(store.historyBytes).toBeLessThanOrEqual(1024 * 1024);
    expect(store.state().dropped).toBeGreaterThan(50);
    expect(store.size).toBeLessThan(50);
    // the newest record is kept, and the baseline took what left the history
    expect((store.recent().at(-1) as unknown as { context: { i: number } }).context.i).toBe(99);
    expect(store.state().baseline.find((x) => x.id === 'a')).toBeDefined();
  });
});
