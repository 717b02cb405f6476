// `npm run demo`: syncvisor with both services on a throw-away setup, and something to watch.
//
// As root it creates a network namespace with veth ports named EthernetN, runs the daemon inside it (`ip netns exec`,
// embedded Redis, state file, PTP socket and configs in a temporary directory), replays the sample PTP lines of
// deploy/demo/lines.txt into the socket and sends `CMD RESTART`, flaps one port now and then, and forwards the
// daemon's HTTP ports (which live on the namespace's loopback) to 127.0.0.1 on the host through Unix sockets.
// Without root it runs the daemon on the host's own links instead and says so.
//
// Ctrl-C, SIGTERM, SIGHUP or `--duration SECONDS` stops the daemon gracefully and removes everything the demo made;
// a second signal, an error or any other exit removes it at once. npm runs it as `node --import tsx` (no tsx parent
// process relaying signals).
//
//   npm run demo [-- --duration 30] [--http-port 9101] [--inspect-port 9102] [--no-inspect] [--ports 4] [--built]
//                [--services portsync,ptp]
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { stringify as toYaml } from 'yaml';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const demoData = join(root, 'deploy/demo');

const { values: opts } = parseArgs({
  options: {
    duration: { type: 'string' },
    'http-port': { type: 'string', default: '9101' },
    'inspect-port': { type: 'string', default: '9102' },
    'no-inspect': { type: 'boolean', default: false },
    services: { type: 'string', default: 'portsync,ptp' },
    ports: { type: 'string', default: '4' },
    built: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (opts.help) {
  const header = readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n');
  console.log(
    header
      .slice(
        0,
        header.findIndex((l) => !l.startsWith('//')),
      )
      .join('\n'),
  );
  process.exit(0);
}
const durationSecs = opts.duration === undefined ? undefined : Number(opts.duration);
const portCount = Math.max(2, Math.min(16, Number(opts.ports) || 4));
if (durationSecs !== undefined && !(durationSecs > 0)) {
  console.error(`demo: --duration wants a positive number of seconds, got ${opts.duration}`);
  process.exit(1);
}

const isRoot = process.getuid?.() === 0;

// Signals are caught from the first moment, so a Ctrl-C during set-up still removes what was made.
let stopReason: string | undefined;
let onStop = (reason: string): void => {
  stopReason ??= reason;
};
const say = (s: string): void => console.log(`demo: ${s}`);
// Every signal is handled, every time: a second Ctrl-C (or a relay that delivers it twice) must not kill the demo
// before its cleanup ran. The first one stops gracefully; a later one removes everything at once and exits.
let signals = 0;
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(sig, () => {
    if (signals++ === 0) return onStop(sig);
    say(`${sig} again: removing everything now`);
    process.exit(130); // the 'exit' handler below removes everything
  });
}
for (const ev of ['uncaughtException', 'unhandledRejection'] as const) {
  process.on(ev, (err) => {
    console.error(`demo: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(1);
  });
}

// --- everything we make, so cleanup can undo it whatever happened ------------------------------------------------
const made = {
  tmp: mkdtempSync(join(tmpdir(), 'syncvisor-demo-')),
  netns: undefined as string | undefined,
  children: [] as ChildProcess[],
  servers: [] as Server[],
  sockets: new Set<Socket>(),
};

function run(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 15_000 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${(r.stderr || r.error?.message || '').trim()}`);
}

/** Synchronous and idempotent: safe from 'exit' as well. */
function removeEverything(): void {
  for (const s of made.sockets) s.destroy();
  for (const s of made.servers) s.close();
  for (const c of made.children) if (c.exitCode === null && c.signalCode === null && c.pid) killGroup(c, 'SIGKILL');
  if (made.netns) {
    // Anything still running in our namespace (an orphaned redis-server if the daemon was killed) is ours.
    const pids = spawnSync('ip', ['netns', 'pids', made.netns], { encoding: 'utf8' }).stdout ?? '';
    for (const pid of pids.split(/\s+/).filter(Boolean)) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // already gone
      }
    }
    spawnSync('ip', ['netns', 'del', made.netns], { timeout: 15_000 });
    made.netns = undefined;
  }
  rmSync(made.tmp, { recursive: true, force: true });
}
process.on('exit', removeEverything);

function killGroup(c: ChildProcess, sig: NodeJS.Signals): void {
  try {
    process.kill(-c.pid!, sig); // detached: the child leads its own process group
  } catch {
    try {
      c.kill(sig);
    } catch {
      // already gone
    }
  }
}

// --- setup ----------------------------------------------------------------------------------------------------------
const paths = {
  config: join(made.tmp, 'syncvisor.yaml'),
  socket: join(made.tmp, 'events.sock'),
  ptpConfigDir: join(made.tmp, 'ptp'),
  profiles: join(made.tmp, 'profiles'),
  state: join(made.tmp, 'state', 'portsyncd.json'),
  runtime: join(made.tmp, 'run'),
  log: join(made.tmp, 'daemon.log'),
  httpBridge: join(made.tmp, 'http.bridge'),
  inspectBridge: join(made.tmp, 'inspect.bridge'),
};
const ports = Array.from({ length: portCount - (portCount % 2) }, (_, i) => `Ethernet${i * 4}`);
const inspect = !opts['no-inspect'];
const services = opts.services.split(',').map((x) => x.trim());
const withPtp = services.includes('ptp');

function writeFiles(httpListen: string, inspectPort: number): void {
  mkdirSync(paths.ptpConfigDir, { recursive: true });
  mkdirSync(paths.profiles, { recursive: true });
  mkdirSync(dirname(paths.state), { recursive: true });
  copyFileSync(join(demoData, 'ptp4l.0.config'), join(paths.ptpConfigDir, 'ptp4l.0.config'));
  copyFileSync(join(demoData, 'ptp4l.1.config'), join(paths.ptpConfigDir, 'ptp4l.1.config'));
  copyFileSync(join(demoData, 'node1.json'), join(paths.profiles, 'node1'));
  const config = {
    services,
    log: { level: 'info' },
    http: { listen: httpListen },
    redis: { runtimeDir: paths.runtime },
    warmRestart: { timeoutSecs: 5 },
    stateFile: { path: paths.state },
    ptp: { socketPath: paths.socket, configDir: paths.ptpConfigDir, profilePath: paths.profiles, nodeName: 'node1' },
    inspect: { enabled: inspect, port: inspectPort },
  };
  writeFileSync(paths.config, toYaml(config));
}

function createNamespace(): string {
  const name = `svdemo${process.pid}`;
  run('ip', ['netns', 'add', name]);
  made.netns = name;
  run('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
  for (let i = 0; i + 1 < ports.length; i += 2) {
    run('ip', ['-n', name, 'link', 'add', ports[i]!, 'type', 'veth', 'peer', 'name', ports[i + 1]!]);
  }
  // Most ports up (RUNNING once both ends are up); the last pair stays down to show admin/oper status.
  for (const p of ports.slice(0, Math.max(2, ports.length - 2))) run('ip', ['-n', name, 'link', 'set', p, 'up']);
  return name;
}

/** Runs src/cli/main.ts's main() as bin/syncvisor.js runs dist/cli/main.js's (`node -e CODE args…`: argv starts at 1). */
const sourceEntry = `
const { main } = await import(${JSON.stringify(pathToFileURL(join(root, 'src/cli/main.ts')).href)});
const code = await main(process.argv.slice(1));
process.exitCode = code;
setImmediate(() => process.exit(code));
`;

/** The daemon command line: the TypeScript sources through tsx, or the built package with --built. */
function daemonArgv(): string[] {
  const cli = opts.built
    ? [join(root, 'bin/syncvisor.js')]
    : ['--import', 'tsx', '--input-type=module', '-e', sourceEntry];
  return [process.execPath, ...cli, 'run', '--config', paths.config];
}

function startDaemon(netns: string | undefined): ChildProcess {
  const argv = daemonArgv();
  const full = netns ? ['ip', 'netns', 'exec', netns, ...argv] : argv;
  const log = openSync(paths.log, 'a');
  // detached: a terminal Ctrl-C reaches only the demo, which then sends exactly one SIGTERM (a second signal would
  // make the daemon exit at once without draining).
  const child = spawn(full[0]!, full.slice(1), { cwd: root, detached: true, stdio: ['ignore', log, log] });
  made.children.push(child);
  return child;
}

/**
 * Runs inside the namespace: accepts on Unix sockets in our temp dir and connects to the daemon's loopback ports.
 * Unix sockets are file-system objects, so the host side can reach them although the TCP ports are in the namespace.
 */
const bridgeSource = `
const net = require('node:net');
const pairs = JSON.parse(process.argv[1]);
for (const [path, port] of pairs) {
  net.createServer((c) => {
    const u = net.connect(port, '127.0.0.1');
    c.pipe(u); u.pipe(c);
    c.on('error', () => u.destroy()); u.on('error', () => c.destroy());
  }).listen(path);
}
process.on('SIGTERM', () => process.exit(0));
`;

function startBridge(netns: string, pairs: Array<[string, number]>): void {
  const child = spawn('ip', ['netns', 'exec', netns, process.execPath, '-e', bridgeSource, JSON.stringify(pairs)], {
    detached: true,
    stdio: 'ignore',
  });
  made.children.push(child);
}

/** Host side: 127.0.0.1:port → Unix socket. Falls back to a free port when the wanted one is taken. */
function listenForward(port: number, unixPath: string): Promise<number> {
  const server = createServer((c) => {
    made.sockets.add(c);
    const u = createConnection(unixPath);
    made.sockets.add(u);
    c.pipe(u);
    u.pipe(c);
    c.on('error', () => u.destroy());
    u.on('error', () => c.destroy());
    c.on('close', () => made.sockets.delete(c));
    u.on('close', () => made.sockets.delete(u));
  });
  made.servers.push(server);
  return listenOn(server, port);
}

function listenOn(server: Server, port: number): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      if (err.code === 'EADDRINUSE' && port !== 0) {
        say(`port ${port} is in use; taking a free one`);
        resolvePort(listenOn(server, 0));
      } else reject(err);
    };
    server.once('error', onError);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', onError);
      const a = server.address();
      resolvePort(typeof a === 'object' && a ? a.port : port);
    });
  });
}

