// `npm run bench`: runs P1–P7 (each figure beside its ceiling, medians of at least 5 runs) and writes
// docs/performance.md. Bounded: every loop has a fixed size and every wait a timeout; loopback, Unix sockets and a
// private network namespace only. BENCH_QUICK=1 runs smaller sizes (for checking the script, not for the record).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { writeFile, rename } from 'node:fs/promises';
import { cpus, loadavg, totalmem } from 'node:os';
import * as prettier from 'prettier';
import { fmt, type Figure } from './measure.js';
import { benchMemory } from './memory.js';
import { benchPortsyncReplay } from './portsyncReplay.js';
import { benchPtpIngest } from './ptpIngest.js';
import { benchPtpRestart } from './ptpRestart.js';
import { benchStateSave } from './stateSave.js';
import { benchSupervisorForwarding } from './supervisorForwarding.js';
import { benchWarmRestart } from './warmRestart.js';
import { benchEvents } from './events.js';
import { findings } from './findings.js';

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

async function step(name: string, f: () => Promise<Figure> | Figure): Promise<Figure> {
  log(`bench: ${name} …`);
  const t = performance.now();
  try {
    const r = await f();
    log(
      `bench: ${name}: ${fmt(r.figure)} ${r.unit} vs ${fmt(r.ceiling)}; ratio ${fmt(r.ratio)} (${((performance.now() - t) / 1000).toFixed(1)} s)`,
    );
    return r;
  } catch (err) {
    log(`bench: ${name} failed: ${(err as Error).stack ?? String(err)}`);
    return notMeasured(
      name.split(' ')[0] ?? name,
      name,
      '',
      `The benchmark failed in this run: ${(err as Error).message}`,
    );
  }
}

const started = performance.now();
const load0 = loadavg();
const results: Figure[] = [];
results.push(
  await step('P1 PTP ingest (steady)', () => benchPtpIngest({ runs, lines: quick ? 20_000 : 200_000, mix: 'steady' })),
);
results.push(
  await step('P1b PTP ingest (cycled)', () => benchPtpIngest({ runs, lines: quick ? 20_000 : 200_000, mix: 'cycled' })),
);
results.push(await step('P2 restart', () => benchPtpRestart({ runs, profiles: 8, perProfile: 8 })));
results.push(
  await step('P3 portsync replay', () =>
    benchPortsyncReplay({ runs, ports: 4096, rounds: quick ? 2 : 8, batch: 256, log }),
  ),
);
results.push(
  await step('P4 warm restart', () =>
    benchWarmRestart({ runs: quick ? 2 : runs, ports: quick ? 1024 : 4096, changed: 64, log }),
  ),
);
results.push(
  await step('P5 supervisor forwarding', () => benchSupervisorForwarding({ runs, events: quick ? 20_000 : 200_000 })),
);
results.push(
  await step('P6 memory', () =>
    benchMemory({ ports: 4096, events: quick ? 100_000 : 1_000_000, flapsPerBlock: quick ? 10_000 : 100_000 }),
  ),
);
results.push(await step('P7 state save', () => benchStateSave({ runs: quick ? 5 : 15, ports: 4096 })));
for (const n of [1, 100])
  results.push(await step(`P8 events N=${n}`, () => benchEvents({ runs, consumers: n, changes: quick ? 10 : 40 })));
const load1 = loadavg();
const seconds = (performance.now() - started) / 1000;

const met = (f: Figure): string => (f.met === undefined ? 'not measured' : f.met ? 'yes' : '**no**');
const lines: string[] = [
  '# Performance',
  '',
  'Written by `npm run bench` (bench/run.ts; see bench/README.md). Each figure is measured beside its ceiling in the',
  `same run; medians of ${runs} or more runs. Do not edit by hand: re-run the benchmark.`,
  '',
  '## Machine',
  '',
  ...machine(),
  `- Load average at start ${load0.map((v) => v.toFixed(1)).join(' / ')}, at end ${load1.map((v) => v.toFixed(1)).join(' / ')} (other work on the machine shifts absolute numbers; ratios are taken side by side to limit that)`,
  `- Total benchmark time: ${seconds.toFixed(0)} s${quick ? ' (BENCH_QUICK: reduced sizes, not for the record)' : ''}`,
  '',
  '## Results',
  '',
  '| | Figure | Ceiling | Ratio | Target | Met? |',
  '|---|---|---|---|---|---|',
  ...results.map((f) =>
    f.met === undefined
      ? `| ${f.id} ${f.title} | not measured | — | — | ${f.target} | not measured |`
      : `| ${f.id} ${f.title} | ${fmt(f.figure)} ${f.unit} | ${fmt(f.ceiling)} (${f.ceilingLabel}) | ${fmt(f.ratio)} | ${f.target} | ${met(f)} |`,
  ),
  '',
  '## Notes per figure',
  '',
];
for (const f of results) {
  lines.push(`### ${f.id} ${f.title}`, '');
  for (const n of f.notes) lines.push(`- ${n}`);
  if (f.samples)
    lines.push(
      `- Runs: figure ${f.samples.figure.map((v) => fmt(v)).join(', ')}; ceiling ${f.samples.ceiling.map((v) => fmt(v)).join(', ')}`,
    );
  lines.push('');
}
lines.push(...findings, '');
const out = 'docs/performance.md';
const options = (await prettier.resolveConfig(out)) ?? {};
await writeFile(`${out}.tmp`, await prettier.format(lines.join('\n'), { ...options, parser: 'markdown' }));
await rename(`${out}.tmp`, out);
log(`bench: wrote ${out} (${seconds.toFixed(0)} s)`);
