// NTP failover on the events side (src/daemon/events.ts): in a profile with chronydOpts, phc2sys's and chronyd's
// CLOCK_REALTIME are one OS clock for the events engine, so a hand-over that keeps the state publishes nothing, and
// the initial FREERUN of chronyd's clock (no line said it) does not count as a state. A real generation loaded from
// files, the real events service; what it published is read from its counter and its CurrentState.
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.js';
import { createEventsService, type ClockChange } from '../../src/daemon/events.js';
import { MetricsHub } from '../../src/io/http/metricsHub.js';
import { silentLogger } from '../../src/io/log.js';
import { loadPtpGeneration } from '../../src/io/ptp/generation.js';

const dir = mkdtempSync(join(tmpdir(), 'syncvisor-events-failover-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function rig(chronydOpts: string | undefined) {
  const sub = mkdtempSync(join(dir, 'rig-'));
  const cfg = join(sub, 'cfg');
  mkdirSync(cfg);
  writeFileSync(
    join(sub, 'node1'),
    JSON.stringify([{ name: 'ntp-failover', ...(chronydOpts ? { chronydOpts } : {}) }]),
  );
  writeFileSync(join(cfg, 'ptp4l.0.config'), '#profile: ntp-failover\n[global]\n[ens3f0]\n');
  writeFileSync(join(cfg, 'chronyd.0.config'), '#profile: ntp-failover\n[global]\n');
  const g = await loadPtpGeneration({ profilePath: sub, configDir: cfg, nodeName: 'node1' });
  const config = configSchema.parse({
    ptp: { nodeName: 'node1' },
    events: { storePath: join(sub, 'subscriptions.json') },
  });
  const metrics = new MetricsHub({ defaultMetrics: false });
  const svc = createEventsService({ config, logger: silentLogger, metrics });
  svc.hook.generationLoaded(g);
  const change = (process: string, from: string | null, to: string): void =>
    svc.hook.clockChanged({
      key: `${process}/CLOCK_REALTIME`,
      process,
      iface: 'CLOCK_REALTIME',
      profile: 'ntp-failover',
      from,
      to,
    } satisfies ClockChange);
  const published = async (): Promise<number> => {
    await new Promise((r) => setTimeout(r, 20)); // the adapter's input chain
    const text = await metrics.global.metrics();
    const line = text
      .split('\n')
      .find((l) =>
        l.startsWith('syncvisor_events_published_total{type="event.sync.sync-status.os-clock-sync-state-change"}'),
      );
    return Number(line?.split(' ').at(-1) ?? NaN);
  };
  const osClock = () => svc.model.current('os-clock-sync-state');
  return { change, published, osClock };
}

describe('events: NTP failover', () => {
  it('phc2sys LOCKED → chronyd LOCKED publishes nothing; chronyd FREERUN is one os-clock-sync-state event', async () => {
    const r = await rig('-f /etc/chrony.conf');
    r.change('phc2sys', null, 'FREERUN');
    r.change('phc2sys', 'FREERUN', 'LOCKED');
    expect(await r.published()).toBe(1);
    // chronyd takes over: its clock starts (initial FREERUN, no line said it), then LOCKED.
    r.change('chronyd', null, 'FREERUN');
    r.change('chronyd', 'FREERUN', 'LOCKED');
    expect(await r.published()).toBe(1);
    expect(r.osClock()).toMatchObject({ kind: 'values' });
    expect(JSON.stringify(r.osClock())).toContain('LOCKED');
    r.change('chronyd', 'LOCKED', 'FREERUN');
    expect(await r.published()).toBe(2);
    expect(JSON.stringify(r.osClock())).toContain('FREERUN');
  });

  it("without chronydOpts, chronyd's CLOCK_REALTIME stays a clock of its own (its first LOCKED is published)", async () => {
    const r = await rig(undefined);
    r.change('phc2sys', null, 'FREERUN');
    r.change('phc2sys', 'FREERUN', 'LOCKED');
    r.change('chronyd', null, 'FREERUN');
    r.change('chronyd', 'FREERUN', 'LOCKED');
    expect(await r.published()).toBe(2);
  });
});
