import { describe, expect, it } from 'vitest';
import { maxTraceDepth, parseTrace, toTraceJson, TraceError } from '../../../src/io/observe/traceFormat.js';

const header = JSON.stringify({
  format: 'syncvisor-trace',
  version: 1,
  configHash: 'x',
  machines: [
    { systemId: 'supervisor', machine: 'supervisor' },
    { systemId: 'ptp', machine: 'ptpSidecar' },
  ],
  supervisor: {
    maxRestarts: 5,
    periodMs: 60000,
    backoff: { initialMs: 200, maxMs: 30000, factor: 2 },
    shutdownTimeoutMs: 5000,
  },
});
const rec = (t: number, to: string, type = 'socket.line') => JSON.stringify({ t, to, event: { type } });

function lineOf(text: string): { line: number; message: string } {
  try {
    parseTrace(text);
  } catch (err) {
    expect(err).toBeInstanceOf(TraceError);
    return { line: (err as TraceError).line, message: (err as Error).message };
  }
  throw new Error('expected a TraceError');
}

describe('trace format', () => {
  it('parses a header and records', () => {
    const { header: h, records } = parseTrace([header, rec(1, 'supervisor'), rec(2.5, 'ptp')].join('\n') + '\n');
    expect(h.machines).toHaveLength(2);
    expect(records).toEqual([
      { t: 1, to: 'supervisor', event: { type: 'socket.line' } },
      { t: 2.5, to: 'ptp', event: { type: 'socket.line' } },
    ]);
  });

  it('names the line of every problem', () => {
    expect(lineOf('')).toMatchObject({ line: 1, message: expect.stringContaining('empty file') });
    expect(lineOf('{"format":"other"}\n')).toMatchObject({ line: 1, message: expect.stringContaining('wrong header') });
    expect(lineOf(header.replace('"version":1', '"version":9'))).toMatchObject({
      line: 1,
      message: expect.stringContaining('unsupported trace version 9'),
    });
    expect(lineOf([header, rec(1, 'ptp'), '{"t":2,"to":"pt'].join('\n'))).toMatchObject({
      line: 3,
      message: expect.stringContaining('truncated'),
    });
    expect(lineOf([header, 'nope', rec(1, 'ptp')].join('\n'))).toMatchObject({
      line: 2,
      message: expect.stringContaining('not JSON'),
    });
    expect(lineOf([header, rec(1, 'ptp'), rec(2, '')].join('\n'))).toMatchObject({
      line: 3,
      message: expect.stringContaining('unknown target ""'),
    });
    expect(lineOf([header, rec(5, 'ptp'), rec(2, 'ptp')].join('\n'))).toMatchObject({
      line: 3,
      message: expect.stringContaining('not decreasing'),
    });
    expect(lineOf([header, '{"t":1,"to":"ptp","event":{}}'].join('\n'))).toMatchObject({
      line: 2,
      message: expect.stringContaining('event.type'),
    });
  });

  it('serialises what events carry: errors, cycles, functions, toTrace before toJSON', () => {
    const cyc: Record<string, unknown> = { a: 1 };
    cyc.self = cyc;
    const rich = { toJSON: () => 'summary', toTrace: () => ({ full: true }) };
    expect(JSON.parse(toTraceJson({ e: new Error('boom'), cyc, f: () => 1, rich, big: 10n }))).toEqual({
      e: { error: 'boom' },
      cyc: { a: 1, self: '[cycle]' },
      rich: { full: true },
      big: '10',
    });
  });
});

describe('toTraceJson on deep input', () => {
  it('a 100,000-deep value is cut at maxTraceDepth, not a stack overflow; shallow values are unchanged', () => {
    let deep: unknown = 'bottom';
    for (let i = 0; i < 100_000; i++) deep = { d: deep };
    const text = toTraceJson({ type: 'x', deep });
    let v = (JSON.parse(text) as { deep: unknown }).deep;
    let depth = 1;
    while (typeof v === 'object' && v !== null) {
      v = (v as { d: unknown }).d;
      depth++;
    }
    expect(v).toBe('[depth limit]');
    expect(depth).toBe(maxTraceDepth);
    const arr: unknown[] = [];
    let a = arr;
    for (let i = 0; i < 50_000; i++) {
      const next: unknown[] = [];
      a.push(next);
      a = next;
    }
    expect(() => toTraceJson(arr)).not.toThrow();
    expect(toTraceJson({ a: [1, undefined, () => 1], b: 2n, e: new Error('boom'), s: Symbol('x') })).toBe(
      '{"a":[1,null,null],"b":"2","e":{"error":"boom"}}',
    );
  });

  it('CONFIG_DB values as they are: bytes that are not UTF-8 escaped (\\udcXX), a key "__proto__" kept', () => {
    // What redis.initialState carries (byte text, src/io/redis/byteText.ts); JSON.parse gives back the same.
    const configPorts = JSON.parse('{"__proto__":{"lanes":"1"},"Ethernet0":{"__proto__":"x","d":"\\udcffé"}}');
    const text = toTraceJson({ type: 'redis.initialState', configPorts });
    expect(text).toBe(
      '{"type":"redis.initialState","configPorts":{"__proto__":{"lanes":"1"},"Ethernet0":{"__proto__":"x","d":"\\udcffé"}}}',
    );
    expect(JSON.parse(text)).toEqual({ type: 'redis.initialState', configPorts });
  });
});