async function freePort(wanted: number): Promise<number> {
  const s = createServer();
  const port = await listenOn(s, wanted);
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function httpOk(url: string): Promise<boolean> {
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(1_000) });
    return r.ok;
  } catch {
    return false;
  }
}

async function waitUntilUp(daemon: ChildProcess, healthUrl: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (stopReason) throw new Error(`${stopReason} during start-up`);
    if (daemon.exitCode !== null || daemon.signalCode !== null) {
      throw new Error(`the daemon exited during start-up (code ${daemon.exitCode ?? daemon.signalCode})`);
    }
    if ((!withPtp || existsSync(paths.socket)) && (await httpOk(healthUrl))) return;
    await sleep(200);
  }
  throw new Error(`the daemon did not come up within ${timeoutMs / 1000} s`);
}

// --- the replayer: sample PTP lines into the sidecar socket, then CMD RESTART ----------------------------------------
interface Replayer {
  stop(): void;
}

function startReplayer(netns: string | undefined): Replayer {
  const lines = readFileSync(join(demoData, 'lines.txt'), 'utf8').split('\n').filter(Boolean);
  let stopped = false;
  let conn: Socket | undefined;
  let round = 0;
  const loop = async (): Promise<void> => {
    while (!stopped) {
      conn = createConnection(paths.socket);
      made.sockets.add(conn);
      conn.on('error', () => undefined);
      await new Promise<void>((r) => {
        conn!.once('connect', () => r());
        conn!.once('error', () => r());
      });
      for (const line of lines) {
        if (stopped || conn.destroyed) break;
        conn.write(`${line}\n`);
        await sleep(250);
      }
      round++;
      if (!stopped && !conn.destroyed && round === 1) {
        conn.write('CMD RESTART\n');
        say('replayer: sent CMD RESTART (the ptp sidecar reloads its configuration; the socket stays open)');
      }
      if (netns && !stopped) {
        // A port flap each round: watch STATE_DB follow the kernel.
        const p = ports[0]!;
        spawnSync('ip', ['-n', netns, 'link', 'set', p, round % 2 ? 'down' : 'up']);
      }
      conn.end();
      made.sockets.delete(conn);
      await sleep(500);
    }
  };
  void loop();
  return {
    stop: () => {
      stopped = true;
      conn?.destroy();
    },
  };
}

