// A support script (memoryLoop.ts, saveLoop.ts, …) bundled with esbuild into one ESM file that plain `node` runs in a
// child process (no tsx loader in the measured or killed process). Modules that find files next to themselves through
// import.meta.url (the native addons in build/Release) keep their own file's URL, not the bundle's.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, type Plugin } from 'esbuild';

const ownImportMetaUrl: Plugin = {
  name: 'own-import-meta-url',
  setup(b) {
    b.onLoad({ filter: /[\\/]src[\\/].*\.ts$/ }, async (args) => {
      const source = await readFile(args.path, 'utf8');
      if (!source.includes('import.meta.url')) return undefined;
      return {
        contents: source.replaceAll('import.meta.url', JSON.stringify(pathToFileURL(args.path).href)),
        loader: 'ts',
      };
    });
  },
};

/** Bundles `support/NAME.ts` into `outDir/NAME.mjs` and returns that path. */
export async function bundleScript(name: string, outDir: string): Promise<string> {
  const outfile = join(outDir, `${name}.mjs`);
  await build({
    entryPoints: [join(import.meta.dirname, `${name}.ts`)],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile,
    logLevel: 'silent',
    plugins: [ownImportMetaUrl],
    // CommonJS dependencies (prom-client) require node builtins: give the ESM bundle a require.
    banner: {
      js: "import { createRequire as __bundleRequire } from 'node:module'; const require = __bundleRequire(import.meta.url);",
    },
  });
  return outfile;
}
