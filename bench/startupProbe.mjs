// Start-up probe, plain JS (no TypeScript loader in the measured path), run by bench/startup.ts inside a private
// network namespace under `ip netns exec` (the daemon's portsync sees only that namespace's lo; its HTTP port is
// private to the namespace). Spawns `node FLAGS bin/syncvisor.js run …` (FLAGS: those of its shebang) and polls http://127.0.0.1:PORT/<path> every 2 ms
// until it answers 200: spawn → answer in ms. Also times `node -e 0` (spawn → exit) the same way.
// Usage: node bench/startupProbe.mjs <runs> <spec.json>; prints one JSON line {node: [ms…], cases: {name: [ms…]}}.
// linuxptp-daemon runs beside the sidecar (the same pod): a stand-in on its default address (127.0.0.1:8081 in the
// namespace) answers /port-aliases with an empty map and /emit-logs with 200, as the real one does, so that a start
// is not measured waiting out the retries of a daemon that is absent.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, get } from 'node:http';

const runs = Number(process.argv[2]);
const spec = JSON.parse(readFileSync(process.argv[3], 'utf8'));
const timeoutMs = 20_000;
// The V8 flags of the shipped command: bin/syncvisor.js's shebang (`#!/usr/bin/env -S node FLAGS…`).
const shebang = /^#!\/usr\/bin\/env -S node(.*)$/.exec(readFileSync('bin/syncvisor.js', 'utf8').split('\n')[0]);
const binFlags = shebang
  ? shebang[1]
      .trim()
      .split(/\s+/)
      .filter((f) => f !== '')
  : [];

function status(url) {
  return new Promise((resolve) => {
    const req = get(url, { timeout: 200 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', () => resolve(0));
    req.on('timeout', () => req.destroy());
  });
}

function nodeE0() {
  return new Promise((resolve, reject) => {
    const t = performance.now();
    const c = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
    c.once('exit', (code) => (code === 0 ? resolve(performance.now() - t) : reject(new Error('node -e 0 failed'))));
  });
}

async function once(c) {
  const t = performance.now();
  const child = spawn(process.execPath, [...binFlags, 'bin/syncvisor.js', 'run', ...c.args], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, ...c.env },
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr = (stderr + d).slice(-4000)));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  try {
    for (;;) {
      if ((await status(`http://127.0.0.1:${c.port}${c.path}`)) === 200) return performance.now() - t;
      if (child.exitCode !== null) throw new Error(`the daemon exited (${child.exitCode}): ${stderr}`);
      if (performance.now() - t > timeoutMs) throw new Error(`no 200 from ${c.path} within ${timeoutMs} ms: ${stderr}`);
      await new Promise((r) => setTimeout(r, 2));
    }
  } finally {
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  }
}

const linuxptpDaemon = createServer((req, res) => {
  const aliases = req.url === '/port-aliases';
  res.writeHead(aliases || req.url === '/emit-logs' ? 200 : 404, { 'content-type': 'application/json' });
  res.end(aliases ? '{}' : '');
});
await new Promise((resolve) => linuxptpDaemon.listen(8081, '127.0.0.1', resolve));

const out = { node: [], cases: {} };
for (const c of spec) out.cases[c.name] = [];
await nodeE0(); // warm the page cache
for (const c of spec) await once(c);
for (let i = 0; i < runs; i++) {
  out.node.push(await nodeE0());
  for (const c of spec) out.cases[c.name].push(await once(c));
}
linuxptpDaemon.closeAllConnections();
linuxptpDaemon.close();
process.stdout.write(`${JSON.stringify(out)}\n`);
