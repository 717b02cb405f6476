#!/usr/bin/env node
// SIGUSR1 would open Node's debugger on 127.0.0.1:9229 (code execution as our user): a listener disables that; the
// daemon's own handler (src/daemon/signals.ts) logs it once the logger exists.
process.on('SIGUSR1', () => {});
// The package bin: runs the compiled CLI (npm ci builds it; `npm run build` after a change).
import { existsSync } from 'node:fs';

const cli = new URL('../dist/cli/main.js', import.meta.url);
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
