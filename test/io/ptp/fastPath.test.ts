// The line parser's fast path (tag index, process names in place, token offsets, offset gauges kept per config) must
// do exactly what the simple token-array path does: same metrics text, same clock edges, same counts, for any line.
// The fast path reads the lines as offsets into the socket's text (lines each ending with \n, as the line server
// hands them over); the simple path gets them one string each.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadPtpGeneration, type PtpGeneration } from '../../../src/io/ptp/generation.js';
import { clockProcesses } from '../../../src/io/ptp/lineParser.js';

const shared = join(import.meta.dirname, '../../fixtures/ptp');
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'syncvisor-ptp-fast-'));
  copyFileSync(join(shared, 'examples/ptp4l.0.config'), join(dir, 'ptp4l.0.config'));
  copyFileSync(join(shared, 'examples/ptp4l.1.config'), join(dir, 'ptp4l.1.config'));
  copyFileSync(join(shared, 'examples/node1.json'), join(dir, 'node1'));
  // A phc2sys config with a profile of its own and one without a profile (its lines are skipped).
  writeFileSync(join(dir, 'phc2sys.2.config'), '#profile: profile0\n[global]\n[ens5f0]\n');
  // Interface names longer than 7 characters (their packed numbers are rounded: a match is checked against the
  // text), two of the same length that differ only in their last character.
  writeFileSync(join(dir, 'ts2phc.3.config'), '[global]\n[ens7f0]\n');
  writeFileSync(join(dir, 'ts2phc.4.config'), '#profile: profile0\n[global]\n[enp175s0f1np1]\n[enp175s0f1np2]\n');
  // A config number of more than 9 digits (the general front path) and one with leading zeros.
  writeFileSync(join(dir, 'ptp4l.0123456789.config'), '#profile: profile0\n[global]\n[ens8f0]\nmasterOnly 0\n');
  writeFileSync(join(dir, 'phc2sys.007.config'), '#profile: profile0\n[global]\n[ens9f0]\n');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const load = (): Promise<PtpGeneration> => loadPtpGeneration({ profilePath: dir, configDir: dir, nodeName: 'node1' });

// 'ptp3\u00ec' packs (c·128 + …) to the same number as 'ptp4l' when non-ASCII characters are not ruled out.
const processes = [...clockProcesses, 'ptp4', 'foo', 'ptp3\u00ec', 'ptp4l\u0000', 'ptp4lx', 'phc2sysd', '\u00e9'];
const tags = [
  'ptp4l.0.config',
  'ptp4l.1.config',
  'ptp4l.0.config:6',
  'ts2phc.0.config',
  'ts2phc.1.config',
  'ts2phc.3.config',
  'phc2sys.2.config',
  'chronyd.0.config',
  'ptp4l.9.config',
  'ptp4l.00.config',
  'ptp4l..config',
  'bad.0.config',
  'ptp4l.0123456789.config',
  'ptp4l.0123456789.config:6',
  'ptp4l.012345678.config',
  'phc2sys.007.config',
  'phc2sys.7.config',
  'ts2phc.3.config:6',
  'ts2phc.4.config',
  'ptp4l.0.configx',
  'ptp4l.0.config.',
  'ptp4l.0.confiG',
  'ptp4l.0:config',
  'ptp3\u00ec.0.config',
  'ts2phc.0.config:',
  'chronyd..config',
  'ptp4l.0.config]',
  '',
];
const words = [
  'master',
  'offset',
  'rms',
  'max',
  'freq',
  'path',
  'delay',
  'CLOCK_REALTIME',
  'phc',
  'sys',
  's0',
  's1',
  's2',
  's3',
  's4',
  's',
  'holdover',
  'ens5f1',
  'ens5f0',
  'ens1f0',
  'ens7f0',
  'ens9f9',
  'CLOCK_CLASS_CHANGE',
  'Selected',
  'source',
  'PTP_PROCESS_STATUS',
  'ptp_ha_profile',
  'T-GM-STATUS',
  'T-BC-STATUS',
  'nmea_status',
  'frequency_status',
  'gnss_status',
  'port',
  '+/-',
  'enp175s0f1np1',
  'enp175s0f1np2',
  'enp175s0f1np3',
  'ens8f0',
  'ens9f0',
  'CLOCK_REALTIMF',
  'CLOCK_CLASS_CHANGF',
  'PTP_PROCESS_STATUT',
  'Selecte',
  'mastes',
  'offsef',
  's2x',
];
const numbers = ['0', '-0', '+5', '-62', '89', '1e3', '0x10', '248.000000', '9999999999999999', '-9999999999999999'];
const seps = [' ', '  ', ':', ' : ', '\t', '       '];

