// Fuzzing of the PTP inputs: the log line parser of a real generation (loaded from the example ConfigMap and INI
// files), the ConfigMap loader and the INI loader. Nothing may throw; everything malformed is counted or reported.
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfigFiles, parseConfigFile } from '../../src/io/ptp/configFiles.js';
import { loadConfigMap, parseConfigMap } from '../../src/io/ptp/configMap.js';
import { loadPtpGeneration, type PtpGeneration } from '../../src/io/ptp/generation.js';
import { thresholdsFrom } from '../../src/io/ptp/thresholds.js';
import { ptpLine, ptpNoise } from './support/ptpArbitraries.js';

const shared = join(import.meta.dirname, '../fixtures/ptp');
const dir = mkdtempSync(join(tmpdir(), 'syncvisor-fuzz-ptp-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

beforeAll(() => {
  copyFileSync(join(shared, 'examples/ptp4l.0.config'), join(dir, 'ptp4l.0.config'));
  copyFileSync(join(shared, 'examples/ptp4l.1.config'), join(dir, 'ptp4l.1.config'));
  copyFileSync(join(shared, 'examples/node1.json'), join(dir, 'node1'));
});

/**
 * Wraps the parser's private per-line functions (the fast path's, and the simple path's that takes the lines with
 * non-ASCII characters) so that a throw their defensive catch would hide is seen here.
 */
function watchThrows(g: PtpGeneration): unknown[] {
  const thrown: unknown[] = [];
  const parser = g.parser as unknown as Record<'line' | 'simpleLine', (...args: unknown[]) => boolean>;
  for (const name of ['line', 'simpleLine'] as const) {
    const fn = parser[name].bind(parser);
    parser[name] = (...args: unknown[]) => {
      try {
        return fn(...args);
      } catch (err) {
        thrown.push(err);
        throw err;
      }
    };
  }
  return thrown;
}

// A clock's verdicts (key `<process>/<iface>`), the phc2sys selection signals (key `phc2sys-discipline/<profile>`)
// and the CLOCK_REALTIME owner signals (key `os-clock-owner/<profile>`).
const verdicts = new Set([
  'locked',
  'outOfRange',
  'freerun',
  'holdover',
  'daemonHoldover',
  'daemonLocked',
  'processDown',
]);
const disciplineSignals = new Set([
  'reconfiguring',
  'sourceSelected',
  'sourceMarker',
  'realtimeSelected',
  'aborted',
  'alreadySelected',
  'realtimeSample',
]);
const ownerSignals = new Set(['chronydSource', 'phc2sysSample']);
// One sample of the Prometheus text format: name{labels} value.
const sampleLine = /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{.*\})? (-?[0-9.e+-]+|[+-]Inf|NaN)$/;

describe('PTP line parser under fuzzing (real generation from the example configs)', () => {
  it('never throws, counts every line as parsed or ignored, emits only well-formed edges and valid metrics text', async () => {
    const g = await loadPtpGeneration({ profilePath: dir, configDir: dir, nodeName: 'node1' });
    const thrown = watchThrows(g);
    let total = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(fc.oneof(ptpLine, ptpNoise), { maxLength: 40 }), async (lines) => {
        const edges = g.ingest(lines);
        total += lines.length;
        expect(g.parser.stats.parsed + g.parser.stats.ignored).toBe(total);
        for (const e of edges) {
          if (disciplineSignals.has(e.verdict)) expect(e.key).toMatch(/^phc2sys-discipline\//);
          else if (ownerSignals.has(e.verdict)) expect(e.key).toMatch(/^os-clock-owner\//);
          else {
            expect(verdicts.has(e.verdict)).toBe(true);
            expect(e.key).toBe(`${e.process}/${e.iface}`);
          }
          expect(Number.isFinite(e.holdoverTimeoutMs)).toBe(true);
        }
      }),
      { numRuns: 2000 },
    );
    expect(thrown).toEqual([]);
    const text = await g.registry.metrics();
    for (const l of text.split('\n')) {
      if (l === '' || l.startsWith('#')) continue;
      expect(l).toMatch(sampleLine);
    }
    // The grammar-based lines really reach the recognised paths (or the fuzzing proves little).
    expect(g.parser.stats.parsed).toBeGreaterThan(total / 20);
    expect(text).toContain('openshift_ptp_offset_ns');
  });

  it('ignores CMD look-alikes and lines of unknown configs without creating series', async () => {
    const g = await loadPtpGeneration({ profilePath: dir, configDir: dir, nodeName: 'node1' });
    const before = await g.registry.metrics();
    g.ingest([
      'CMD RESTART',
      'CMD  RESTART',
      'cmd RESTART',
      'ptp4l[1.0]: [ptp4l.9.config] master offset 5 s2 freq 1 path delay 2',
      'ptp4l[1.0]: [../ptp4l.0.config] master offset 5 s2 freq 1 path delay 2',
      'ptp4l[1.0]: [ptp4l.0.config master offset 5 s2 freq 1 path delay 2',
    ]);
    expect(g.parser.stats).toEqual({ parsed: 0, ignored: 6, unknownClock: 0 });
    expect(await g.registry.metrics()).toBe(before);
  });
});

describe('ConfigMap loader under fuzzing', () => {
  it('parseConfigMap never throws; every profile has a name and finite thresholds with min <= max', () => {
    const text = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 300 }),
      fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
      fc
        .array(
          fc.record(
            {
              name: fc.oneof(fc.string(), fc.integer(), fc.constant(null)),
              interface: fc.oneof(fc.string(), fc.boolean()),
              ptpClockThreshold: fc.oneof(
                fc.record(
                  {
                    holdOverTimeout: fc.oneof(fc.double(), fc.string(), fc.integer()),
                    maxOffsetThreshold: fc.oneof(fc.double(), fc.integer(), fc.constant(null)),
                    minOffsetThreshold: fc.oneof(fc.double(), fc.integer()),
                  },
                  { requiredKeys: [] },
                ),
                fc.constant(null),
                fc.string(),
              ),
            },
            { requiredKeys: [] },
          ),
          { maxLength: 6 },
        )
        .map((v) => JSON.stringify(v)),
    );
    fc.assert(
      fc.property(text, (t) => {
        const r = parseConfigMap(t);
        expect(Array.isArray(r.errors)).toBe(true);
        for (const p of r.profiles) {
          expect(typeof p.name).toBe('string');
          expect(p.name).not.toBe('');
          const th = p.thresholds;
          for (const v of [th.maxOffset, th.minOffset, th.holdOverTimeout]) expect(Number.isFinite(v)).toBe(true);
          expect(th.minOffset).toBeLessThanOrEqual(th.maxOffset);
          expect(th.holdOverTimeout).toBeGreaterThan(0);
        }
      }),
      { numRuns: 3000 },
    );
  });

  // Was a bug found by this test: a holdOverTimeout above 2147483 s does not fit a Node timer (2^31-1 ms), which then
  // fires after 1 ms. thresholdsFrom() now clamps it to maxHoldOverTimeout.
  it('every accepted holdOverTimeout fits a timer (<= 2^31-1 ms)', () => {
    fc.assert(
      fc.property(fc.double({ min: 1, max: 1e12, noNaN: true }), (h) => {
        expect(thresholdsFrom({ holdOverTimeout: h }).holdOverTimeout * 1000).toBeLessThanOrEqual(2 ** 31 - 1);
      }),
      { numRuns: 200 },
    );
  });

  it('loadConfigMap on random file bytes and on hostile node names reports, never throws', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 2000 }), async (bytes) => {
        writeFileSync(join(dir, 'fuzznode'), bytes);
        const r = await loadConfigMap(dir, 'fuzznode');
        expect(r.profiles.length + r.errors.length).toBeGreaterThanOrEqual(0);
      }),
      { numRuns: 300 },
    );
    for (const name of ['..', '.', '../etc/passwd', 'a/b', '/etc/passwd']) {
      const r = await loadConfigMap(dir, name);
      expect(r.profiles).toEqual([]);
      expect(r.errors).toEqual([`node name ${JSON.stringify(name)} is not a file name`]);
    }
  });
});

