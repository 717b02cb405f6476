// The ptp service composed for real in the test process: ptpChildSpecs under the supervisor machine, as the daemon
// composes it, with a real Unix socket. For the integration tests that drive the sidecar over its socket and look at
// its actors and metrics directly (test/integration/ptp.*.test.ts).
import { createConnection, type Socket } from 'node:net';
import { existsSync } from 'node:fs';
import { createActor, type AnyActorRef } from 'xstate';
import type { Config } from '../../src/config/schema.js';
import type { MetricsHub } from '../../src/io/http/metricsHub.js';
import type { ChildSpec } from '../../src/machines/supervisor/spec.js';
import { silentLogger } from '../../src/io/log.js';
import { ptpChildSpecs, type PtpDeps } from '../../src/daemon/ptp.js';
import { supervisorMachine } from '../../src/machines/supervisor/supervisor.js';

export type PtpRoot = ReturnType<typeof createActor<typeof supervisorMachine>>;

/** Polls `f` every `stepMs` until it gives a truthy value (returned) or `ms` passed (throws, naming `what`). */
export async function until<T>(
  what: string,
  f: () => Promise<T | undefined | false> | T | undefined | false,
  ms = 8000,
  stepMs = 10,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

/** Starts the ptp service of `config` under the supervisor and waits until its socket exists. */
export async function startPtpService(
  config: Config,
  metrics: MetricsHub,
  opts: {
    shutdownTimeoutMs?: number;
    socketWaitMs?: number;
    /** Changes the composed child specs before they start (a test holding the real loader, say). */
    mapSpecs?: (specs: ChildSpec[]) => ChildSpec[];
    /** The line channel (the direct path; e.g. one with `enabled: false`: every line on the chart path). */
    lines?: PtpDeps['lines'];
    /** The events hook (sees each generation loaded and each clock change). */
    events?: PtpDeps['events'];
    recordSourceEvent?: PtpDeps['recordSourceEvent'];
  } = {},
): Promise<PtpRoot> {
  const specs = ptpChildSpecs({
    config,
    logger: silentLogger,
    metrics,
    ...(opts.lines ? { lines: opts.lines } : {}),
    ...(opts.events ? { events: opts.events } : {}),
    ...(opts.recordSourceEvent ? { recordSourceEvent: opts.recordSourceEvent } : {}),
  });
  const root = createActor(supervisorMachine, {
    systemId: 'supervisor',
    input: {
      children: opts.mapSpecs ? opts.mapSpecs(specs) : specs,
      maxRestarts: 3,
      periodMs: 60_000,
      backoff: { initialMs: 50, maxMs: 200, factor: 2 },
      shutdownTimeoutMs: opts.shutdownTimeoutMs ?? 2_000,
    },
  }).start();
  await until('the socket', () => existsSync(config.ptp.socketPath), opts.socketWaitMs ?? 8000);
  return root;
}

/** The sidecar actor of a running ptp service. */
export const sidecarOf = (root: PtpRoot): AnyActorRef => root.system.get('ptp') as AnyActorRef;

/** Shuts the service down as the daemon does (the supervisor's `shutdown`); stops it hard after `ms`. */
export async function stopPtpService(root: PtpRoot | undefined, ms = 5000): Promise<void> {
  if (!root) return;
  root.send({ type: 'shutdown' });
  await until('shutdown', () => root.getSnapshot().status === 'done', ms).catch(() => root.stop());
}

/** A client connection to the sidecar's Unix socket, as linuxptp-daemon opens it. */
export function connectUnix(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = createConnection(path, () => resolve(s));
    s.once('error', reject);
  });
}

/** The value of one exposition series (`name{labels}` exactly as printed), or undefined when it is absent. */
export function seriesValue(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}
