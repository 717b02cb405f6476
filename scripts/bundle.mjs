// Bundles the compiled CLI (dist/cli/main.js, from `tsc`) and its dependencies into one file, dist/syncvisor.mjs,
// which bin/syncvisor.js loads when present: one file to read and compile instead of several hundred modules to
// resolve (start-up; docs/performance.md). Run by `npm run build` after tsc; plain JS so it needs no TypeScript loader.
//
// Paths stay right: every module of dist/ that uses import.meta.url (package.json for --version, the netlink addon
// in build/Release, the inspector assets) gets the URL it has in dist/ instead of the bundle's own, so the relative
// paths resolve exactly as they do from dist/. CommonJS dependencies get a `require` (createRequire) for Node's
// built-ins. @statelyai/inspect (only for --inspect=stately) stays a runtime import from node_modules.
import { build } from 'esbuild';
import { readFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const outfile = join(dist, 'syncvisor.mjs');

const distUrls = {
  name: 'dist-import-meta-url',
  setup(b) {
    b.onLoad({ filter: /\.js$/ }, async (args) => {
      // Only our own compiled modules (dependencies have dist/ folders of their own).
      if (!args.path.startsWith(dist + sep)) return undefined;
      const source = await readFile(args.path, 'utf8');
      if (!source.includes('import.meta.url')) return { contents: source, loader: 'js' };
      // The bundle sits in dist/: the module's own URL relative to it.
      const own = `./${relative(dist, args.path).split(sep).join('/')}`;
      return {
        contents: source.replaceAll('import.meta.url', `new URL(${JSON.stringify(own)}, import.meta.url).href`),
        loader: 'js',
      };
    });
  },
};

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
  plugins: [distUrls],
  // Function names are data here: the charts name guards (`and`, `or`, `not`) and named inline actions by them, so a
  // machine's version (a hash of its chart, carried in traces) must be the same bundled or not.
  keepNames: true,
  legalComments: 'none',
  logLevel: 'warning',
});
process.stderr.write(`bundle: ${relative(root, outfile)} in ${(performance.now() - started).toFixed(0)} ms\n`);
