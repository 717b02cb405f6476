// The syncvisor binary as a real child process (needs `npm run build`, which `npm test` does first).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { binPath as bin, cleanEnv, ptpServiceArgs, spawnSyncvisor } from '../support/spawnDaemon.js';

const dir = mkdtempSync(join(tmpdir(), 'syncvisor-cli-'));
const env = cleanEnv();

function run(args: string[], extra: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, [bin, ...args], {
    env: { ...env, ...extra },
    encoding: 'utf8',
    timeout: 20_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('syncvisor CLI', () => {
  it('--version prints the package version', () => {
    const pkg = JSON.parse(readFileSync(join(import.meta.dirname, '../../package.json'), 'utf8')) as {
      version: string;
    };
    expect(run(['--version'])).toMatchObject({ code: 0, stdout: `${pkg.version}\n` });
  });

  it('every command has --help', () => {
    expect(run(['--help']).stdout).toContain('syncvisor run [options]');
    const r = run(['run', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('--redis URL|SOCKET');
    expect(run(['ctl', '--help']).stdout).toContain('CMD RESTART');
    expect(run(['replay', '--help']).stdout).toContain('--expect SNAPSHOT.json');
  });

  it('an unknown command or flag is a usage error (exit 64, EX_USAGE) naming the --help to read', () => {
    expect(run(['frobnicate'])).toMatchObject({ code: 64 });
    const r = run(['run', '--bogus']);
    expect(r.code).toBe(64);
    expect(r.stderr).toContain("Unknown option '--bogus'");
    expect(r.stderr).toContain('Try: syncvisor run --help');
    expect(run(['replay', '--print', 'colours', 'x.jsonl'])).toMatchObject({ code: 64 });
  });

  it('an invalid config exits 78 (EX_CONFIG) naming the key and the reason', () => {
    const f = join(dir, 'bad.yaml');
    writeFileSync(f, 'ptp:\n  maxLineBytes: tiny\n');
    const r = run(['run', '--config', f]);
    expect(r.code).toBe(78);
    expect(r.stderr).toContain('config key "ptp.maxLineBytes" (from file');
    expect(r.stderr).toMatch(/expected number/);
    const u = run(['run', '--services', 'ptp'], { SYNCVISOR_PTP_BOGUS: '1', PORTSYNCD_EOIU_TIMEOUT_SECS: '-3' });
    expect(u.code).toBe(78);
    expect(u.stderr).toContain('"warmRestart.timeoutSecs" (from environment PORTSYNCD_EOIU_TIMEOUT_SECS)');
    const k = run(['run', '--set', 'ptp.nope=1']);
    expect(k).toMatchObject({ code: 78 });
    expect(k.stderr).toContain('"ptp.nope": unknown key');
  });

  it('ctl restart writes exactly "CMD RESTART\\n" to a real Unix-socket listener', async () => {
    const path = join(dir, 'events.sock');
    const received: Buffer[] = [];
    const server = createServer((c) => c.on('data', (d) => received.push(d)));
    await new Promise<void>((r) => server.listen(path, r));
    const closed = new Promise<void>((r) => server.on('connection', (c) => c.on('close', () => r())));
    const r = await new Promise<number | null>((resolve) => {
      const p = spawn(process.execPath, [bin, 'ctl', 'restart', '--socket', path], { env, stdio: 'ignore' });
      p.on('exit', resolve);
    });
    await closed;
    server.close();
    expect(r).toBe(0);
    expect(Buffer.concat(received).toString()).toBe('CMD RESTART\n');
  });

  it('ctl restart says so in one line and exits 69 (EX_UNAVAILABLE) when nothing listens', () => {
    const r = run(['ctl', 'restart', '--socket', join(dir, 'nobody.sock')]);
    expect(r.code).toBe(69);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('nobody.sock');
  });

  it('run: SIGTERM shuts down gracefully with exit code 0', async () => {
    const sock = join(dir, 'sigterm.sock');
    const d = spawnSyncvisor(['run', ...ptpServiceArgs({ socketPath: sock, configDir: dir, profilePath: dir })], {
      cleanEnv: true,
    });
    const listening = await d.waitForLog('http listening');
    const health = await fetch(`http://${String(listening.address)}/healthz`);
    expect(health.status).toBe(200);
    expect(await d.stop()).toEqual({ code: 0, signal: null });
    const msgs = d.records().map((r) => r.msg);
    expect(msgs).toContain('graceful shutdown');
    expect(msgs).toContain('supervisor stopped');
  });

  it('run: a ptp-only start loads neither node:crypto nor node:https (nor TLS, zlib): only the paths that use them', async () => {
    // Node's own record of the built-in modules it loaded, written when the daemon is asked to stop.
    const preload = join(dir, 'modules.cjs');
    const out = join(dir, 'modules.txt');
    writeFileSync(
      preload,
      `process.once('SIGTERM', () => require('node:fs').writeFileSync(${JSON.stringify(out)}, process.moduleLoadList.join('\\n')));\n`,
    );
    const sock = join(dir, 'modules.sock');
    const d = spawnSyncvisor(['run', ...ptpServiceArgs({ socketPath: sock, configDir: dir, profilePath: dir })], {
      cleanEnv: true,
      env: { NODE_OPTIONS: `--require ${preload}` },
    });
    const listening = await d.waitForLog('http listening');
    expect((await fetch(`http://${String(listening.address)}/healthz`)).status).toBe(200);
    expect(await d.stop()).toEqual({ code: 0, signal: null });
    const loaded = readFileSync(out, 'utf8').split('\n');
    expect(loaded).toContain('NativeModule http');
    for (const m of ['crypto', 'https', 'tls', 'zlib']) expect(loaded).not.toContain(`NativeModule ${m}`);
  });

  it('replay: matches a recorded snapshot (exit 0), a wrong one exits 1, a bad trace exits 65 with its line', () => {
    const traces = join(import.meta.dirname, '../traces');
    const trace = join(traces, 'ptp-holdover-expiry.jsonl');
    const ok = run(['replay', trace, '--expect', `${trace}.snapshot.json`]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/ptp\.clock\.ptp4l\/ens1f0\s+\{"HOLDOVER":"sidecarTimer"\}/);
    expect(ok.stderr).toContain('final snapshot matches');
    const wrong = join(dir, 'wrong.json');
    writeFileSync(wrong, JSON.stringify({ supervisor: 'running' }));
    const bad = run(['replay', trace, '--expect', wrong]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('differs');
    const lines = readFileSync(trace, 'utf8').split('\n');
    const broken = join(dir, 'broken.jsonl');
    writeFileSync(broken, [lines[0], lines[1], lines[2]!.slice(0, 20)].join('\n'));
    const b = run(['replay', broken]);
    expect(b.code).toBe(65);
    expect(b.stderr).toContain('trace line 3: truncated line');
    expect(run(['replay', join(dir, 'missing.jsonl')])).toMatchObject({ code: 66 });
    writeFileSync(broken, ['{"format":"nope"}', lines[1]].join('\n'));
    expect(run(['replay', broken]).stderr).toContain('trace line 1: wrong header');
  });

  it('run: a child that keeps failing exceeds its restart intensity: graceful shutdown, exit code 70', () => {
    // A directory where the socket's lock file belongs: socketServer fails at every start (a transient error as far
    // as the daemon can tell, unlike a permanent listen error), so the supervisor restarts it until the intensity.
    mkdirSync(join(dir, 'locked.sock.lock'));
    const r = run([
      'run',
      ...ptpServiceArgs({
        socketPath: `${dir}/locked.sock`,
        set: ['supervisor.maxRestarts=2', 'supervisor.backoff.initialMs=10'],
      }),
    ]);
    expect(r.code).toBe(70);
    expect(r.stderr.match(/"msg":"child restarted"/g)).toHaveLength(2);
    expect(r.stderr).toContain('child socketServer exceeded its restart intensity');
  });

  it('run: a socket path longer than a Unix socket can hold is a configuration error, not a restart loop', () => {
    const r = run(['run', '--services', 'ptp', '--set', `ptp.socketPath=${dir}/${'x'.repeat(120)}.sock`]);
    expect(r.code).toBe(78);
    expect(r.stderr).toContain('"ptp.socketPath"');
    expect(r.stderr).toContain('at most 103 bytes');
    expect(r.stderr).not.toContain('child restarted');
  });

  it('run: a directory it cannot write is one clear configuration error naming the key (exit 78)', () => {
    const file = join(dir, 'not-a-dir-either');
    writeFileSync(file, 'x');
    const r = run(['run', '--services', 'ptp', '--http', '127.0.0.1:0', '--set', `ptp.socketPath=${file}/events.sock`]);
    expect(r.code).toBe(78);
    expect(r.stderr).toContain(`config key "ptp.socketPath": directory ${file} is not writable`);
    expect(r.stderr).not.toContain('child restarted');
  });

  it('run: a start that fails once the embedded redis-server is spawned leaves no server and no socket behind', () => {
    /** Processes whose command line names `path` (the server is spawned with --unixsocket <runtimeDir>/redis.sock). */
    const processesNaming = (path: string): string[] =>
      readdirSync('/proc')
        .filter((p) => /^\d+$/.test(p))
        .flatMap((p) => {
          try {
            const cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').join(' ');
            return cmd.includes(path) ? [cmd] : [];
          } catch {
            return [];
          }
        });
    const portsync = (name: string, set: string[]) => {
      const runtimeDir = join(dir, name);
      return {
        runtimeDir,
        args: [
          'run',
          '--services',
          'portsync',
          '--http',
          '127.0.0.1:0',
          '--set',
          `redis.runtimeDir=${runtimeDir}`,
          '--set',
          `stateFile.path=${join(dir, name, 'state', 'portsyncd.json')}`,
          ...set.flatMap((kv) => ['--set', kv]),
        ],
      };
    };
    // Connection caps that do not fit the open-file limit: found by startDaemon, after the CLI spawned the server.
    const starved = portsync('redis-starved', []);
    const r = spawnSync('prlimit', ['--nofile=100:100', process.execPath, bin, ...starved.args], {
      env,
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(r.status).toBe(78);
    expect(r.stderr).toMatch(/exceed the open-file limit \(100; hard 100\)/);
    // A database_config.json that does not parse: found while portsync's specs are built.
    const badDb = join(dir, 'database_config.json');
    writeFileSync(badDb, '{ not json');
    const bad = portsync('redis-baddb', [`redis.databaseConfig=${badDb}`]);
    const b = run(bad.args);
    expect(b.code).toBe(78);
    expect(b.stderr).toContain(badDb);
    for (const { runtimeDir } of [starved, bad]) {
      expect(processesNaming(join(runtimeDir, 'redis.sock'))).toEqual([]);
      expect(existsSync(join(runtimeDir, 'redis.sock'))).toBe(false);
    }
  });

  it('run: SIGTERM while the daemon still starts (its signal handlers not yet in place) stops the embedded server too', async () => {
    const runtimeDir = join(dir, 'redis-early-term');
    const socket = join(runtimeDir, 'redis.sock');
    const d = spawnSyncvisor(
      [
        'run',
        '--services',
        'portsync',
        '--http',
        '127.0.0.1:0',
        '--log-level',
        'debug',
        '--set',
        `redis.runtimeDir=${runtimeDir}`,
        '--set',
        `stateFile.path=${join(runtimeDir, 'state', 'portsyncd.json')}`,
      ],
      { cleanEnv: true },
    );
    // Logged by startDaemon once the server is spawned, before the tree (and the daemon's signal handlers) exist.
    await d.waitForLog('file descriptor budget');
    d.process.kill('SIGTERM');
    const end = await d.exited;
    // 143: stopped by the guard before the daemon's handlers; 0: the daemon's own graceful shutdown.
    expect([143, 0]).toContain(end.code);
    const left = readdirSync('/proc')
      .filter((p) => /^\d+$/.test(p))
      .filter((p) => {
        try {
          return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(socket);
        } catch {
          return false;
        }
      });
    expect(left).toEqual([]);
    expect(existsSync(socket)).toBe(false);
  });
});
