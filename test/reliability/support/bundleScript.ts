// A support script (memoryLoop.ts, saveLoop.ts, …) bundled with esbuild into one ESM file that plain `node` runs in a
// child process (no tsx loader in the measured or killed process).
import { join } from 'node:path';
import { build } from 'esbuild';

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
    // CommonJS dependencies (prom-client) require node builtins: give the ESM bundle a require.
    banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
  });
  return outfile;
}
