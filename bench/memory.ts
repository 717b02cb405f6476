// P6: RSS of the daemon from the compiled dist/ (no TypeScript loader) with 4,096 ports and 64 PTP interfaces, and its
// growth over 1M events, measured after gc in a child process (bench/memoryChild.ts) inside a private network
// namespace. References in the same run: the same daemon with no data (started, nothing loaded), and a bare Node
// process that has loaded the daemon's six runtime dependencies. Also: RSS by ports (256 … 16,384), and V8
// young-generation sizing (--max-semi-space-size) with its throughput cost.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { build } from 'esbuild';
import { fmt, median, type Figure } from './measure.js';

interface ChildResult {
  baselineMb: number;
  afterMb: number[];
  blockMs: number[];
  heapBeforeMb: number;
  heapAfterMb: number;
  events: number;
  flapsPerBlock: number;
  ports: number;
  ptpInterfaces: number;
}

const root = resolve(import.meta.dirname, '..');

/** The V8 flags the shipped bin/syncvisor.js runs with (its shebang `#!/usr/bin/env -S node FLAGS…`). */
export function binNodeFlags(): string[] {
  const first = readFileSync(join(root, 'bin', 'syncvisor.js'), 'utf8').split('\n')[0] ?? '';
  const m = /^#!\/usr\/bin\/env -S node(.*)$/.exec(first);
  return m
    ? m[1]!
        .trim()
        .split(/\s+/)
        .filter((f) => f !== '')
    : [];
}

/**
 * bench/memoryChild.ts as one JS file whose imports of ../src/X.js are imports of the compiled dist/X.js (left as
 * module imports, not bundled): the measured daemon is the shipped build. Written under node_modules/.cache/ so that
 * the dependencies resolve from the package's node_modules. Needs `npm run build` first.
 */
