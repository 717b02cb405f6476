// Start-up: spawn → /healthz answers 200 (ptp only) and spawn → /readyz answers 200 (portsync + ptp with the
// embedded redis-server), of the shipped CLI (`node bin/syncvisor.js run`: the bundle as dist/syncvisor.cjs with its V8
// code cache, see scripts/bundle.mjs), beside
// `node -e 0` (spawn → exit) in the same run. The module tree (dist/cli/main.js, SYNCVISOR_NO_BUNDLE=1) is measured
// too, for the bundle's effect. Everything runs in bench/startupProbe.mjs inside a private network namespace.
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { median, type Figure } from './measure.js';
import { writeExampleConfig } from './ptpSetup.js';

interface ProbeOut {
  node: number[];
  cases: Record<string, number[]>;
}

export async function benchStartup(opts: { runs: number }): Promise<Figure[]> {
  const dir = await mkdtemp(join(tmpdir(), 'syncvisor-bench-start-'));
  const ns = `syncvisor-bench-start-${process.pid}`;
  execFileSync('ip', ['netns', 'add', ns]);
  try {
    execFileSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    const cfg = await writeExampleConfig(dir);
    const ptpArgs = [
      '--log-level',
      'silent',
      '--http',
      '127.0.0.1:9101',
      '--set',
      `ptp.socketPath=${join(dir, 'events.sock')}`,
      '--set',
      `ptp.profilePath=${cfg.profilePath}`,
      '--set',
      `ptp.configDir=${cfg.configDir}`,
      '--set',
      `ptp.nodeName=${cfg.nodeName}`,
    ];
    const both = [
      ...ptpArgs,
      '--services',
      'portsync,ptp',
      '--set',
      `redis.runtimeDir=${join(dir, 'redis')}`,
      // A fresh path per start is not needed: a cold start every time (no state file is kept, warm restart off).
      '--set',
      `stateFile.path=${join(dir, 'state', 'portsyncd.json')}`,
      '--set',
      'warmRestart.timeoutSecs=0',
    ];
    const spec = [
      { name: 'ptp', args: ['--services', 'ptp', ...ptpArgs], path: '/healthz', port: 9101 },
      { name: 'both', args: both, path: '/readyz', port: 9101 },
      {
        name: 'ptp-modules',
        args: ['--services', 'ptp', ...ptpArgs],
        path: '/healthz',
        port: 9101,
        env: { SYNCVISOR_NO_BUNDLE: '1' },
      },
      { name: 'both-modules', args: both, path: '/readyz', port: 9101, env: { SYNCVISOR_NO_BUNDLE: '1' } },
    ];
    await writeFile(join(dir, 'spec.json'), JSON.stringify(spec));
    const out = execFileSync(
      'ip',
      ['netns', 'exec', ns, process.execPath, 'bench/startupProbe.mjs', String(opts.runs), join(dir, 'spec.json')],
      { encoding: 'utf8', timeout: 600_000, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const r = JSON.parse(out.trim().split('\n').pop() ?? '{}') as ProbeOut;
    const node = median(r.node);
    const m = (k: string): number => median(r.cases[k] ?? []);
    const common = [
      `Spawn of \`node bin/syncvisor.js run …\` (the bundle as one script, dist/syncvisor.cjs, run with its V8 code cache dist/syncvisor.cjs.cache; both made by \`npm run build\`) to the first 200 answer, polled every 2 ms from inside a private network namespace; \`node -e 0\` spawn → exit in the same loop. ${opts.runs} runs each, alternating.`,
      'linuxptp-daemon is present, as in its pod: a stand-in on its default address answers /port-aliases ({}) and /emit-logs (200). Without one, a start waits out the configured retries of the first port-aliases request (2 × 200 ms by default) before the first generation serves, and /readyz with it.',
      `Module tree instead of the bundle (dist/cli/main.js, SYNCVISOR_NO_BUNDLE=1): ptp → /healthz ${m('ptp-modules').toFixed(0)} ms, both → /readyz ${m('both-modules').toFixed(0)} ms (bundle: ${m('ptp').toFixed(0)} / ${m('both').toFixed(0)} ms).`,
    ];
    const row = (id: string, key: string, what: string, max: number): Figure => {
      const figure = m(key);
      const ratio = figure / node;
      return {
        id,
        title: what,
        figure,
        unit: 'ms',
        ceiling: node,
        ceilingLabel: '`node -e 0`, spawn → exit (ms)',
        ratio,
        target: `ratio <= ${max}`,
        met: ratio <= max,
        runs: opts.runs,
        samples: { figure: r.cases[key] ?? [], ceiling: r.node },
        notes: common,
      };
    };
    return [
      row('S1', 'ptp', 'Start-up, spawn → /healthz 200 (ptp only)', 3),
      row('S2', 'both', 'Start-up, spawn → /readyz 200 (portsync + ptp, embedded redis-server)', 4),
    ];
  } finally {
    try {
      execFileSync('ip', ['netns', 'del', ns]);
    } catch {
      /* already gone */
    }
    await rm(dir, { recursive: true, force: true });
  }
}
