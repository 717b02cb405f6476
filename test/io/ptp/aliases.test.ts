// Port aliases and emit-logs against a real HTTP server on loopback standing in for linuxptp-daemon: answering, slow,
// absent, answering garbage. Asserts the alias map, the labels it gives, the cache, the retries, the quiet failure log
// (one line, then the counter) and the emit-logs coalescing.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino, type Logger } from 'pino';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { PortAliases, PortAliasSource, aliasLimits, parsePortAliases } from '../../../src/io/ptp/aliases.js';
import { DaemonCallLog, EmitLogsClient } from '../../../src/io/ptp/daemonApi.js';
import { PtpMetrics } from '../../../src/io/ptp/metrics.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

async function serve(handler: Handler): Promise<{ url: (path: string) => string; hits: string[] }> {
  const hits: string[] = [];
  const server = createServer((req, res) => {
    hits.push(req.url ?? '');
    handler(req, res);
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { url: (path) => `http://127.0.0.1:${port}${path}`, hits };
}

/** A port nothing listens on (bound, then closed). */
async function deadUrl(path: string): Promise<string> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return `http://127.0.0.1:${port}${path}`;
}

function capture(): { logger: Logger; logs: Array<{ level: number; msg: string; call?: string }> } {
  const logs: Array<{ level: number; msg: string; call?: string }> = [];
  const logger = pino({ level: 'debug' }, { write: (s: string) => void logs.push(JSON.parse(s)) });
  return { logger, logs };
}

const warnings = (logs: Array<{ level: number }>) => logs.filter((l) => l.level === 40);

async function count(registry: Registry, call: string, result: string): Promise<number> {
  const m = await registry.getSingleMetric('syncvisor_ptp_daemon_requests_total')!.get();
  return m.values.find((v) => v.labels['call'] === call && v.labels['result'] === result)?.value ?? 0;
}

const opts = { timeoutMs: 300, retries: 2, retryDelayMs: 20 };

describe('PortAliases', () => {
  it('labels an interface with its alias, itself when it has none, and never aliases CLOCK_REALTIME', () => {
    const a = new PortAliases({ ens2f0: 'ens2fx', ens2f1: 'ens2fx' });
    expect(a.of('ens2f0')).toBe('ens2fx');
    expect(a.of('ens2f1')).toBe('ens2fx');
    expect(a.of('ens3f0')).toBe('ens3f0');
    expect(a.of('CLOCK_REALTIME')).toBe('CLOCK_REALTIME');
  });

  it('bounds and validates what the daemon sends', () => {
    expect(() => parsePortAliases('not json')).toThrow(/not JSON/);
    expect(() => parsePortAliases('["ens1f0"]')).toThrow(/JSON object/);
    const { aliases, problems } = parsePortAliases(
      JSON.stringify({ ens1f0: 'ens1fx', bad: 7, 'has space': 'x', ens1f1: 'y'.repeat(65), CLOCK_REALTIME: 'x' }),
    );
    expect(aliases.toJSON()).toEqual({ ens1f0: 'ens1fx' });
    expect(problems).toHaveLength(4);
    const many = Object.fromEntries(Array.from({ length: aliasLimits.maxEntries + 5 }, (_, i) => [`e${i}`, `a${i}`]));
    const big = parsePortAliases(JSON.stringify(many));
    expect(big.aliases.size).toBe(aliasLimits.maxEntries);
    expect(big.problems.at(-1)).toMatch(/more than 1024/);
  });

  it('offsets, clock state and nmea status carry the alias; roles keep the real name', async () => {
    const m = new PtpMetrics('n1', new PortAliases({ ens2f0: 'ens2fx' }));
    m.offsets('master', 'ptp4l', 'ens2f0', -5, -5, 500, 89);
    m.setClockState('ptp4l', 'ens2f0', 'LOCKED');
    m.setNmeaStatus('ts2phc', 'ens2f0', 1);
    m.setRole('ptp4l', 'ens2f0', 'SLAVE');
    m.offsets('phc', 'phc2sys', 'CLOCK_REALTIME', 8, 8, 1, 2);
    const text = await m.text();
    expect(text).toContain('openshift_ptp_offset_ns{from="master",process="ptp4l",node="n1",iface="ens2fx"} -5');
    expect(text).toContain('openshift_ptp_delay_ns{from="master",process="ptp4l",node="n1",iface="ens2fx"} 89');
    expect(text).toContain('openshift_ptp_clock_state{process="ptp4l",node="n1",iface="ens2fx"} 1');
    expect(text).toContain('openshift_ptp_nmea_status{process="ts2phc",node="n1",iface="ens2fx"} 1');
    expect(text).toContain('openshift_ptp_interface_role{process="ptp4l",node="n1",iface="ens2f0"} 1');
    expect(text).toContain('iface="CLOCK_REALTIME"} 8');
    expect(text).not.toMatch(/offset_ns\{[^}]*iface="ens2f0"/);
  });
});

describe('PortAliasSource (GET /port-aliases)', () => {
  it('fetches the map at each refresh and keeps the last good one when the daemon stops answering well', async () => {
    let body = JSON.stringify({ ens1f0: 'ens1fx' });
    let status = 200;
    const d = await serve((_req, res) => res.writeHead(status, { 'content-type': 'application/json' }).end(body));
    const registry = new Registry();
    const { logger, logs } = capture();
    const problems: string[] = [];
    const src = new PortAliasSource(
      { url: d.url('/port-aliases'), ...opts },
      new DaemonCallLog(registry, logger),
      (p) => problems.push(p),
    );
    expect((await src.refresh()).of('ens1f0')).toBe('ens1fx');
    body = JSON.stringify({ ens1f0: 'ens1fy', ens1f1: 'ens1fy' });
    expect((await src.refresh()).toJSON()).toEqual({ ens1f0: 'ens1fy', ens1f1: 'ens1fy' });
    // A 500 three times (1 + 2 retries): the cached map.
    status = 500;
    const before = d.hits.length;
    expect((await src.refresh()).of('ens1f1')).toBe('ens1fy');
    expect(d.hits.length - before).toBe(3);
    // While it keeps failing: one attempt per refresh, no retry delays at every load.
    expect((await src.refresh()).of('ens1f1')).toBe('ens1fy');
    expect(d.hits.length - before).toBe(4);
    // Garbage: the cached map again.
    status = 200;
    body = '{"ens1f0": ';
    expect((await src.refresh()).of('ens1f0')).toBe('ens1fy');
    expect(await count(registry, 'portAliases', 'ok')).toBe(2);
    expect(await count(registry, 'portAliases', 'error')).toBe(3);
    // Three failures in a row: one warning only. Recovery: one info line.
    expect(warnings(logs)).toHaveLength(1);
    body = JSON.stringify({ ens1f0: 'ens1fz', 'bad name': 'x' });
    expect((await src.refresh()).of('ens1f0')).toBe('ens1fz');
    expect(logs.filter((l) => l.msg === 'linuxptp-daemon answers again')).toHaveLength(1);
    expect(problems).toHaveLength(1);
  });

  it('a body over the bound is an error, not a map', async () => {
    const d = await serve((_req, res) => res.writeHead(200).end(`{"a":"${'x'.repeat(aliasLimits.maxBodyBytes)}"}`));
    const registry = new Registry();
    const src = new PortAliasSource(
      { url: d.url('/port-aliases'), ...opts, retries: 0 },
      new DaemonCallLog(registry, pino({ level: 'silent' })),
    );
    expect((await src.refresh()).size).toBe(0);
    expect(await count(registry, 'portAliases', 'error')).toBe(1);
  });

  it('a slow daemon costs at most timeout × attempts, then the cached (empty) map', async () => {
    const d = await serve(() => {}); // never answers
    const registry = new Registry();
    const src = new PortAliasSource(
      { url: d.url('/port-aliases'), ...opts },
      new DaemonCallLog(registry, pino({ level: 'silent' })),
    );
    const t0 = performance.now();
    expect((await src.refresh()).size).toBe(0);
    const took = performance.now() - t0;
    expect(took).toBeGreaterThanOrEqual(3 * opts.timeoutMs - 50);
    expect(took).toBeLessThan(3 * opts.timeoutMs + 2 * opts.retryDelayMs + 2_000);
    expect(d.hits).toHaveLength(3);
  });

  it('no daemon: one warning with the cause, then only the counter; an empty URL makes no call', async () => {
    const registry = new Registry();
    const { logger, logs } = capture();
    const src = new PortAliasSource(
      { url: await deadUrl('/port-aliases'), ...opts },
      new DaemonCallLog(registry, logger),
    );
    for (let i = 0; i < 3; i++) expect((await src.refresh()).size).toBe(0);
    expect(warnings(logs)).toHaveLength(1);
    expect(JSON.stringify(warnings(logs)[0])).toContain('ECONNREFUSED');
    expect(await count(registry, 'portAliases', 'error')).toBe(3);
    const off = new PortAliasSource({ url: '', ...opts }, new DaemonCallLog(new Registry(), logger));
    expect((await off.refresh()).size).toBe(0);
  });
});

describe('EmitLogsClient (GET /emit-logs)', () => {
  it('accepts 200 and 204 (the daemon not ready yet), counts a 500 after its retries', async () => {
    let status = 200;
    const d = await serve((_req, res) => res.writeHead(status).end());
    const registry = new Registry();
    const c = new EmitLogsClient(
      { url: d.url('/emit-logs'), ...opts, coalesceMs: 0 },
      new DaemonCallLog(registry, pino({ level: 'silent' })),
    );
    await c.request('load');
    status = 204;
    await c.request('load');
    status = 500;
    await c.request('load');
    expect(d.hits).toHaveLength(5);
    await c.request('load'); // still failing: one attempt
    expect(d.hits).toHaveLength(6);
    expect(await count(registry, 'emitLogs', 'ok')).toBe(2);
    expect(await count(registry, 'emitLogs', 'error')).toBe(2);
  });

  it('coalesces: connections during a call or within coalesceMs after it make no call; a load during one makes one more', async () => {
    let release: () => void = () => {};
    const d = await serve((_req, res) => {
      release = () => res.writeHead(200).end();
    });
    let now = 0;
    const registry = new Registry();
    const c = new EmitLogsClient(
      { url: d.url('/emit-logs'), timeoutMs: 5_000, retries: 0, retryDelayMs: 0, coalesceMs: 1_000, now: () => now },
      new DaemonCallLog(registry, pino({ level: 'silent' })),
    );
    const first = c.request('connection');
    await expect.poll(() => d.hits.length).toBe(1);
    const during = [c.request('connection'), c.request('connection'), c.request('load'), c.request('load')];
    release();
    // The follow-up for the loads.
    await expect.poll(() => d.hits.length).toBe(2);
    release();
    await Promise.all([first, ...during]);
    expect(d.hits).toHaveLength(2);
    now += 500; // inside the window: covered
    await c.request('connection');
    expect(d.hits).toHaveLength(2);
    now += 600; // past it
    const later = c.request('connection');
    await expect.poll(() => d.hits.length).toBe(3);
    release();
    await later;
    expect(await count(registry, 'emitLogs', 'coalesced')).toBe(4);
    expect(await count(registry, 'emitLogs', 'ok')).toBe(3);
  });

  it('no daemon: never rejects, one warning, then the counter; close() aborts a call in flight', async () => {
    const registry = new Registry();
    const { logger, logs } = capture();
    const c = new EmitLogsClient(
      { url: await deadUrl('/emit-logs'), ...opts, coalesceMs: 0 },
      new DaemonCallLog(registry, logger),
    );
    for (let i = 0; i < 4; i++) await c.request('load');
    expect(warnings(logs)).toHaveLength(1);
    expect(await count(registry, 'emitLogs', 'error')).toBe(4);
    const d = await serve(() => {});
    const hung = new EmitLogsClient(
      { url: d.url('/emit-logs'), timeoutMs: 30_000, retries: 0, retryDelayMs: 0, coalesceMs: 0 },
      new DaemonCallLog(new Registry(), logger),
    );
    const p = hung.request('load');
    await expect.poll(() => d.hits.length).toBe(1);
    const t0 = performance.now();
    hung.close();
    await p;
    expect(performance.now() - t0).toBeLessThan(1_000);
  });
});
