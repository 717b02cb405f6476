// Bundles the compiled CLI (dist/cli/main.js, from `tsc`) and its dependencies into one file, dist/syncvisor.mjs,
// which bin/syncvisor.js loads when present: one file to read and compile instead of several hundred modules to
// resolve (start-up; docs/performance.md). Run by `npm run build` after tsc; plain JS so it needs no TypeScript loader.
//
// Paths stay right: every module of dist/ that uses import.meta.url (package.json for --version, the netlink addon
// in build/Release, the inspector assets) gets the URL it has in dist/ instead of the bundle's own, so the relative
// paths resolve exactly as they do from dist/. CommonJS dependencies get a `require` (createRequire) for Node's
// built-ins. @statelyai/inspect (only for --inspect=stately) stays a runtime import from node_modules.
import { build } from 'esbuild';
import { spawn, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, get } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const outfile = join(dist, 'syncvisor.mjs');
const cjsfile = join(dist, 'syncvisor.cjs');

/**
 * `base`: the expression of the bundle's own URL (import.meta.url in the ESM bundle). `importer`: what replaces the
 * dynamic import of an external package (a script run by vm.Script cannot use import() on Node 20 without
 * --experimental-vm-modules; the launcher passes its own).
 */
const distUrls = (base, importer) => ({
  name: 'dist-import-meta-url',
  setup(b) {
    b.onLoad({ filter: /\.js$/ }, async (args) => {
      // Only our own compiled modules (dependencies have dist/ folders of their own).
      if (!args.path.startsWith(dist + sep)) return undefined;
      let source = await readFile(args.path, 'utf8');
      if (importer) source = source.replaceAll("import('@statelyai/inspect')", `${importer}('@statelyai/inspect')`);
      if (!source.includes('import.meta.url')) return { contents: source, loader: 'js' };
      // The bundle sits in dist/: the module's own URL relative to it.
      const own = `./${relative(dist, args.path).split(sep).join('/')}`;
      return {
        contents: source.replaceAll('import.meta.url', `new URL(${JSON.stringify(own)}, ${base}).href`),
        loader: 'js',
      };
    });
  },
});

/** The build's environment for the training start, without systemd's notify and watchdog variables. */
function trainingEnv() {
  const env = { ...process.env, SYNCVISOR_WRITE_CODE_CACHE: '1' };
  for (const k of ['NOTIFY_SOCKET', 'WATCHDOG_USEC', 'WATCHDOG_PID']) delete env[k];
  return env;
}

/**
 * prom-client's index requires its Pushgateway (node:https, node:zlib and with them TLS) and its AggregatorRegistry
 * (the cluster module) when it is loaded; the daemon uses neither. In the bundle both are required on their first
 * access instead: the same exports, loaded when used, not at every start. When a prom-client release changes those
 * lines the bundle keeps them as they are (only slower to start) and says so.
 */
const lazyPromClientExtras = {
  name: 'lazy-prom-client-extras',
  setup(b) {
    b.onLoad({ filter: /[\\/]node_modules[\\/]prom-client[\\/]index\.js$/ }, async (args) => {
      let source = await readFile(args.path, 'utf8');
      for (const [name, module] of [
        ['Pushgateway', './lib/pushgateway'],
        ['AggregatorRegistry', './lib/cluster'],
      ]) {
        const eager = `exports.${name} = require('${module}');`;
        if (!source.includes(eager)) {
          process.stderr.write(`bundle: prom-client's index has no "${eager}": left as it is\n`);
          continue;
        }
        source = source.replace(
          eager,
          `Object.defineProperty(exports, '${name}', { enumerable: true, get: () => require('${module}') });`,
        );
      }
      return { contents: source, loader: 'js' };
    });
  },
};

