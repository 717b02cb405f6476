#!/usr/bin/env -S node --max-semi-space-size=1
'use strict';
// SIGUSR1 would open Node's debugger on 127.0.0.1:9229 (code execution as our user): a listener disables that; the
// daemon's own handler (src/daemon/signals.ts) logs it once the logger exists.
process.on('SIGUSR1', () => {});
// The package bin: runs the compiled CLI (npm ci builds it; `npm run build` after a change).
// --max-semi-space-size=1 (MB; V8's default grows the young generation to 16 MB per semi-space): a smaller young
// generation saves the daemon about 30 MB of RSS at no measurable throughput cost (docs/performance.md, P6). V8 reads
// it only at start, so it is on the shebang line: it applies when this file is executed (/usr/bin/syncvisor, the
// container's syncvisor, npm's bin); `node bin/syncvisor.js` runs with V8's default.
// A CommonJS script (bin/package.json): an ES module entry point costs Node its ES module loader at every start
// (start-up, docs/performance.md); the ES module bundle and the module tree are still loaded with import().
const { existsSync, readFileSync, writeFileSync, renameSync } = require('node:fs');
const { createRequire } = require('node:module');
const { dirname, join } = require('node:path');
const { pathToFileURL } = require('node:url');
const vm = require('node:vm');

// `npm run build` also bundles the CLI into one file (scripts/bundle.mjs): faster to start. dist/syncvisor.cjs with
// its V8 code cache is used first (the cache spares most of the compile), then the ES module bundle
// dist/syncvisor.mjs, then the module tree dist/cli/main.js: when a file is absent, or when SYNCVISOR_NO_BUNDLE=1
// asks for the module tree.
const bundled = process.env.SYNCVISOR_NO_BUNDLE !== '1';
const dist = join(__dirname, '..', 'dist');
const script = join(dist, 'syncvisor.cjs');
const bundle = join(dist, 'syncvisor.mjs');
const modules = join(dist, 'cli', 'main.js');

let writeCache;

/** Runs dist/syncvisor.cjs in a vm.Script with V8's cached data when there is some (written by the build). */
function loadScript() {
  if (!bundled || !existsSync(script)) return undefined;
  const cacheFile = `${script}.cache`;
  const write = process.env.SYNCVISOR_WRITE_CODE_CACHE === '1';
  let cachedData;
  try {
    if (!write) cachedData = readFileSync(cacheFile);
  } catch {
    // no cache: compiled as usual
  }
  const source = `(function (exports, require, module, __filename, __dirname, __syncvisorImport) { ${readFileSync(script, 'utf8')}\n})`;
  const s = new vm.Script(source, {
    filename: script,
    cachedData,
  });
  const mod = { exports: {} };
  // The bundle's one dynamic import of a package (@statelyai/inspect, optional) is done here, by this script.
  const importer = (specifier) => import(specifier);
  s.runInThisContext().call(mod.exports, mod.exports, createRequire(script), mod, script, dirname(script), importer);
  // The cache holds every function compiled so far: written once the command has run (the build runs a daemon start
  // and stop for it, scripts/bundle.mjs), it spares the lazy compiles of a start too, not only the top level's.
  if (write)
    writeCache = () => {
      writeFileSync(`${cacheFile}.tmp`, s.createCachedData());
      renameSync(`${cacheFile}.tmp`, cacheFile);
    };
  return mod.exports;
}

async function run() {
  let cli = loadScript();
  if (cli === undefined) {
    const file = bundled && existsSync(bundle) ? bundle : modules;
    if (!existsSync(file)) {
      process.stderr.write(
        'syncvisor: dist/cli/main.js is missing: run `npm ci` (or `npm run build`) in the package first\n',
      );
      process.exit(1);
    }
    cli = await import(pathToFileURL(file).href);
  }
  const code = await cli.main(process.argv.slice(2));
  process.exitCode = code;
  writeCache?.();
  // Exit once stdout/stderr are flushed, even if a stray handle (a socket under drain) is still open.
  setImmediate(() => process.exit(code));
}

// A failure to load the CLI is an unhandled rejection: Node prints it and exits 1.
void run();