const token = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...words) },
  { weight: 2, arbitrary: fc.constantFrom(...numbers) },
  { weight: 2, arbitrary: fc.integer({ min: -200, max: 200 }).map(String) },
  { weight: 1, arbitrary: fc.constantFrom('é', '\u00a0', 'x:', '12abc', '--5', '+') },
);

/** Real forms with random numbers and spacing, so that the fast path is taken often. */
const templated = fc
  .tuple(
    fc.constantFrom(
      'ptp4l[1.0]: [ptp4l.0.config] master offset N S freq N path delay N',
      'ptp4l[1.0]: [ptp4l.0.config:6] rms N max N freq N +/- N delay N +/- N',
      'phc2sys[1.0]: [ptp4l.0.config] CLOCK_REALTIME phc offset N S freq N delay N',
      'phc2sys[1.0]: [ptp4l.0.config:6] CLOCK_REALTIME sys offset N S freq N delay N',
      'phc2sys[1.0]: [ptp4l.0.config] CLOCK_REALTIME rms N max N freq N +/- N delay N +/- N',
      'phc2sys[1.0]: [ptp4l.0.config] selecting ens2f0 for synchronization',
      'phc2sys[1.0]: [ptp4l.0.config] selecting CLOCK_REALTIME for synchronization',
      'phc2sys[1.0]: [phc2sys.2.config] reconfiguring after port state change',
      'ts2phc[1.0]: [ts2phc.0.config] ens5f1 master offset N S freq N',
      'ts2phc[1.0]: [ts2phc.0.config] ens5f1 master offset N S freq N holdover',
      'ts2phc[1.0]: [ts2phc.3.config] ens7f0 master offset N S freq N',
      'ptp4l[1.0]:[ptp4l.0.config] CLOCK_CLASS_CHANGE N',
      'chronyd[1.0][chronyd.0.config]: Selected source 192.168.1.1',
      'chronyd[1.0]: [chronyd.1.config] Selected  source 10.0.0.1',
      'ptp4l[1.0]:[ptp4l.1.config] PTP_PROCESS_STATUS:N',
      'ts2phc[1.0]: [ts2phc.4.config] enp175s0f1np2 master offset N S freq N',
      'ts2phc[1.0]: [ts2phc.4.config:7] enp175s0f1np1 master offset N S freq N holdover',
      'ts2phc[1.0]: [ts2phc.4.config] enp175s0f1np3 master offset N S freq N',
      'ptp4l[1.0]: [ptp4l.0123456789.config] master offset N S freq N path delay N',
      'phc2sys[1.0]: [phc2sys.007.config] CLOCK_REALTIME phc offset N S freq N delay N',
      'phc2sys[1.0]: [phc2sys.2.config] ens5f0 master offset N S freq N',
    ),
    fc.array(fc.oneof(fc.constantFrom(...numbers), fc.integer({ min: -300, max: 300 }).map(String)), {
      minLength: 8,
      maxLength: 8,
    }),
    fc.array(fc.constantFrom('s0', 's1', 's2', 's3', 's9', 'x'), { minLength: 1, maxLength: 1 }),
    fc.constantFrom('', ' ', ':', ' :', '\t'),
  )
  .map(([t, ns, ss, tail]) => {
    let i = 0;
    return t.replace(/N/g, () => ns[i++ % ns.length]!).replace('S', ss[0]!) + tail;
  });

const random = fc
  .tuple(
    fc.constantFrom(...processes),
    fc.constantFrom('[1.0]', '[5196819.100]'),
    fc.constantFrom(': ', ':', ' ', ''),
    fc.constantFrom(...tags),
    fc.constantFrom('', ':', ' ', ': '),
    fc.array(fc.tuple(token, fc.constantFrom(...seps)), { minLength: 0, maxLength: 14 }),
    fc.constantFrom('', ' ', ':', '\t'),
  )
  .map(
    ([p, ts, sep, tag, lead, body, tail]) =>
      `${p}${ts}${sep}[${tag}]${lead}${body.map(([w, s]) => w + s).join('')}${tail}`,
  );

/** Lines that end before their brackets do: the front scan must stop at the line's end, not in the next line. */
const truncated = fc
  .tuple(
    fc.constantFrom(
      '',
      'ptp4l',
      'ptp4l[1.0]',
      'ptp4l[1.0]: ',
      'ptp4l[1.0]: [ptp4l.0.config',
      '[ptp4l.0.config]',
      '[1.0]: [ptp4l.0.config]',
      '[1.0]: [ts2phc.0.config]',
      'x[y',
      ']',
      '[',
    ),
    fc.constantFrom(
      '',
      ' master offset 5 s2 freq 1 path delay 1',
      ' ens5f1 master offset 5 s2 freq 1',
      ':6] rms 1 max 2',
      ']',
    ),
  )
  .map(([a, b]) => a + b);