/** Resolves with a free loopback TCP port (closed again; the daemon binds it a moment later). */
function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** The status code of a GET (0 when refused or timed out). */
function status(url) {
  return new Promise((resolve) => {
    const req = get(url, { timeout: 1_000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', () => resolve(0));
    req.on('timeout', () => req.destroy());
  });
}

/**
 * Runs the bundled daemon once, as the shipped command starts it, with SYNCVISOR_WRITE_CODE_CACHE=1: ptp (with a
 * stand-in linuxptp-daemon on loopback answering as the real one does) and, when redis-server is on the PATH,
 * portsync with its private embedded Redis, everything in a temporary directory, the HTTP and events API on free
 * loopback ports. Once /readyz answers 200 and /metrics was read, SIGTERM; the launcher writes the cache on its way
 * out. portsync only reads the links of this namespace (link rules off: it sets no link down) and writes to its
 * private Redis, which goes with the directory. Resolves true when the cache was written.
 */
async function trainingStart(flags) {
  const dir = await mkdtemp(join(tmpdir(), 'syncvisor-code-cache-'));
  const linuxptpDaemon = createServer((req, res) => {
    const aliases = req.url === '/port-aliases';
    res.writeHead(aliases || req.url === '/emit-logs' ? 200 : 404, { 'content-type': 'application/json' });
    res.end(aliases ? '{}' : '');
  });
  let child;
  try {
    await new Promise((r) => linuxptpDaemon.listen(0, '127.0.0.1', r));
    const daemonUrl = `http://127.0.0.1:${linuxptpDaemon.address().port}`;
    const [httpPort, eventsPort] = [await freePort(), await freePort()];
    await mkdir(join(dir, 'profiles'));
    await mkdir(join(dir, 'conf'));
    const redis = spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
    const set = [
      `ptp.socketPath=${join(dir, 'events.sock')}`,
      `ptp.profilePath=${join(dir, 'profiles')}`,
      `ptp.configDir=${join(dir, 'conf')}`,
      `ptp.portAliasesUrl=${daemonUrl}/port-aliases`,
      `ptp.emitLogsUrl=${daemonUrl}/emit-logs`,
      `events.listen=127.0.0.1:${eventsPort}`,
      `events.storePath=${join(dir, 'events')}`,
      `redis.runtimeDir=${join(dir, 'redis')}`,
      `stateFile.path=${join(dir, 'state', 'portsyncd.json')}`,
      'sonic.linkRules=off',
    ];
    const args = ['run', '--services', redis ? 'portsync,ptp' : 'ptp', '--http', `127.0.0.1:${httpPort}`];
    for (const kv of set) args.push('--set', kv);
    args.push('--log-level', 'error');
    child = spawn(process.execPath, [...flags, join(root, 'bin', 'syncvisor.js'), ...args], {
      env: trainingEnv(),
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const exited = new Promise((r) => child.once('exit', (code) => r(code)));
    const end = Date.now() + 30_000;
    while ((await status(`http://127.0.0.1:${httpPort}/readyz`)) !== 200) {
      if (child.exitCode !== null) throw new Error(`the daemon exited with ${child.exitCode}`);
      if (Date.now() > end) throw new Error('no /readyz 200 within 30 s');
      await new Promise((r) => setTimeout(r, 20));
    }
    await status(`http://127.0.0.1:${httpPort}/metrics`);
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    const code = await exited;
    clearTimeout(timer);
    if (code !== 0) throw new Error(`the daemon stopped with ${code}`);
    return true;
  } finally {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    linuxptpDaemon.close();
    await rm(dir, { recursive: true, force: true });
  }
}

const started = performance.now();
await build({
  entryPoints: [join(dist, 'cli', 'main.js')],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['@statelyai/inspect'],
  banner: {
    js: "import { createRequire as __syncvisorRequire } from 'node:module';\nconst require = __syncvisorRequire(import.meta.url);",
  },
  plugins: [distUrls('import.meta.url'), lazyPromClientExtras],
  // Function names are data here: the charts name guards (`and`, `or`, `not`) and named inline actions by them, so a
  // machine's version (a hash of its chart, carried in traces) must be the same bundled or not.
  keepNames: true,
  legalComments: 'none',
  logLevel: 'warning',
});
process.stderr.write(`bundle: ${relative(root, outfile)} in ${(performance.now() - started).toFixed(0)} ms\n`);

// The same bundle as one CommonJS script, for V8's code cache: Node 20 can hand V8 cached data only for a script
// (vm.Script), not for an ES module. bin/syncvisor.js runs it in a vm.Script with dist/syncvisor.cjs.cache, which
// spares V8 most of compiling the 2.5 MB bundle at every start (docs/performance.md, start-up). Strict mode, as the
// ES module bundle runs; its own URL is that of its file (the __filename the launcher gives it).
const cacheFile = `${cjsfile}.cache`;
await rm(cacheFile, { force: true });
await build({
  entryPoints: [join(dist, 'cli', 'main.js')],
  outfile: cjsfile,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  external: ['@statelyai/inspect'],
  banner: { js: '"use strict";' },
  plugins: [distUrls("require('node:url').pathToFileURL(__filename)", '__syncvisorImport'), lazyPromClientExtras],
  keepNames: true,
  legalComments: 'none',
  logLevel: 'warning',
});
// The cache is made by the launcher's own loader with the launcher's V8 flags (V8 rejects cached data made under
// other flags), after the command has run: it then holds every function compiled so far. A start and stop of the
// daemon (trainingStart) puts the functions of a start in it, which a cache of the top level alone leaves to V8's
// lazy compiles at every start; when that run fails, `--version` writes the top level's. A missing or rejected cache
// only costs the compile.
const shebang = (await readFile(join(root, 'bin', 'syncvisor.js'), 'utf8')).split('\n')[0];
const flags = shebang
  .replace(/^#!\/usr\/bin\/env -S node\s*/, '')
  .split(/\s+/)
  .filter(Boolean);
const trained = await trainingStart(flags).catch((err) => {
  process.stderr.write(`bundle: the start for the code cache failed (${err.message}); caching the top level only\n`);
  return false;
});
if (!trained) {
  const made = spawnSync(process.execPath, [...flags, join(root, 'bin', 'syncvisor.js'), '--version'], {
    env: { ...process.env, SYNCVISOR_WRITE_CODE_CACHE: '1' },
    stdio: ['ignore', 'ignore', 'inherit'],
    timeout: 120_000,
  });
  if (made.status !== 0)
    process.stderr.write('bundle: the code cache was not written (the launcher compiles instead)\n');
}
process.stderr.write(
  `bundle: ${relative(root, cjsfile)} and its code cache in ${(performance.now() - started).toFixed(0)} ms\n`,
);
