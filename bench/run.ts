// `npm run bench`: builds dist/ (tsc + the esbuild bundle), runs every figure beside its reference in the same run
// (medians of at least 5 runs unless noted), the scaling tables, and writes docs/performance.md. Bounded: every loop
// has a fixed size and every wait a timeout; loopback, Unix sockets and private network namespaces only.
// BENCH_QUICK=1 runs smaller sizes (for checking the script, not for the record).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { writeFile, rename } from 'node:fs/promises';
import { cpus, loadavg, totalmem } from 'node:os';
import * as prettier from 'prettier';
import { fmt, type Figure } from './measure.js';
import { benchMemory } from './memory.js';
import { benchPortsyncReplay } from './portsyncReplay.js';
import { benchPtpIngest, buildGoPeer } from './ptpIngest.js';
import { benchPtpRestart } from './ptpRestart.js';
import { benchStartup } from './startup.js';
import { benchStateSave } from './stateSave.js';
import { benchSupervisorForwarding } from './supervisorForwarding.js';
import { benchWarmRestart } from './warmRestart.js';
import { benchEvents } from './events.js';
import { findings } from './findings.js';

// BENCH_FINDINGS_ONLY=1: re-render only the profiling findings (bench/findings.ts) under the figures of the last run
// in docs/performance.md, without measuring again (for when only the findings text changed).
if (process.env['BENCH_FINDINGS_ONLY'] === '1') {
  const doc = 'docs/performance.md';
  const text = readFileSync(doc, 'utf8');
  const at = text.indexOf('\n## Profiling findings');
  if (at < 0) throw new Error(`${doc} has no profiling findings section to replace`);
  const opts = (await prettier.resolveConfig(doc)) ?? {};
  const next = await prettier.format(`${text.slice(0, at + 1)}${findings.join('\n')}\n`, {
    ...opts,
    parser: 'markdown',
  });
  await writeFile(`${doc}.tmp`, next);
  await rename(`${doc}.tmp`, doc);
  process.stderr.write(`bench: re-rendered the findings in ${doc}\n`);
  process.exit(0);
}

const quick = process.env['BENCH_QUICK'] === '1';
const runs = 5;
const log = (s: string): void => void process.stderr.write(`${s}\n`);

function machine(): string[] {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1] ?? cpus()[0]?.model ?? 'unknown';
  const nproc = execFileSync('nproc', { encoding: 'utf8' }).trim();
  const kernel = execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim();
  return [
    `- Date: ${new Date().toISOString()}`,
    `- CPU: ${model}; nproc ${nproc}`,
    `- Memory: ${(totalmem() / 2 ** 30).toFixed(1)} GiB`,
    `- Node ${process.version}; kernel ${kernel}`,
  ];
}

const notMeasured = (id: string, title: string, target: string, why: string): Figure => ({
  id,
  title,
  figure: Number.NaN,
  unit: '',
  ceiling: Number.NaN,
  ceilingLabel: '',
  ratio: Number.NaN,
  target,
  met: undefined,
  runs: 0,
  notes: [why],
});

/**
 * BENCH_ONLY=P1,P5,S (prefixes of step names): run only those steps, print their rows and leave docs/performance.md
 * alone (a partial run never replaces the record of a full one).
 */
const onlyList = (process.env['BENCH_ONLY'] ?? '')
  .split(',')
  .map((x) => x.trim())
  .filter((x) => x !== '');
const only = (name: string): boolean => onlyList.length === 0 || onlyList.some((p) => name.startsWith(p));
/** Wall time of each step (seconds), for the record of where the benchmark's own time goes. */
const stepTimes: { name: string; seconds: number }[] = [];

/** Runs one benchmark; a failure becomes a "not measured" row with the reason instead of ending the run. */
async function step(name: string, f: () => Promise<Figure | Figure[]> | Figure | Figure[]): Promise<Figure[]> {
  if (!only(name)) return [];
  log(`bench: ${name} …`);
  const t = performance.now();
  try {
    return await stepBody(name, f, t);
  } finally {
    stepTimes.push({ name, seconds: (performance.now() - t) / 1000 });
  }
}

async function stepBody(
  name: string,
  f: () => Promise<Figure | Figure[]> | Figure | Figure[],
  t: number,
): Promise<Figure[]> {
  try {
    const out = await f();
    const list = Array.isArray(out) ? out : [out];
    for (const r of list)
      log(
        `bench: ${r.id}: ${fmt(r.figure)} ${r.unit} vs ${fmt(r.ceiling)}; ratio ${fmt(r.ratio)} (${((performance.now() - t) / 1000).toFixed(1)} s)`,
      );
    return list;
  } catch (err) {
    log(`bench: ${name} failed: ${(err as Error).stack ?? String(err)}`);
    return [
      notMeasured(name.split(' ')[0] ?? name, name, '', `The benchmark failed in this run: ${(err as Error).message}`),
    ];
  }
}

