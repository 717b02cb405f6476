// Bundles the compiled CLI (dist/cli/main.js, from `tsc`) and its dependencies into one file, dist/syncvisor.mjs,
// which bin/syncvisor.js loads when present: one file to read and compile instead of several hundred modules to
// resolve (start-up; docs/performance.md). Run by `npm run build` after tsc; plain JS so it needs no TypeScript loader.
//
// Paths stay right: every module of dist/ that uses import.meta.url (package.json for --version, the netlink addon
// in build/Release, the inspector assets) gets the URL it has in dist/ instead of the bundle's own, so the relative
// paths resolve exactly as they do from dist/. CommonJS dependencies get a `require` (createRequire) for Node's
// built-ins. @statelyai/inspect (only for --inspect=stately) stays a runtime import from node_modules.
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
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
  plugins: [distUrls('import.meta.url')],
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
  plugins: [distUrls("require('node:url').pathToFileURL(__filename)", '__syncvisorImport')],
  keepNames: true,
  legalComments: 'none',
  logLevel: 'warning',
});
// The cache is made by the launcher's own loader with the launcher's V8 flags (V8 rejects cached data made under
// other flags), after the bundle's top level has run. A missing or rejected cache only costs the compile.
const shebang = (await readFile(join(root, 'bin', 'syncvisor.js'), 'utf8')).split('\n')[0];
const flags = shebang
  .replace(/^#!\/usr\/bin\/env -S node\s*/, '')
  .split(/\s+/)
  .filter(Boolean);
const made = spawnSync(process.execPath, [...flags, join(root, 'bin', 'syncvisor.js'), '--version'], {
  env: { ...process.env, SYNCVISOR_WRITE_CODE_CACHE: '1' },
  stdio: ['ignore', 'ignore', 'inherit'],
  timeout: 120_000,
});
if (made.status !== 0) process.stderr.write('bundle: the code cache was not written (the launcher compiles instead)\n');
process.stderr.write(
  `bundle: ${relative(root, cjsfile)} and its code cache in ${(performance.now() - started).toFixed(0)} ms\n`,
);
