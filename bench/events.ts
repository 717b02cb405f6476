// P8: PTP events. One clock state change written to the real Unix socket → its lock-state notification delivered
// (204) to N consumer endpoints over loopback HTTP (line server → supervisor → ptp sidecar → clock statechart →
// events model → one delivery machine per consumer → POST), vs a plain loop that POSTs the same body to the same
// consumers one after another with the same HTTP client (what CEP's delivery loop does). Median ms per change.
import { createServer, type Server } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { postJson } from '../src/io/events/httpPost.js';
import { startBenchDaemon, stopBenchDaemon } from './daemon.js';
import { median, now, type Figure } from './measure.js';
import { connect } from './ptpIngest.js';
import { writeExampleConfig } from './ptpSetup.js';

interface Consumer {
  server: Server;
  url: string;
  count: number;
}

/** Resolves when the consumers together have received `n` POSTs (no polling: the last answer resolves it). */
let target = Number.POSITIVE_INFINITY;
let reached: () => void = () => {};
let received = 0;
const allReceived = (n: number): Promise<void> =>
  new Promise((r) => {
    target = n;
    reached = r;
    if (received >= target) r();
  });

async function consumer(): Promise<Consumer> {
  const c = { count: 0 } as Consumer;
  c.server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      c.count++;
      res.writeHead(204).end();
      if (++received >= target) reached();
    });
  });
  await new Promise<void>((r) => c.server.listen(0, '127.0.0.1', () => r()));
  c.url = `http://127.0.0.1:${(c.server.address() as AddressInfo).port}/event`;
  return c;
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export async function benchEvents(opts: { runs: number; consumers: number; changes: number }): Promise<Figure> {
  const root = await mkdtemp(join(tmpdir(), 'syncvisor-bench-events-'));
  const dirs = await writeExampleConfig(root);
  const port = await freePort();
  const socketPath = join(root, 'events.sock');
  const daemon = await startBenchDaemon({
    services: 'ptp',
    'ptp.socketPath': socketPath,
    'ptp.profilePath': dirs.profilePath,
    'ptp.configDir': dirs.configDir,
    'ptp.nodeName': dirs.nodeName,
    'events.listen': `127.0.0.1:${port}`,
    'events.storePath': join(root, 'store'),
  });
  const consumers = await Promise.all(Array.from({ length: opts.consumers }, () => consumer()));
  const figure: number[] = [];
  const ceiling: number[] = [];
  try {
    const api = `http://127.0.0.1:${port}/api/ocloudNotifications/v2/subscriptions`;
    for (const c of consumers) {
      for (let attempt = 0; ; attempt++) {
        const res = await fetch(api, {
          method: 'POST',
          body: JSON.stringify({
            ResourceAddress: '/cluster/node/node1/sync/ptp-status/lock-state',
            EndpointUri: c.url,
          }),
        }).catch(() => undefined);
        if (res?.status === 201) break;
        if (attempt > 200) throw new Error(`benchmark: subscribe failed (${res?.status})`);
        await new Promise((r) => setTimeout(r, 10));
      }
    }
    const sock = await connect(socketPath);
    let t = 100;
    const body =
      '{"specversion":"1.0","id":"x","source":"/sync/ptp-status/lock-state","type":"event.sync.ptp-status.ptp-state-change","time":"2026-12-01T08:53:50.154706176Z","data":{"version":"1.0","values":[]}}';
    for (let run = 0; run < opts.runs; run++) {
      // The daemon: each line flips the clock (LOCKED ↔ FREERUN), one lock-state event per consumer.
      const perChange: number[] = [];
      for (let i = 0; i < opts.changes; i++) {
        const done = allReceived(received + consumers.length);
        const offset = (run * opts.changes + i) % 2 === 0 ? -3 : 500;
        const t0 = now();
        sock.write(`ptp4l[${t++}.0]: [ptp4l.0.config] master offset ${offset} s2 freq -1 path delay 89\n`);
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          done,
          new Promise((_, reject) => {
            timer = setTimeout(() => reject(new Error('benchmark: deliveries timed out')), 30_000);
          }),
        ]);
        clearTimeout(timer);
        perChange.push(now() - t0);
      }
      figure.push(median(perChange));
      // The ceiling: the same body POSTed to the same consumers in a plain loop, one after another.
      const plain: number[] = [];
      for (let i = 0; i < opts.changes; i++) {
        const t0 = now();
        received -= consumers.length; // the consumers count these too
        for (const c of consumers) await postJson(c.url, body, 2_000);
        plain.push(now() - t0);
      }
      ceiling.push(median(plain));
    }
    sock.destroy();
  } finally {
    await stopBenchDaemon(daemon);
    for (const c of consumers) await new Promise<void>((r) => c.server.close(() => r()));
    await new Promise((r) => setTimeout(r, 200)); // a last store write may still be on its way
    await rm(root, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
  }
  const f = median(figure);
  const c = median(ceiling);
  return {
    id: opts.consumers === 1 ? 'P8a' : 'P8b',
    title: `events: state change → delivered to ${opts.consumers} consumer${opts.consumers === 1 ? '' : 's'}`,
    figure: f,
    unit: 'ms',
    ceiling: c,
    ceilingLabel: `plain sequential POST loop to the same ${opts.consumers}`,
    ratio: f / c,
    target:
      opts.consumers === 1 ? 'ratio ≤ 3 (one socket line + statechart + model on top of one POST)' : 'ratio ≤ 1.5',
    met: opts.consumers === 1 ? f / c <= 3 : f / c <= 1.5,
    runs: opts.runs,
    samples: { figure, ceiling },
    notes: [
      `A lock-state change written to the sidecar socket until ${opts.consumers === 1 ? 'the consumer' : `all ${opts.consumers} consumers`} answered 204; median of ${opts.changes} changes per run.`,
      'The ceiling POSTs the same kind of body with the same keep-alive HTTP client, one consumer after another (as CEP delivers).',
      'Deliveries run in parallel, one delivery machine per consumer; with many consumers the figure can beat the sequential loop.',
    ],
  };
}