const started = performance.now();
const load0 = loadavg();
if (only('S') || only('P6')) {
  log('bench: npm run build (dist/ and the bundle the start-up and memory figures use) …');
  execFileSync('npm', ['run', 'build'], { stdio: ['ignore', 'ignore', 'inherit'], timeout: 600_000 });
}

const met = (f: Figure): string => (f.met === undefined ? 'not measured' : f.met ? 'yes' : '**no**');
const results: Figure[] = [];
/** Scaling tables: a title and markdown table lines each. */
const tables: { title: string; lines: string[] }[] = [];
const row = (f: Figure): string =>
  f.met === undefined && !Number.isFinite(f.figure)
    ? `| ${f.id} | ${f.title} | not measured | — | — | ${f.target} | not measured |`
    : `| ${f.id} | ${f.title} | ${fmt(f.figure)} ${f.unit} | ${fmt(f.ceiling)} (${f.ceilingLabel}) | ${fmt(f.ratio)} | ${f.target} | ${met(f)} |`;
const scaleTable = (title: string, head: string, figs: Figure[], cells: (f: Figure) => string): void => {
  tables.push({
    title,
    lines: [head, `|${'---|'.repeat(head.split('|').length - 2)}`, ...figs.map((f) => `| ${cells(f)} |`)],
  });
};
const interfaces = [8, 64, 512];
const p1Lines = quick ? 20_000 : 200_000;

// P1: PTP ingest vs a hand-tuned JS server, and (steady lines) vs the Go peer shaped on the reference's ingest, in
// the same runs.
const goPeer = only('P1') ? buildGoPeer(log) : undefined;
results.push(
  ...(await step('P1 PTP ingest (steady)', () =>
    benchPtpIngest({ runs, lines: p1Lines, mix: 'steady', ...(goPeer ? { goPeer } : {}) }),
  )),
);
if (only('P1') && !results.some((f) => f.id === 'P1 peer'))
  results.push(
    notMeasured(
      'P1 peer',
      'PTP ingest vs the reference sidecar (Go, prometheus client), same lines and socket kind',
      'keep >= 5× faster',
      'Not measured: the P1 benchmark failed in this run (see P1).',
    ),
  );
results.push(...(await step('P1b PTP ingest (cycled)', () => benchPtpIngest({ runs, lines: p1Lines, mix: 'cycled' }))));
const p1Scale: Figure[] = [];
for (const n of interfaces)
  p1Scale.push(
    ...(await step(`P1/${n} PTP ingest by interfaces`, () =>
      benchPtpIngest({ runs: 3, lines: quick ? 20_000 : 100_000, mix: { interfaces: n } }),
    )),
  );
scaleTable(
  'P1 by PTP interfaces (offset lines over interfaces/8 profiles of 8 interfaces; medians of 3)',
  '| Interfaces | ours (lines/s) | hand-tuned JS (lines/s) | ratio | target >= 0.9 |',
  p1Scale,
  (f) => `${f.id.split('/')[1] ?? '?'} | ${fmt(f.figure)} | ${fmt(f.ceiling)} | ${fmt(f.ratio)} | ${met(f)}`,
);

// P2: CMD RESTART by interfaces (64 is the row of the results table).
const p2Scale: Figure[] = [];
for (const n of interfaces)
  p2Scale.push(
    ...(await step(`P2/${n} restart`, () =>
      benchPtpRestart({ runs, profiles: Math.max(1, n / 8), perProfile: Math.min(8, n) }),
    )),
  );
results.push(...p2Scale.filter((f) => f.title.includes('(64)')));
scaleTable(
  'P2 by PTP interfaces (profiles of 8 interfaces)',
  '| Interfaces | CMD RESTART → serving (ms) | `node -e 0` (ms) | ratio | target <= 0.1 |',
  p2Scale,
  (f) =>
    `${/\((\d+)\)/.exec(f.title)?.[1] ?? '?'} | ${fmt(f.figure)} | ${fmt(f.ceiling)} | ${fmt(f.ratio)} | ${met(f)}`,
);

// P3: STATE_DB writes vs C hiredis, pipelined and one round trip per event.
results.push(
  ...(await step('P3 portsync replay', () =>
    benchPortsyncReplay({ runs, ports: 4096, rounds: quick ? 2 : 8, batch: 256, log }),
  )),
);

// P4: warm restart by ports; 4,096 is the row of the results table.
const p4Scale: Figure[] = [];
for (const ports of quick ? [256, 1024] : [256, 1024, 4096, 16_384])
  p4Scale.push(
    ...(await step(`P4/${ports} warm restart`, () =>
      benchWarmRestart({
        // 7 at the small sizes: a window of ~10–20 ms, where a run's scheduling on the shared CPUs shows most.
        runs: quick ? 2 : ports === 4096 ? runs : ports <= 1024 ? 7 : 3,
        ports,
        changed: 64,
        // The absolute bound is the 4,096-port figure's; the other sizes show the scaling (ratio <= 2 throughout).
        ...(ports === 4096 ? { boundMs: 100 } : {}),
        log,
      }),
    )),
  );
