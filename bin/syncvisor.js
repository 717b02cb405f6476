#!/usr/bin/env -S node --max-semi-space-size=1
// SIGUSR1 would open Node's debugger on 127.0.0.1:9229 (code execution as our user): a listener disables that; the
// daemon's own handler (src/daemon/signals.ts) logs it once the logger exists.
process.on('SIGUSR1', () => {});
// The package bin: runs the compiled CLI (npm ci builds it; `npm run build` after a change).
// --max-semi-space-size=1 (MB; V8's default grows the young generation to 16 MB per semi-space): a smaller young
// generation saves the daemon about 30 MB of RSS at no measurable throughput cost (docs/performance.md, P6). V8 reads
// it only at start, so it is on the shebang line: it applies when this file is executed (/usr/bin/syncvisor, the
// container's syncvisor, npm's bin); `node bin/syncvisor.js` runs with V8's default.
import { existsSync } from 'node:fs';

// `npm run build` also bundles the CLI into one file (scripts/bundle.mjs): faster to start. dist/cli/main.js is the
// fallback when the bundle is absent, or when SYNCVISOR_NO_BUNDLE=1 asks for the module tree.
const bundle = new URL('../dist/syncvisor.mjs', import.meta.url);
const modules = new URL('../dist/cli/main.js', import.meta.url);
const cli = process.env.SYNCVISOR_NO_BUNDLE !== '1' && existsSync(bundle) ? bundle : modules;
if (!existsSync(cli)) {
  process.stderr.write(
    'syncvisor: dist/cli/main.js is missing: run `npm ci` (or `npm run build`) in the package first\n',
  );
  process.exit(1);
}
const { main } = await import(cli.href);
const code = await main(process.argv.slice(2));
process.exitCode = code;
// Exit once stdout/stderr are flushed, even if a stray handle (a socket under drain) is still open.
setImmediate(() => process.exit(code));