// --- main -----------------------------------------------------------------------------------------------------------
async function main(): Promise<number> {
  let netns: string | undefined;
  let httpPort: number;
  let inspectPort: number;
  if (isRoot) {
    netns = createNamespace();
    say(`namespace: ${netns} with ports ${ports.join(', ')}`);
    // Inside the namespace the daemon has the loopback to itself: fixed ports, no clash with the host.
    writeFiles('127.0.0.1:9101', 9102);
    startBridge(netns, [
      [paths.httpBridge, 9101],
      ...(inspect ? ([[paths.inspectBridge, 9102]] as Array<[string, number]>) : []),
    ]);
    httpPort = await listenForward(Number(opts['http-port']), paths.httpBridge);
    inspectPort = inspect ? await listenForward(Number(opts['inspect-port']), paths.inspectBridge) : 0;
  } else {
    say("not root: no network namespace; portsync watches the host's own links (names matching");
    say('  ^(Ethernet|PortChannel)\\d+$ — usually none on a workstation) and ptp runs as usual');
    httpPort = await freePort(Number(opts['http-port']));
    inspectPort = inspect ? await freePort(Number(opts['inspect-port'])) : 0;
    writeFiles(`127.0.0.1:${httpPort}`, inspectPort);
  }
  say(`temp dir: ${made.tmp}`);

  const daemon = startDaemon(netns);
  const exited = new Promise<number>((r) => daemon.once('exit', (code, sig) => r(code ?? (sig ? 128 : 1))));
  const base = `http://127.0.0.1:${httpPort}`;
  try {
    await waitUntilUp(daemon, `${base}/healthz`, 60_000);
  } catch (err) {
    console.error(`demo: ${(err as Error).message}; the daemon's log:`);
    console.error(readFileSync(paths.log, 'utf8').split('\n').slice(-30).join('\n'));
    if (daemon.exitCode === null && daemon.signalCode === null) {
      killGroup(daemon, 'SIGTERM');
      await Promise.race([exited, sleep(15_000)]);
    }
    return 1;
  }
  const replayer = withPtp ? startReplayer(netns) : { stop: () => undefined };
  console.log(`
syncvisor is running (${services.join(' + ')}${services.includes('portsync') ? ', embedded Redis' : ''}).

  metrics     ${base}/metrics
  health      ${base}/healthz   ${base}/readyz${inspect ? `\n  inspector   http://127.0.0.1:${inspectPort}/` : ''}

Try:
  curl -s ${base}/metrics | grep openshift_ptp_
  redis-cli -s ${join(paths.runtime, 'redis.sock')} -n 6 keys 'PORT_TABLE|*'
  ${netns ? `ip -n ${netns} link set ${ports[0]} down    # then look at STATE_DB PORT_TABLE|${ports[0]} again\n  ` : ''}node ${join(root, 'bin/syncvisor.js')} ctl restart --socket ${paths.socket}    # after npm run build
  tail -f ${paths.log}    # the daemon's JSON log
${durationSecs ? `Stopping by itself after ${durationSecs} s.` : 'Ctrl-C stops it and removes everything the demo made.'}
`);

  const stopRequested = new Promise<string>((r) => {
    if (stopReason) r(stopReason);
    onStop = r;
    if (durationSecs) setTimeout(() => r(`${durationSecs} s elapsed`), durationSecs * 1000).unref();
  });
  const first = await Promise.race([stopRequested, exited.then((c) => c)]);
  replayer.stop();
  if (typeof first === 'number') {
    console.error(`demo: the daemon stopped by itself with code ${first}; the daemon's log:`);
    console.error(readFileSync(paths.log, 'utf8').split('\n').slice(-30).join('\n'));
    return 1;
  }
  say(`${first}: stopping the daemon (SIGTERM, graceful)`);
  killGroup(daemon, 'SIGTERM');
  const code = await Promise.race([exited, sleep(30_000).then(() => -1)]);
  if (code === -1) {
    say('the daemon did not stop within 30 s; killing it');
    killGroup(daemon, 'SIGKILL');
    return 1;
  }
  say(`daemon exited with code ${code}`);
  if (code !== 0) console.error(readFileSync(paths.log, 'utf8').split('\n').slice(-30).join('\n'));
  return code === 0 ? 0 : 1;
}

let exitCode = 1;
try {
  exitCode = await main();
} catch (err) {
  console.error(`demo: ${(err as Error).message}`);
} finally {
  const ns = made.netns;
  removeEverything();
  say(`removed ${ns ? `namespace ${ns}, ` : ''}${made.tmp} (socket, Redis, state file, logs)`);
}
process.exit(exitCode);