results.push(...p4Scale.filter((f) => f.id === `P4/${quick ? 1024 : 4096}`));
scaleTable(
  'P4 by ports (64 ports changed while down; medians of 7 at 256 and 1,024, of 5 at 4,096, of 3 at 16,384)',
  '| Ports | dump done → reconciled (ms) | ioredis by hand (ms) | ratio | target <= 2× (and <= 100 ms at 4,096) | writes = true diff |',
  p4Scale,
  (f) =>
    `${f.id.split('/')[1] ?? '?'} | ${fmt(f.figure)} | ${fmt(f.ceiling)} | ${fmt(f.ratio)} | ${met(f)} | ${f.notes.some((n) => n.includes('equal in every run: yes')) ? 'yes' : 'no'}`,
);

results.push(
  ...(await step('P5 supervisor forwarding', () =>
    benchSupervisorForwarding({ runs, events: quick ? 20_000 : 200_000 }),
  )),
);

let memoryScaling: string[] = [];
results.push(
  ...(await step('P6 memory', async () => {
    const m = await benchMemory({
      ports: 4096,
      events: quick ? 100_000 : 1_000_000,
      flapsPerBlock: quick ? 10_000 : 100_000,
      scalePorts: quick ? [256] : [256, 1024, 16_384],
      scaleEvents: 50_000,
      semiSpaceMb: [1],
      log,
    });
    memoryScaling = m.scaling;
    return m.figure;
  })),
);
if (memoryScaling.length > 0)
  tables.push({ title: 'P6 by ports (RSS from dist/, 64 PTP interfaces)', lines: memoryScaling });

results.push(...(await step('P7 state save', () => benchStateSave({ runs: quick ? 5 : 15, ports: 4096 }))));
results.push(...(await step('S start-up', () => benchStartup({ runs: quick ? 2 : runs }))));

// Extra sections: a benchmark module returning Figure rows (and scaling tables if any) is added here.
// Rows appear in the results table and under "Notes per figure" in the order they are pushed.
for (const n of [1, 100])
  results.push(
    ...(await step(`P8 events N=${n}`, () => benchEvents({ runs, consumers: n, changes: quick ? 10 : 40 }))),
  );

const load1 = loadavg();
const seconds = (performance.now() - started) / 1000;

/** A figure's section under "Notes per figure". */
const notesOf = (f: Figure): string[] => [
  `### ${f.id} ${f.title}`,
  '',
  ...f.notes.map((n) => `- ${n}`),
  ...(f.samples
    ? [
        `- Runs: figure ${f.samples.figure.map((v) => fmt(v)).join(', ')}; reference ${f.samples.ceiling.map((v) => fmt(v)).join(', ')}`,
      ]
    : []),
  '',
];

const out = 'docs/performance.md';
const options = (await prettier.resolveConfig(out)) ?? {};
if (onlyList.length > 0) {
  for (const f of results) {
    log(row(f));
    for (const n of f.notes) log(`  - ${n}`);
    if (f.samples)
      log(
        `  - runs: figure ${f.samples.figure.map((v) => fmt(v)).join(', ')}; reference ${f.samples.ceiling.map((v) => fmt(v)).join(', ')}`,
      );
  }
  for (const t of tables) log([`### ${t.title}`, ...t.lines].join('\n'));
  log(`bench: BENCH_ONLY=${onlyList.join(',')}: ${seconds.toFixed(0)} s; docs/performance.md left as it was`);
  process.exit(0);
}

const lines: string[] = [
  '# Performance',
  '',
  'Written by `npm run bench` (bench/run.ts; see bench/README.md). Each figure is measured beside its reference in the',
  `same run; medians of ${runs} runs unless noted. Do not edit by hand: re-run the benchmark.`,
  '',
  '## Machine',
  '',
  ...machine(),
  `- Load average at start ${load0.map((v) => v.toFixed(1)).join(' / ')}, at end ${load1.map((v) => v.toFixed(1)).join(' / ')} (other work on the machine shifts absolute numbers; ratios are taken side by side to limit that)`,
  `- Total benchmark time: ${seconds.toFixed(0)} s${quick ? ' (BENCH_QUICK: reduced sizes, not for the record)' : ''}; per step: ${stepTimes.map((t) => `${t.name} ${t.seconds.toFixed(0)} s`).join(', ')}`,
  '',
  '## Results',
  '',
  '| | Figure | Measured | Reference (same run) | Ratio | Target | Met? |',
  '|---|---|---|---|---|---|---|',
  ...results.map(row),
  '',
  '## Scaling',
  '',
  ...tables.flatMap((t) => [`### ${t.title}`, '', ...t.lines, '']),
  '## Notes per figure',
  '',
];
for (const f of [
  ...results,
  ...p1Scale,
  ...p2Scale.filter((x) => !results.includes(x)),
  ...p4Scale.filter((x) => !results.includes(x)),
])
  lines.push(...notesOf(f));
lines.push(...findings, '');
await writeFile(`${out}.tmp`, await prettier.format(lines.join('\n'), { ...options, parser: 'markdown' }));
await rename(`${out}.tmp`, out);
log(`bench: wrote ${out} (${seconds.toFixed(0)} s)`);
