import { Counter } from 'prom-client';
import { afterAll, describe, expect, it } from 'vitest';
import { MetricsHub } from '../../../src/io/http/metricsHub.js';
import { startHttpServer, type HealthStatus } from '../../../src/io/http/server.js';
import { Registry, Gauge } from 'prom-client';

describe('http server (real port)', async () => {
  const hub = new MetricsHub();
  new Counter({ name: 'syncvisor_test_total', help: 'x', registers: [hub.global] }).inc(3);
  let generation: Registry | undefined = new Registry();
  new Gauge({ name: 'openshift_ptp_offset_ns', help: 'x', registers: [generation] }).set(-5);
  hub.attach(() => generation);
  let status: HealthStatus = { live: true, ready: false, detail: { ptp: { ready: false } } };
  const server = await startHttpServer({ listen: '127.0.0.1:0', metrics: hub, status: () => status });
  const base = `http://${server.address}`;
  afterAll(() => server.close());

  it('binds where it is told (loopback here) and reports the port', () => {
    expect(server.address).toMatch(/^127\.0\.0\.1:\d+$/);
  });

  it('/metrics has process defaults, global and attached registries', async () => {
    const res = await fetch(`${base}/metrics`);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toContain('process_cpu_user_seconds_total');
    expect(text).toContain('syncvisor_test_total 3');
    expect(text).toContain('openshift_ptp_offset_ns -5');
    generation = undefined; // the registry of a stopped generation is gone from the page
    expect(await (await fetch(`${base}/metrics`)).text()).not.toContain('openshift_ptp_offset_ns');
  });

  it('/healthz follows liveness, /readyz readiness', async () => {
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const notReady = await fetch(`${base}/readyz`);
    expect(notReady.status).toBe(503);
    expect(await notReady.json()).toMatchObject({ status: 'unavailable', detail: { ptp: { ready: false } } });
    status = { ...status, ready: true };
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    status = { live: false, ready: true, detail: {} };
    expect((await fetch(`${base}/healthz`)).status).toBe(503);
    expect((await fetch(`${base}/readyz`)).status).toBe(503);
  });

  it('answers 404 elsewhere and 405 for other methods', async () => {
    expect((await fetch(`${base}/nope`)).status).toBe(404);
    expect((await fetch(`${base}/metrics`, { method: 'POST' })).status).toBe(405);
  });
});
