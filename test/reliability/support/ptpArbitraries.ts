// fast-check arbitraries for PTP log lines: the shapes of test/fixtures/ptp/lines.txt with their tokens mutated
// (numbers, s-states, port states, config tags, separators, truncation), plus raw noise.
import fc from 'fast-check';

const num = fc.oneof(
  fc.integer({ min: -1_000_000, max: 1_000_000 }).map(String),
  fc.constantFrom('NaN', 'Infinity', '-Infinity', '1e999', '-0', '+5', '0x10', '', '--1', '9'.repeat(40)),
);
const sState = fc.constantFrom('s0', 's1', 's2', 's3', 's4', 's', 'S2', '');
const tag = fc.constantFrom(
  'ptp4l.0.config',
  'ptp4l.1.config',
  'ptp4l.0.config:6',
  'ts2phc.0.config',
  'phc2sys.0.config',
  'chronyd.0.config',
  'chronyd.1.config',
  'ptp4l.99.config',
  'ptp4l..config',
  'x',
);
const proc = fc.constantFrom('ptp4l', 'phc2sys', 'ts2phc', 'GM', 'chronyd', 'dpll', 'gnss', '');
// A bounded set of interface names, so repeated runs do not grow the label space (see docs/reliability.md).
const iface = fc.constantFrom('ens5f1', 'ens5f0', 'ens1f0', 'CLOCK_REALTIME', 'eth9');
const portState = fc.constantFrom(
  'INITIALIZING',
  'LISTENING',
  'UNCALIBRATED',
  'SLAVE',
  'MASTER',
  'GRAND_MASTER',
  'PASSIVE',
  'FAULTY',
  'to',
);
const portEvent = fc.constantFrom('RS_SLAVE', 'MASTER_CLOCK_SELECTED', 'FAULT_DETECTED', 'SYNCHRONIZATION_FAULT', 'on');

const body = fc.oneof(
  fc.tuple(num, sState, num, num).map(([o, s, f, d]) => `master offset ${o} ${s} freq ${f} path delay ${d}`),
  fc
    .tuple(fc.constantFrom('phc', 'sys'), num, sState, num, num)
    .map(([k, o, s, f, d]) => `CLOCK_REALTIME ${k} offset ${o} ${s} freq ${f} delay ${d}`),
  fc
    .tuple(num, num, num, num)
    .map(([r, m, f, d]) => `CLOCK_REALTIME rms ${r} max ${m} freq ${f} +/- 0 delay ${d} +/- 0`),
  fc
    .tuple(iface, num, sState, num, fc.boolean())
    .map(([i, o, s, f, h]) => `${i} master offset ${o} ${s} freq ${f}${h ? ' holdover' : ''}`),
  fc.tuple(iface, sState).map(([i, s]) => `${i} T-GM-STATUS ${s}`),
  fc.tuple(iface, num, sState).map(([i, o, s]) => `${i} offset ${o} T-BC-STATUS ${s}`),
  fc.tuple(iface, num, sState).map(([i, o, s]) => `${i} nmea_status ${o} offset ${o} ${s}`),
  fc.tuple(iface, num, sState).map(([i, o, s]) => `${i} gnss_status ${o} offset ${o} ${s}`),
  fc.tuple(iface, sState).map(([i, s]) => `${i} frequency_status 3 offset 0 phase_status 3 pps_status 1 ${s}`),
  num.map((v) => `CLOCK_CLASS_CHANGE ${v}`),
  fc.constantFrom('PTP_PROCESS_STATUS:1', 'PTP_PROCESS_STATUS:0', 'PTP_PROCESS_STATUS:7', 'PTP_PROCESS_STATUS'),
  fc
    .tuple(fc.integer({ min: -1, max: 4 }), iface, portState, portState, portEvent)
    .map(([n, i, a, b, e]) => `port ${n} (${i}): ${a} to ${b} on ${e}`),
  fc.constantFrom('Selected source 192.168.1.1', "Can't synchronise: no selectable sources", 'UTC-TAI offset not set'),
);

/** A line shaped like the daemon's output, with mutated tokens, random separators and random truncation. */
export const ptpLine: fc.Arbitrary<string> = fc
  .tuple(
    proc,
    num,
    fc.constantFrom(': ', ':', ' ', ''),
    tag,
    body,
    fc.oneof({ weight: 4, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.nat() }),
  )
  .map(([p, t, sep, tg, b, cut]) => {
    const line = `${p}[${t}]${sep}[${tg}] ${b}`;
    return cut === undefined ? line : line.slice(0, cut % (line.length + 1));
  });

/** Raw noise: arbitrary strings, including lone surrogates, NULs and brackets. */
export const ptpNoise: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 120 }),
  fc.string({ unit: fc.constantFrom('[', ']', ':', ' ', 'p', 't', '4', 'l', '.', '\0'), maxLength: 60 }),
);