async function bundleChild(): Promise<string> {
  const outDir = join(root, 'node_modules', '.cache', 'syncvisor-bench');
  await mkdir(outDir, { recursive: true });
  const outfile = join(outDir, 'memoryChild.mjs');
  await build({
    entryPoints: [join(root, 'bench', 'memoryChild.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    logLevel: 'warning',
    plugins: [
      {
        name: 'src-to-dist',
        setup(b) {
          b.onResolve({ filter: /\/src\// }, (args) => {
            const abs = resolve(args.resolveDir, args.path);
            const rel = relative(join(root, 'src'), abs);
            return { path: `../../../dist/${rel.split('\\').join('/')}`, external: true };
          });
        },
      },
    ],
  });
  return outfile;
}

/**
 * RSS after gc of a bare node that imported the daemon's runtime dependencies (the inspector is loaded lazily), with
 * the same V8 flags as the measured daemon.
 */
function nodeWithDepsMb(flags: string[]): number {
  const code = `for (const m of ['ioredis', 'pino', 'prom-client', 'xstate', 'yaml', 'zod']) await import(m);
for (let i = 0; i < 3; i++) { gc(); await new Promise((r) => setTimeout(r, 50)); }
console.log(process.memoryUsage().rss);`;
  const out = execFileSync(process.execPath, ['--expose-gc', ...flags, '--input-type=module', '-e', code], {
    cwd: root,
    encoding: 'utf8',
    timeout: 30_000,
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  return Number(out.trim().split('\n').pop()) / 1048576;
}

export async function benchMemory(opts: {
  ports: number;
  events: number;
  flapsPerBlock: number;
  /** Ports of the scaling table (each with scaleEvents events). */
  scalePorts: number[];
  scaleEvents: number;
  /** --max-semi-space-size values (MB) to compare, each with scaleEvents events at opts.ports. */
  semiSpaceMb: number[];
  log: (s: string) => void;
}): Promise<{ figure: Figure; scaling: string[] }> {
  const dir = await mkdtemp(join(tmpdir(), 'syncvisor-bench-p6-'));
  const ns = `syncvisor-bench-${process.pid}`;
  execFileSync('ip', ['netns', 'add', ns]);
  try {
    const child = await bundleChild();
    let n = 0;
    const run = (ports: number, events: number, flaps: number, flags: string[] = [], idle = false): ChildResult => {
      const runDir = join(dir, `run${n++}`);
      const out = execFileSync(
        'ip',
        [
          'netns',
          'exec',
          ns,
          process.execPath,
          '--expose-gc',
          ...flags,
          child,
          runDir,
          String(ports),
          String(events),
          String(flaps),
          ...(idle ? ['idle'] : []),
        ],
        { cwd: root, encoding: 'utf8', timeout: 300_000, stdio: ['ignore', 'pipe', 'inherit'] },
      );
      return JSON.parse(out.trim().split('\n').pop() ?? '{}') as ChildResult;
    };
    const rate = (r: ChildResult): number => (r.events / r.blockMs.reduce((a, b) => a + b, 0)) * 1000;

    const shipped = binNodeFlags();
    const r = run(opts.ports, opts.events, opts.flapsPerBlock, shipped);
    const idle = median([1, 2, 3].map(() => run(0, 0, 0, shipped, true).baselineMb));
    const deps = median([1, 2, 3, 4, 5].map(() => nodeWithDepsMb(shipped)));
    const depsDefault = median([1, 2, 3].map(() => nodeWithDepsMb([])));
    const figure = median(r.afterMb);
    const growth = (r.afterMb[r.afterMb.length - 1] ?? Number.NaN) - r.baselineMb;
    opts.log(`bench: P6: ${fmt(figure)} MB (idle daemon ${fmt(idle)} MB, node + deps ${fmt(deps)} MB)`);

    const scaling: string[] = [
      '| Ports | RSS after gc (MB) | growth over the run (MB) | JS heap used (MB) | events/s |',
      '|---|---|---|---|---|',
    ];
    const rows = new Map<number, string>();
    rows.set(
      opts.ports,
      `| ${opts.ports.toLocaleString('en-US')} | ${fmt(figure)} | ${growth.toFixed(1)} | ${r.heapAfterMb.toFixed(1)} | ${fmt(rate(r))} (${r.events.toLocaleString('en-US')} events) |`,
    );
    for (const ports of opts.scalePorts) {
      const s = run(ports, opts.scaleEvents, Math.min(opts.flapsPerBlock, Math.floor(opts.scaleEvents / 10)), shipped);
      const g = (s.afterMb[s.afterMb.length - 1] ?? Number.NaN) - s.baselineMb;
      rows.set(
        ports,
        `| ${ports.toLocaleString('en-US')} | ${fmt(median(s.afterMb))} | ${g.toFixed(1)} | ${s.heapAfterMb.toFixed(1)} | ${fmt(rate(s))} (${s.events.toLocaleString('en-US')} events) |`,
      );
      opts.log(`bench: P6: ${ports} ports: ${fmt(median(s.afterMb))} MB`);
    }
    scaling.push(...[...rows.keys()].sort((a, b) => a - b).map((k) => rows.get(k)!));

    // Young-generation sizing: V8's default (no flag) beside each --max-semi-space-size, same load.
    const semi: string[] = [];
    const flaps = Math.min(opts.flapsPerBlock, Math.floor(opts.scaleEvents / 10));
    const base = run(opts.ports, opts.scaleEvents, flaps, []);
    for (const mb of opts.semiSpaceMb) {
      const s = run(opts.ports, opts.scaleEvents, flaps, [`--max-semi-space-size=${mb}`]);
      semi.push(
        `--max-semi-space-size=${mb}: ${fmt(median(s.afterMb))} MB RSS (V8 default: ${fmt(median(base.afterMb))} MB), ${fmt(rate(s))} events/s (default: ${fmt(rate(base))}, ${(((rate(s) - rate(base)) / rate(base)) * 100).toFixed(0)} %)`,
      );
      opts.log(`bench: P6: ${semi.at(-1)}`);
    }

    return {
      figure: {
        id: 'P6',
        title: `RSS from dist/ with ${r.ports} ports and ${r.ptpInterfaces} PTP interfaces; growth over ${r.events.toLocaleString('en-US')} events`,
        figure,
        unit: 'MB RSS',
        ceiling: deps,
        ceilingLabel: 'node with the six runtime dependencies loaded, after gc (MB RSS)',
        ratio: figure / deps,
        target: 'RSS <= 100 MB, growth < 5 MB',
        met: figure <= 100 && growth < 5,
        runs: r.afterMb.length,
        samples: { figure: r.afterMb, ceiling: [deps] },
        notes: [
          `V8 flags of the measured daemon: those of bin/syncvisor.js's shebang (${shipped.join(' ') || 'none'}), as the shipped command runs. The daemon is the compiled dist/ (the benchmark child is bundled with esbuild, its imports of the daemon left as imports of dist/ modules; no TypeScript loader in the process). References in this run: the same daemon with no data (both services started, embedded Redis, nothing loaded): ${fmt(idle)} MB; node with ioredis, pino, prom-client, xstate, yaml and zod imported, same flags: ${fmt(deps)} MB (with V8's default flags: ${fmt(depsDefault)} MB). So the data (4,096 ports, 64 PTP interfaces, metric series) costs ${fmt(figure - idle)} MB and the daemon's code and actors over its dependencies ${fmt(idle - deps)} MB.`,
          `Growth after ${r.events.toLocaleString('en-US')} events: ${growth.toFixed(1)} MB RSS (baseline ${r.baselineMb.toFixed(1)} MB after load and warm-up; after each block of ${(r.events / 5).toLocaleString('en-US')} events: ${r.afterMb.map((v) => v.toFixed(1)).join(', ')} MB). JS heap used: ${r.heapBeforeMb.toFixed(1)} → ${r.heapAfterMb.toFixed(1)} MB. Throughput: ${fmt(rate(r))} events/s.`,
          `Events per block: ${r.flapsPerBlock.toLocaleString('en-US')} link flaps sent to the supervisor (forwarded to portsync, written to the embedded Redis, saved to the state file) and the rest PTP offset lines through the real socket.`,
          `V8 young generation, ${opts.scaleEvents.toLocaleString('en-US')} events at ${opts.ports} ports each: ${semi.join('; ')}.`,
          'Memory figures are RSS after three gc() passes, in a child started with --expose-gc inside a private network namespace (the netlink source sees only its own lo).',
        ],
      },
      scaling,
    };
  } finally {
    try {
      execFileSync('ip', ['netns', 'del', ns]);
    } catch {
      /* already gone */
    }
    await rm(dir, { recursive: true, force: true });
  }
}
