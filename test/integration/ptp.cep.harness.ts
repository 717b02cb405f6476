// The rig for the cases derived from cloud-event-proxy's own tests (test/integration/ptp.cep*.test.ts): the ptp
// service composed for real (ptpChildSpecs under the supervisor machine), a real Unix socket the lines are written
// to, a real HTTP server on loopback as linuxptp-daemon (port-aliases, emit-logs), real files for the ConfigMap and
// the INI files. Each case writes its configuration and sends `CMD RESTART` over the socket, as linuxptp-daemon does
// after it changed the configuration: a fresh generation, the same connection. After its lines, a case writes a
// marker (a process status line of a config of its own) and waits until the marker's counter moved: every line
// before it was parsed and every clock change it caused was applied (the data plane is synchronous per batch).
import type { Socket } from 'node:net';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configSchema } from '../../src/config/schema.js';
import { MetricsHub } from '../../src/io/http/metricsHub.js';
import { connectUnix, sidecarOf, startPtpService, stopPtpService, until } from '../support/ptpService.js';
import type { SidecarEmitted } from '../../src/machines/ptp/events.js';
import { metric, startFakeLinuxptpDaemon, type FakeLinuxptpDaemon } from './ptp4l.harness.js';

export const node = 'mynode';
const marker = 'ptp4l.63.config';

export interface CepLoad {
  /** The ConfigMap's profiles (`<profilePath>/<node>`). */
  profiles: object[];
  /** INI files by name (`ptp4l.0.config` …), written as linuxptp-daemon writes them. */
  files: Record<string, string>;
  /** What linuxptp-daemon's /port-aliases answers. */
  aliases?: Record<string, string>;
}

export interface CepRig {
  /** Writes the configuration and restarts the sidecar on it (CMD RESTART); resolves when the new one serves. */
  load(l: CepLoad): Promise<void>;
  /** Writes lines to the socket and waits until they were all applied. */
  send(...lines: string[]): Promise<void>;
  /** One value of `openshift_ptp_<name>{labels}` (node label added), or undefined when there is no such series. */
  value(name: string, labels: Record<string, string>): Promise<number | undefined>;
  text(): Promise<string>;
  /** What observers received from the sidecar since the last load began (its CMD RESTART), in order. */
  readonly events: SidecarEmitted[];
  close(): Promise<void>;
}

/** An INI file as linuxptp-daemon writes it: `#profile:`, `[global]`, one section per interface. */
export function ini(profile: string, sections: Record<string, Record<string, string | number>>): string {
  const out = [`#profile: ${profile}`];
  for (const [name, opts] of Object.entries({ global: {}, ...sections })) {
    out.push(`[${name}]`);
    for (const [k, v] of Object.entries(opts)) out.push(`${k} ${v}`);
  }
  return `${out.join('\n')}\n`;
}

export async function startCepRig(): Promise<CepRig> {
  const dir = mkdtempSync(join(tmpdir(), 'syncvisor-ptp-cep-'));
  const cfg = join(dir, 'cfg');
  const profiles = join(dir, 'profiles');
  mkdirSync(cfg);
  mkdirSync(profiles);
  writeFileSync(join(profiles, node), '[]');
  const socketPath = join(dir, 'events.sock');
  const daemon: FakeLinuxptpDaemon = await startFakeLinuxptpDaemon({});
  const hub = new MetricsHub({ defaultMetrics: false });
  const config = configSchema.parse({
    services: ['ptp'],
    ptp: {
      socketPath,
      configDir: cfg,
      profilePath: profiles,
      nodeName: node,
      portAliasesUrl: `${daemon.base}/port-aliases`,
      emitLogsUrl: `${daemon.base}/emit-logs`,
    },
  });
  const root = await startPtpService(config, hub);
  const sidecar = () => sidecarOf(root);
  const snapshot = () => sidecar()?.getSnapshot() as { context: { loads: number }; matches(s: string): boolean };
  await until('the first generation', () => snapshot()?.matches('serving'));
  const events: SidecarEmitted[] = [];
  for (const type of ['clock.stateChanged', 'ptp.osClockStateChanged', 'ptp.syncStateChanged'] as const) {
    sidecar().on(type, (e: SidecarEmitted) => events.push(e));
  }
  const conn: Socket = await connectUnix(socketPath);
  const write = (text: string) => new Promise<void>((r) => conn.write(text, () => r()));
  let markers = 0;
  const text = () => hub.text();

  return {
    events,
    text,
    async load(l) {
      for (const f of readdirSync(cfg)) unlinkSync(join(cfg, f));
      for (const [name, body] of Object.entries(l.files)) writeFileSync(join(cfg, name), body);
      writeFileSync(join(profiles, node), JSON.stringify(l.profiles));
      daemon.setAliases(l.aliases ?? {});
      const loads = snapshot().context.loads;
      events.length = 0;
      markers = 0;
      await write('CMD RESTART\n');
      await until('the new generation', () => snapshot().context.loads > loads && snapshot().matches('serving'));
    },
    async send(...lines) {
      markers++;
      await write(`${lines.join('\n')}\nptp4l[1]:[${marker}] PTP_PROCESS_STATUS:1\n`);
      await until('the lines applied', async () => {
        const v = metric(await text(), 'openshift_ptp_process_restart_count', { config: marker });
        return v !== undefined && v >= markers;
      });
    },
    async value(name, labels) {
      return metric(await text(), `openshift_ptp_${name}`, { ...labels, node });
    },
    async close() {
      conn.destroy();
      await stopPtpService(root);
      await daemon.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
