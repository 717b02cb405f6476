// The ptp service composed for real (ptpChildSpecs under the supervisor machine, a real Unix socket, real files):
// CMD RESTART with `syncvisor ctl restart`'s sendCommand while another connection keeps streaming lines.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Socket } from 'node:net';
import { mkdtempSync, rmSync, unlinkSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AnyActorRef } from 'xstate';
import { configSchema } from '../../src/config/schema.js';
import { MetricsHub } from '../../src/io/http/metricsHub.js';
import { sendCommand } from '../../src/io/socket/sendCommand.js';
import {
  connectUnix,
  seriesValue,
  startPtpService,
  stopPtpService,
  until,
  type PtpRoot,
} from '../support/ptpService.js';

const shared = join(import.meta.dirname, '../fixtures/ptp/examples');
const dir = mkdtempSync(join(tmpdir(), 'syncvisor-ptp-int-'));
const socketPath = join(dir, 'run', 'events.sock');
const hub = new MetricsHub({ defaultMetrics: false });
let root: PtpRoot | undefined;
let streamer: Socket | undefined;
let streamerClosed = false;

const metricsText = () => hub.text();
const value = async (series: string) => seriesValue(await metricsText(), series);
const sidecarLoads = () =>
  ((root?.system.get('ptp') as AnyActorRef | undefined)?.getSnapshot() as { context: { loads: number } } | undefined)
    ?.context.loads;
const write = (s: Socket, line: string) => new Promise<void>((r) => s.write(`${line}\n`, () => r()));

beforeAll(async () => {
  writeFileSync(
    join(dir, 'node1'),
    JSON.stringify([
      {
        name: 'profile0',
        ptpClockThreshold: { holdOverTimeout: 30, maxOffsetThreshold: 100, minOffsetThreshold: -100 },
      },
      { name: 'bc1', ptpClockThreshold: { holdOverTimeout: 5, maxOffsetThreshold: 50, minOffsetThreshold: -50 } },
    ]),
  );
  copyFileSync(join(shared, 'ptp4l.0.config'), join(dir, 'ptp4l.0.config'));
  copyFileSync(join(shared, 'ptp4l.1.config'), join(dir, 'ptp4l.1.config'));
  const config = configSchema.parse({
    services: ['ptp'],
    ptp: { socketPath, configDir: dir, profilePath: dir, nodeName: 'node1' },
  });
  root = await startPtpService(config, hub);
  await until('the first generation', async () => (await metricsText()).includes('profile="bc1"'));
  streamer = await connectUnix(socketPath);
  streamer.on('close', () => (streamerClosed = true));
});

afterAll(async () => {
  streamer?.destroy();
  await stopPtpService(root);
  rmSync(dir, { recursive: true, force: true });
});

describe('ptp sidecar restart over the real socket', () => {
  it('processes lines under the first config', async () => {
    const s = streamer!;
    await write(s, 'ptp4l[1.0]: [ptp4l.1.config] master offset 40 s2 freq +1 path delay 7');
    await until(
      'bc1 lock',
      async () => (await value('openshift_ptp_clock_state{process="ptp4l",node="node1",iface="ens1f0"}')) === 1,
    );
    await write(s, 'ptp4l[1.0]: [ptp4l.0.config] master offset 40 s2 freq +1 path delay 7');
    await until(
      'profile0 lock',
      async () => (await value('openshift_ptp_clock_state{process="ptp4l",node="node1",iface="ens5f1"}')) === 1,
    );
  });

  it('ignores an unknown CMD', async () => {
    const loads = sidecarLoads();
    await write(streamer!, 'CMD FROB now');
    await until('counted', async () => (await value('syncvisor_socket_commands_total{command="other"}')) === 1);
    expect(sidecarLoads()).toBe(loads);
  });

  it('restarts on CMD RESTART while another connection streams: nobody disconnected, new config everywhere', async () => {
    // The daemon writes the new configuration, then sends CMD RESTART.
    writeFileSync(
      join(dir, 'node1'),
      JSON.stringify({
        name: 'profile0',
        ptpClockThreshold: { holdOverTimeout: 0.3, maxOffsetThreshold: 30, minOffsetThreshold: -30 },
      }),
    );
    unlinkSync(join(dir, 'ptp4l.1.config'));
    const loadsBefore = sidecarLoads() ?? 0;
    let streaming = true;
    let sent = 0;
    const stream = (async () => {
      while (streaming && sent < 5_000) {
        await write(streamer!, `ptp4l[2.${sent}]: [ptp4l.0.config] master offset 20 s2 freq +1 path delay ${sent}`);
        sent++;
      }
    })();
    await until('some lines streamed', () => sent > 50);
    await sendCommand(socketPath);
    await until(
      'the new generation',
      async () =>
        (await value('openshift_ptp_threshold{threshold="MaxOffsetThreshold",node="node1",profile="profile0"}')) === 30,
    );
    streaming = false;
    await stream;
    expect(sidecarLoads()).toBe(loadsBefore + 1);
    // Every line from now on is parsed under the new thresholds: 40 is out of range for ±30, so no LOCKED.
    await write(streamer!, 'ptp4l[3.0]: [ptp4l.0.config] master offset 40 s2 freq +1 path delay 99999');
    await until(
      'the marker line',
      async () =>
        (await value('openshift_ptp_delay_ns{from="master",process="ptp4l",node="node1",iface="ens5f1"}')) === 99999,
    );
    const text = await metricsText();
    expect(text).not.toContain('profile="bc1"');
    expect(text).not.toContain('ens1f0');
    expect(text).toContain('openshift_ptp_threshold{threshold="HoldOverTimeout",node="node1",profile="profile0"} 0.3');
    expect(text).toContain('openshift_ptp_clock_state{process="ptp4l",node="node1",iface="ens5f1"} 0');
    expect(text).toContain('syncvisor_socket_connections 1');
    expect(streamerClosed).toBe(false);
  });

  it('goes HOLDOVER → FREERUN after the profile timeout (0.3 s) on the real socket', async () => {
    const state = () => value('openshift_ptp_clock_state{process="ptp4l",node="node1",iface="ens5f1"}');
    await write(streamer!, 'ptp4l[4.0]: [ptp4l.0.config] master offset 5 s2 freq +1 path delay 1');
    await until('LOCKED', async () => (await state()) === 1);
    await write(streamer!, 'ptp4l[4.1]: [ptp4l.0.config] port 1 (ens5f1): SLAVE to FAULTY on FAULT_DETECTED');
    await until('HOLDOVER', async () => (await state()) === 2);
    await until('FREERUN after the timeout', async () => (await state()) === 0);
    expect(await value('openshift_ptp_interface_role{process="ptp4l",node="node1",iface="ens5f1"}')).toBe(3);
    expect(streamerClosed).toBe(false);
  });
});
