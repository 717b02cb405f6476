// The process edge: arguments, configuration, exit codes. `syncvisor run | ctl restart | replay`.
import { readFileSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { loadConfig } from '../config/load.js';
import { checkWritable } from '../config/paths.js';
import { describeError, UsageError } from './errors.js';
import { createLogger } from '../io/log.js';
import { sendCommand } from '../io/socket/sendCommand.js';
import { exitCodes } from '../machines/supervisor/spec.js';
import type { Config } from '../config/schema.js';
import type { EmbeddedRedis } from '../io/redis/embedded.js';
import type { Logger } from '../io/log.js';
import { spawnEmbeddedRedis, stopEmbeddedRedis, stopEmbeddedRedisOnSignal } from '../daemon/embeddedStart.js';

const version = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

const usage = {
  main: `syncvisor ${version} — an actor-model supervisor for portsync (netlink → SONiC Redis) and a PTP sidecar

Usage:
  syncvisor run [options]           run the daemon (see: syncvisor run --help)
  syncvisor ctl restart [--socket]  ask the PTP sidecar to restart (CMD RESTART)
  syncvisor ctl subscriptions       list the PTP event subscriptions (O-RAN events API)
  syncvisor replay FILE [options]   re-run a recorded trace on a simulated clock
  syncvisor --version | --help

Docs: README.md, docs/configuration.md (every key), docs/operations.md (exit codes, signals).
`,
  run: `Usage: syncvisor run [options]

Runs the supervisor with the enabled services until SIGTERM/SIGINT.

Options:
  --config FILE          JSON or YAML configuration (keys as in docs/configuration.md)
  --services LIST        comma-separated: portsync,ptp (default both)
  --redis URL|SOCKET     redis://host:port or a Unix socket path; default: start a private redis-server
  --http HOST:PORT       /metrics /healthz /readyz address (default 127.0.0.1:9101)
  --log-level LEVEL      trace|debug|info|warn|error|fatal|silent
  --log-format FORMAT    json|pretty|auto (default auto: pretty on a terminal, JSON otherwise); logs go to stderr
  --inspect              serve the local inspector page on 127.0.0.1
  --inspect-port N       its port (default 9102; 0 picks a free one)
  --stately-inspect      also attach the Stately inspector (@statelyai/inspect)
  --trace FILE           record every event entering the actor system as JSONL
  --set KEY=VALUE        set any configuration key (repeatable), e.g. --set ptp.socketPath=/tmp/ptp.sock
  -h, --help             this text

Precedence: defaults < --config file < environment (SYNCVISOR_*, PORTSYNCD_*, PTP_PROFILE_PATH, NODE_NAME) < flags.
Exit codes: 0 clean shutdown, 1 usage, 2 invalid configuration, 70 a child exceeded its restart intensity,
75 ptp.restart.mode=process restart requested.
`,
  ctl: `Usage: syncvisor ctl restart [--socket PATH]
       syncvisor ctl subscriptions [--api HOST:PORT] [--json]

restart: connects to the PTP sidecar socket, writes "CMD RESTART\\n" and closes. The sidecar re-reads its
configuration while its listener and every connection stay open.
subscriptions: lists the subscriptions of the events API (GET /api/ocloudNotifications/v2/subscriptions), one per
line: id, resource address, endpoint.

Options:
  --socket PATH    sidecar socket (default: ptp.socketPath of the configuration, /cloud-native/events.sock)
  --api HOST:PORT  events API address (default: events.listen of the configuration, 127.0.0.1:9043)
  --json           print the API's JSON as it is
  --config FILE    read ptp.socketPath / events.listen from this configuration
  -h, --help       this text
`,
};

type Values = Record<string, string | boolean | string[] | undefined>;

function parse(
  args: string[],
  options: ParseArgsConfig['options'],
  allowPositionals = false,
): { values: Values; positionals: string[] } {
  try {
    return parseArgs({
      args,
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      allowPositionals,
      strict: true,
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

async function runCommand(args: string[]): Promise<number> {
  const { values } = parse(args, {
    config: { type: 'string' },
    services: { type: 'string' },
    redis: { type: 'string' },
    http: { type: 'string' },
    'log-level': { type: 'string' },
    'log-format': { type: 'string' },
    inspect: { type: 'boolean' },
    'inspect-port': { type: 'string' },
    'stately-inspect': { type: 'boolean' },
    trace: { type: 'string' },
    set: { type: 'string', multiple: true },
  });
  if (values.help) {
    process.stdout.write(usage.run);
    return exitCodes.ok;
  }
  const flags: Record<string, string> = {};
  for (const kv of (values.set as string[] | undefined) ?? []) {
    const i = kv.indexOf('=');
    if (i <= 0) throw new UsageError(`--set expects KEY=VALUE, got "${kv}"`);
    flags[kv.slice(0, i)] = kv.slice(i + 1);
  }
  const flagKeys: Record<string, string> = {
    services: 'services',
    redis: 'redis.url',
    http: 'http.listen',
    'log-level': 'log.level',
    'log-format': 'log.format',
    'inspect-port': 'inspect.port',
    trace: 'trace.path',
  };
  for (const [flag, key] of Object.entries(flagKeys)) {
    const v = values[flag];
    if (typeof v === 'string') flags[key] = v;
  }
  if (values.inspect) flags['inspect.enabled'] = 'true';
  if (values['stately-inspect']) flags['inspect.stately'] = 'true';
  const config = loadConfig({ file: values.config as string | undefined, env: process.env, flags });
  checkWritable(config);
  const logger = createLogger({ level: config.log.level, format: config.log.format });
  logger.info(
    {
      services: config.services,
      ...(config.services.includes('portsync') ? { stateFile: config.stateFile.path } : {}),
      ...(config.services.includes('portsync') && !config.redis.url ? { redisDir: config.redis.runtimeDir } : {}),
      ...(config.services.includes('ptp') ? { ptpSocket: config.ptp.socketPath } : {}),
    },
    `syncvisor ${version} starting`,
  );
  // Read (and removed from the environment) before any child such as redis-server is spawned.
  const { notifierFromEnv } = await import('../io/notify/sdNotify.js');
  const notifier = notifierFromEnv(process.env);
  // The embedded redis-server is spawned as soon as its settings are known: it comes up while the daemon's modules
  // load and the tree is built. Stopped here if the start fails before startDaemon owns it.
  const embedded = await spawnEmbeddedRedis(config);
  const unguard = embedded ? stopEmbeddedRedisOnSignal(embedded) : undefined;
  const { daemon, inspection, healthOf } = await startWithInspectors(config, logger, embedded?.server)
    .catch(async (err: unknown) => {
      await stopEmbeddedRedis(embedded?.server);
      throw err;
    })
    .finally(() => unguard?.());
  inspection.started(daemon.root);
  const { attachLogMetrics } = await import('../daemon/logMetrics.js');
  attachLogMetrics(daemon.metrics, logger);
  if (notifier) {
    const { attachSystemdNotify } = await import('../daemon/notify.js');
    attachSystemdNotify({ root: daemon.root, notifier, health: () => healthOf(daemon.root), logger });
  }
  const code = await daemon.done;
  await inspection.stop();
  logger.flush();
  return code;
}

/** Loads the daemon's modules, attaches the inspectors and starts the daemon (which owns `embeddedRedis` then). */
async function startWithInspectors(config: Config, logger: Logger, embeddedRedis: Promise<EmbeddedRedis> | undefined) {
  const { startDaemon, healthOf } = await import('../daemon/main.js');
  const { attachInspectors } = await import('../actors/observe/inspection.js');
  const inspection = await attachInspectors(config, logger);
  const daemon = await startDaemon({
    config,
    logger,
    handleSignals: true,
    inspectors: inspection.inspectors,
    ...(inspection.recordSourceEvent ? { recordSourceEvent: inspection.recordSourceEvent } : {}),
    ...(embeddedRedis ? { embeddedRedis } : {}),
  });
  return { daemon, inspection, healthOf };
}

async function ctlCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(
    args,
    { socket: { type: 'string' }, config: { type: 'string' }, api: { type: 'string' }, json: { type: 'boolean' } },
    true,
  );
  if (values.help || positionals.length === 0) {
    process.stdout.write(usage.ctl);
    return values.help ? exitCodes.ok : exitCodes.usage;
  }
  if (positionals[0] === 'subscriptions' && positionals.length === 1) {
    const api =
      (values.api as string | undefined) ??
      loadConfig({ file: values.config as string | undefined, env: process.env }).events.listen;
    return listSubscriptions(api, values.json === true);
  }
  if (positionals[0] !== 'restart' || positionals.length > 1)
    throw new UsageError(`unknown ctl command "${positionals.join(' ')}" (known: restart, subscriptions)`);
  const socket =
    (values.socket as string | undefined) ??
    loadConfig({ file: values.config as string | undefined, env: process.env }).ptp.socketPath;
  try {
    await sendCommand(socket, 'RESTART');
  } catch (err) {
    process.stderr.write(`syncvisor ctl restart: ${(err as Error).message}\n`);
    return exitCodes.unavailable;
  }
  return exitCodes.ok;
}

async function listSubscriptions(api: string, json: boolean): Promise<number> {
  const url = `http://${api}/api/ocloudNotifications/v2/subscriptions`;
  let text: string;
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
    text = await res.text();
    if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
  } catch (err) {
    process.stderr.write(`syncvisor ctl subscriptions: ${url}: ${(err as Error).message}\n`);
    return 1;
  }
  if (json) {
    process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
    return exitCodes.ok;
  }
  const subs = (JSON.parse(text) ?? []) as Array<Record<string, string>>;
  if (subs.length === 0) process.stdout.write('no subscriptions\n');
  for (const s of subs) process.stdout.write(`${s.SubscriptionId}  ${s.ResourceAddress}  ${s.EndpointUri}\n`);
  return exitCodes.ok;
}

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    switch (cmd) {
      case 'run':
        return await runCommand(rest);
      case 'ctl':
        return await ctlCommand(rest);
      case 'replay': {
        const { replayCommand } = await import('./replay.js');
        return await replayCommand(rest);
      }
      case '--version':
      case '-V':
        process.stdout.write(`${version}\n`);
        return exitCodes.ok;
      case undefined:
      case '--help':
      case '-h':
      case 'help':
        process.stdout.write(usage.main);
        return cmd === undefined ? exitCodes.usage : exitCodes.ok;
      default:
        throw new UsageError(`unknown command "${cmd}"`);
    }
  } catch (err) {
    const { code, message } = describeError(err, cmd && cmd !== '--help' ? cmd : undefined);
    process.stderr.write(`${message}\n`);
    return code;
  }
}