describe('INI config loader under fuzzing', () => {
  const iniLine = fc.oneof(
    fc.constantFrom('[global]', '[ens5f1]', '[', ']', '[a b]', '[]', '#profile: p', '', '   ', '\t\t', '\r'),
    fc
      .tuple(fc.constantFrom('masterOnly', 'serverOnly', 'x'), fc.string({ maxLength: 10 }))
      .map(([k, v]) => `${k} ${v}`),
    fc.string({ unit: 'binary', maxLength: 40 }),
  );
  it('parseConfigFile returns a file or a reason (never throws); interfaces are the non-global sections in order', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(
          'ptp4l.0.config',
          'phc2sys.3.config',
          'chronyd.10.config',
          'ptp4l.x.config',
          '../ptp4l.0.config',
        ),
        fc.array(iniLine, { maxLength: 30 }),
        (name, lines) => {
          const r = parseConfigFile(name, lines.join('\n'));
          if (typeof r === 'string') {
            expect(r.startsWith(name)).toBe(true);
            return;
          }
          const sections = lines
            .map((l) => /^\[([^\]\s]+)\]$/.exec(l.trim())?.[1])
            .filter((s): s is string => s !== undefined && s !== 'global');
          expect(r.interfaces.map((s) => s.name)).toEqual(sections);
          expect(['ptp4l', 'phc2sys', 'chronyd']).toContain(r.process);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('loadConfigFiles on random file contents reports malformed files and keeps the others', async () => {
    const sub = mkdtempSync(join(dir, 'ini-'));
    writeFileSync(join(sub, 'ptp4l.0.config'), readFileSync(join(shared, 'examples/ptp4l.0.config')));
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 1500 }), async (bytes) => {
        writeFileSync(join(sub, 'ptp4l.1.config'), bytes);
        const r = await loadConfigFiles(sub);
        expect(r.files.map((f) => f.name)).toContain('ptp4l.0.config');
        expect(r.files.length + r.errors.length).toBe(2);
      }),
      { numRuns: 300 },
    );
  });
});
