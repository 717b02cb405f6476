// P2: CMD RESTART → serving again with the configuration re-read (profiles of 8 interfaces: 8 / 64 / 512),
// measured inside the running daemon from the write of the command to the sidecar's next `serving` snapshot, vs the
// start of a bare Node process (`node -e 0`, spawn to exit). Each run changes the ConfigMap first and checks the new value is served.
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Socket } from 'node:net';
import type { RunningDaemon } from '../src/daemon/main.js';
import { startBenchDaemon, stopBenchDaemon } from './daemon.js';
import { median, now, type Figure } from './measure.js';
import { connect, currentGeneration } from './ptpIngest.js';
import { writeScaleConfig } from './ptpSetup.js';

interface SidecarView {
  value: unknown;
  context: { loads: number };
}

function nodeStartMs(): number {
  const t = now();
  const r = spawnSync(process.execPath, ['-e', '0'], { stdio: 'ignore' });
  const ms = now() - t;
  if (r.status !== 0) throw new Error('P2: node -e 0 failed');
  return ms;
}

export async function benchPtpRestart(opts: { runs: number; profiles: number; perProfile: number }): Promise<Figure> {
  const dir = await mkdtemp(join(tmpdir(), 'syncvisor-bench-p2-'));
  let daemon: RunningDaemon | undefined;
  let client: Socket | undefined;
  try {
    const cfg = await writeScaleConfig(dir, opts.profiles, opts.perProfile);
    const socketPath = join(dir, 'events.sock');
    daemon = await startBenchDaemon({
      services: 'ptp',
      'ptp.socketPath': socketPath,
      'ptp.profilePath': cfg.profilePath,
      'ptp.configDir': cfg.configDir,
      'ptp.nodeName': cfg.nodeName,
    });
    const d = daemon;
    const ptp = d.root.system.get('ptp');
    if (!ptp) throw new Error('P2: no ptp sidecar');
    const c = await connect(socketPath);
    client = c;

    const restartOnce = async (holdOver: number): Promise<number> => {
      await cfg.setHoldOver(holdOver);
      const before = (ptp.getSnapshot() as SidecarView).context.loads;
      const served = new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('P2: no serving state within 10 s of CMD RESTART')), 10_000);
        const sub = ptp.subscribe((snap: SidecarView) => {
          const serving = typeof snap.value === 'object' && snap.value !== null && 'serving' in snap.value;
          if (serving && snap.context.loads > before) {
            const t = now();
            clearTimeout(timer);
            sub.unsubscribe();
            resolve(t);
          }
        });
      });
      const t0 = now();
      c.write('CMD RESTART\n');
      const ms = (await served) - t0;
      const text = await currentGeneration(d).metrics.text();
      const want = `openshift_ptp_threshold{threshold="HoldOverTimeout",node="${cfg.nodeName}",profile="profile${opts.profiles - 1}"} ${holdOver}`;
      if (!text.includes(want))
        throw new Error(`P2: the restarted generation does not serve the new ConfigMap (${want})`);
      const seeds = currentGeneration(d).seeds.length;
      if (seeds !== opts.profiles) throw new Error(`P2: ${seeds} clocks after restart, expected ${opts.profiles}`);
      return ms;
    };

    await restartOnce(10); // warm-up
    nodeStartMs();
    const fig: number[] = [];
    const ceil: number[] = [];
    for (let i = 0; i < opts.runs; i++) {
      fig.push(await restartOnce(11 + i));
      ceil.push(nodeStartMs());
    }
    const figure = median(fig);
    const ceiling = median(ceil);
    const ratio = figure / ceiling;
    return {
      id: 'P2',
      title: `CMD RESTART to serving, ${opts.profiles} profiles × ${opts.perProfile} interfaces (${cfg.interfaces})`,
      figure,
      unit: 'ms',
      ceiling,
      ceilingLabel: '`node -e 0` process start, spawn to exit (ms)',
      ratio,
      target: 'ratio <= 0.1',
      met: ratio <= 0.1,
      runs: opts.runs,
      samples: { figure: fig, ceiling: ceil },
      notes: [
        `Measured from the client write of \`CMD RESTART\` to the sidecar snapshot that is in \`serving\` with a new load: the line server, supervisor forwarding, stopping the clocks and the registry, reading the ConfigMap and ${opts.profiles} INI files, building the generation and starting its clock statecharts. Each run writes a new holdOverTimeout first and checks the restarted generation serves it.`,
      ],
    };
  } finally {
    client?.destroy();
    if (daemon) await stopBenchDaemon(daemon);
    await rm(dir, { recursive: true, force: true });
  }
}
