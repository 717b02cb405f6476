// --log-format auto on the real binary: readable lines when stderr is a terminal (a real pty from util-linux
// `script`), JSON lines with string level names when it is a pipe; --log-format json wins on a terminal too. A
// failed exit (70) is logged at error, with its reason.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { binPath, ptpServiceArgs, spawnSyncvisor } from '../support/spawnDaemon.js';

const dir = mkdtempSync(join(tmpdir(), 'syncvisor-logfmt-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const runArgs = (sock: string): string[] => [
  'run',
  ...ptpServiceArgs({ socketPath: join(dir, sock), profilePath: dir }),
];

/** Runs the daemon on a pseudo-terminal until its PTP socket listens, and returns what the terminal showed. */
function onTerminal(extra: string[], sock: string): string {
  const cmd = [process.execPath, binPath, ...runArgs(sock), ...extra].map((a) => `'${a}'`).join(' ');
  // Stop once the socket exists (bounded: 20 s), so the "listening" line is on the terminal.
  const wait = `for i in $(seq 200); do [ -S '${join(dir, sock)}' ] && break; sleep 0.1; done; sleep 0.3`;
  const r = spawnSync('script', ['-qfec', `${cmd} & ${wait}; kill -TERM $!; wait`, '/dev/null'], {
    encoding: 'utf8',
    timeout: 30_000,
    env: { ...process.env, SYNCVISOR_LOG_FORMAT: undefined },
  });
  return r.stdout;
}

describe('log format', () => {
  it('auto on a terminal: one readable line per record, no JSON', () => {
    const out = onTerminal([], 'a.sock');
    expect(out).toMatch(/^\d\d:\d\d:\d\d\.\d{3} .*INFO .* \[ptp\] ptp socket listening path=/m);
    expect(out).not.toContain('{"level"');
  });

  it('--log-format json on a terminal: JSON lines with string levels', () => {
    const out = onTerminal(['--log-format', 'json'], 'b.sock');
    expect(out).toMatch(/^\{"level":"info","time":"[^"]+",.*"msg":"ptp socket listening"\}\r?$/m);
  });

  it('auto on a pipe: JSON; a restart-intensity exit is logged at error with its reason', async () => {
    // A directory where the socket's lock file belongs: the socket server fails at every start (not a permanent
    // listen error), so the supervisor restarts it until the intensity is exceeded.
    mkdirSync(join(dir, 'c.sock.lock'));
    const d = spawnSyncvisor([
      ...runArgs('c.sock'),
      '--set',
      'supervisor.maxRestarts=1',
      '--set',
      'supervisor.backoff.initialMs=10',
    ]);
    const r = await d.exited;
    expect(r.code).toBe(70);
    const stopped = d.records().find((x) => x.msg === 'supervisor stopped');
    expect(stopped).toMatchObject({ level: 'error', exitCode: 70 });
    expect(String(stopped!.reason)).toContain('socketServer');
  });
});