/** The real lines of lines.txt, as they are and with one character replaced, inserted or deleted. */
const realLines = readFileSync(join(shared, 'lines.txt'), 'utf8').split('\n').filter(Boolean);
const real = fc.constantFrom(...realLines);
const mutated = fc
  .tuple(
    real,
    fc.nat(),
    fc.constantFrom('delete', 'insert', 'replace'),
    fc.constantFrom(' ', ':', '[', ']', '.', '0', '9', '-', 'a', 'Z', '\t', '\u00e9', '\u00a0', '\r'),
  )
  .map(([l, at, op, ch]) => {
    const i = at % (l.length + 1);
    if (op === 'delete') return l.slice(0, i) + l.slice(i + 1);
    if (op === 'insert') return l.slice(0, i) + ch + l.slice(i);
    return l.slice(0, i) + ch + l.slice(i + 1);
  });
/** Garbage: any characters but a newline (the line server never hands one over inside a line). */
const garbage = fc
  .string({
    unit: fc.oneof(
      fc.constantFrom('[', ']', ':', ' ', '.', 'p', 't', '4', 'l', 'config', 'ptp4l.0.config', '\u00ff', '\ud83d'),
      fc.string({ minLength: 1, maxLength: 1 }).filter((c) => c !== '\n'),
    ),
    maxLength: 60,
  })
  .filter((l) => !l.includes('\n'));

const line = fc.oneof(
  { weight: 2, arbitrary: random },
  { weight: 2, arbitrary: templated },
  { weight: 1, arbitrary: truncated },
  { weight: 1, arbitrary: real },
  { weight: 1, arbitrary: mutated },
  { weight: 1, arbitrary: garbage },
);

/** A batch as the line server hands it over: every line followed by a newline. */
const asText = (lines: readonly string[]): string => lines.map((l) => `${l}\n`).join('');

describe('ptp line parser fast path', () => {
  it('gives the same metrics, edges and counts as the simple path, for any lines', async () => {
    let fastLines = 0;
    let lines = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(line, { minLength: 1, maxLength: 8 }), { maxLength: 12 }), async (batches) => {
        const fast = await load();
        const simple = await load();
        simple.parser.fast = false;
        for (const b of batches) {
          expect(fast.ingest(asText(b))).toEqual(simple.ingest(b));
          expect(fast.parser.stats).toEqual(simple.parser.stats);
          expect(fast.parser.lastUnknownClock).toBe(simple.parser.lastUnknownClock);
          lines += b.length;
        }
        expect(await fast.metrics.text()).toBe(await simple.metrics.text());
        expect(simple.parser.fastLines).toBe(0);
        fastLines += fast.parser.fastLines;
      }),
      { numRuns: 400 },
    );
    // The property is about the fast path: it must have decided a good share of the lines.
    expect(fastLines).toBeGreaterThan(lines / 7);
  });

  it('takes the fast path for the steady lines of lines.txt and gives their series', async () => {
    const all = readFileSync(join(shared, 'lines.txt'), 'utf8').split('\n').filter(Boolean);
    const steady = [0, 1, 3, 4, 5, 7, 12].map((i) => all[i]!);
    const fast = await load();
    const simple = await load();
    simple.parser.fast = false;
    for (let i = 0; i < 3; i++) expect(fast.ingest(asText(steady))).toEqual(simple.ingest(steady));
    // All but the first chronyd line: chronyd has no file, its first line creates its config on the simple path.
    expect(fast.parser.fastLines).toBe(3 * steady.length - 1);
    expect(await fast.metrics.text()).toBe(await simple.metrics.text());
  });

  it('gives the same for a batch larger than the byte copy it keeps, and for the smaller batches after it', async () => {
    const all = readFileSync(join(shared, 'lines.txt'), 'utf8').split('\n').filter(Boolean);
    const big: string[] = [];
    // About 2.5 MiB of lines (more than the 1 MiB copy the parser keeps), one non-ASCII line among them.
    for (let i = 0; big.length < 32_000; i++) big.push(i === 20_000 ? `${all[0]!} \u00e9` : all[i % all.length]!);
    const fast = await load();
    const simple = await load();
    simple.parser.fast = false;
    for (const batch of [big, all.slice(0, 3), big.slice(0, 9_000), all]) {
      expect(fast.ingest(asText(batch))).toEqual(simple.ingest(batch));
      expect(fast.parser.stats).toEqual(simple.parser.stats);
    }
    expect(await fast.metrics.text()).toBe(await simple.metrics.text());
    expect(fast.parser.fastLines).toBeGreaterThan(20_000);
  });
});
