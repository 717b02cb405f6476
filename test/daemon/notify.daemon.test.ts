// systemd's Type=notify protocol, with a real AF_UNIX datagram socket standing in for systemd (a python3 listener:
// Node cannot bind one). The real binary must send READY=1 only once it serves (PTP socket listening, configuration
// loaded), STATUS= lines, WATCHDOG=1 at half WATCHDOG_USEC, and STOPPING=1 when SIGTERM starts the shutdown.
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sdNotify } from '../../src/io/notify/sdNotify.js';
import { ptpServiceArgs, repoRoot, spawnSyncvisor } from '../support/spawnDaemon.js';

const dir = mkdtempSync(join(tmpdir(), 'syncvisor-notify-'));
const listeners: ChildProcess[] = [];
afterAll(() => {
  for (const l of listeners) l.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});
mkdirSync(join(dir, 'profiles'));
mkdirSync(join(dir, 'cfg'));
copyFileSync(join(repoRoot, 'deploy/demo/node1.json'), join(dir, 'profiles/node1'));

/** Binds a datagram socket at `path` and collects every message, in order. */
async function notifyListener(path: string): Promise<{ messages: string[]; at: number[] }> {
  const py = `import socket,sys,json
s=socket.socket(socket.AF_UNIX,socket.SOCK_DGRAM); s.bind(sys.argv[1]); print("bound",flush=True)
while True:
  d=s.recv(8192); print(json.dumps(d.decode()),flush=True)`;
  const p = spawn('python3', ['-c', py, path], { stdio: ['ignore', 'pipe', 'inherit'] });
  listeners.push(p);
  const messages: string[] = [];
  const at: number[] = [];
  let buf = '';
  await new Promise<void>((resolve, reject) => {
    p.on('error', reject);
    p.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        if (line === 'bound') resolve();
        else {
          messages.push(JSON.parse(line) as string);
          at.push(Date.now());
        }
      }
    });
  });
  return { messages, at };
}

let port = 19900 + Math.floor(Math.random() * 90);
function ptpArgs(sock: string): { args: string[]; http: string } {
  const http = `127.0.0.1:${port++}`;
  const ptp = { socketPath: sock, http, configDir: `${dir}/cfg`, profilePath: `${dir}/profiles`, nodeName: 'node1' };
  return { args: ['run', ...ptpServiceArgs(ptp)], http };
}

describe('sd_notify', () => {
  it('the addon sends one datagram to a path and reports a missing socket', async () => {
    const path = join(dir, 'direct.sock');
    const l = await notifyListener(path);
    sdNotify(path, 'STATUS=hello');
    await expect.poll(() => l.messages).toEqual(['STATUS=hello']);
    expect(() => sdNotify(join(dir, 'nobody.sock'), 'READY=1')).toThrow(/ENOENT|No such file/);
    expect(() => sdNotify('relative', 'READY=1')).toThrow(/absolute/);
  });

  it('READY=1 once the PTP socket listens, WATCHDOG=1 at half WATCHDOG_USEC, STOPPING=1 on SIGTERM', async () => {
    const path = join(dir, 'systemd.sock');
    const l = await notifyListener(path);
    const { args } = ptpArgs(join(dir, 'ptp.sock'));
    const d = spawnSyncvisor(args, { env: { NOTIFY_SOCKET: path, WATCHDOG_USEC: '200000' } });
    await d.waitForLog('ptp socket listening');
    await expect.poll(() => l.messages.some((m) => m.startsWith('READY=1')), { timeout: 10_000 }).toBe(true);
    const ready = l.messages.find((m) => m.startsWith('READY=1'))!;
    expect(ready).toMatch(/^READY=1\nSTATUS=ready: .*socketServer.*\nMAINPID=\d+$/);
    expect(ready).toContain(`MAINPID=${d.pid}`);
    // Only one READY, and the watchdog ticks (100 ms) while the daemon is live.
    await expect.poll(() => l.messages.filter((m) => m === 'WATCHDOG=1').length, { timeout: 5_000 }).toBeGreaterThan(3);
    expect(l.messages.filter((m) => m.startsWith('READY=1'))).toHaveLength(1);
    const { code } = await d.stop();
    expect(code).toBe(0);
    const stopping = l.messages.find((m) => m.startsWith('STOPPING=1'));
    expect(stopping).toBe('STOPPING=1\nSTATUS=stopping: SIGTERM');
    expect(l.messages.indexOf(stopping!)).toBeGreaterThan(l.messages.indexOf(ready));
  }, 40_000);

  it('no READY=1 while the PTP socket cannot listen: STATUS names the child, /readyz is 503', async () => {
    const path = join(dir, 'systemd2.sock');
    const l = await notifyListener(path);
    // A directory where the socket's lock file belongs: the listener fails at every start and goes into backoff.
    const blocked = join(dir, 'blocked.sock');
    mkdirSync(`${blocked}.lock`);
    const { args, http } = ptpArgs(blocked);
    const d = spawnSyncvisor([...args, '--set', 'supervisor.maxRestarts=1000'], { env: { NOTIFY_SOCKET: path } });
    await d.waitForLog('ptp socket cannot listen');
    await expect
      .poll(() => l.messages.some((m) => /^STATUS=starting: .*socketServer \(backoff\)/.test(m)), { timeout: 10_000 })
      .toBe(true);
    expect((await fetch(`http://${http}/readyz`)).status).toBe(503);
    expect(l.messages.some((m) => m.startsWith('READY=1'))).toBe(false);
    await d.stop();
  }, 40_000);

  it('with portsync: READY=1 only after its start decision and initial sync (cold start: CONFIG_DB read)', async () => {
    const path = join(dir, 'systemd3.sock');
    const l = await notifyListener(path);
    const { args } = ptpArgs(join(dir, 'ptp3.sock'));
    args[2] = 'portsync,ptp';
    args.push('--set', `redis.runtimeDir=${join(dir, 'redis')}`, '--set', `stateFile.path=${join(dir, 'state.json')}`);
    const d = spawnSyncvisor(args, { env: { NOTIFY_SOCKET: path } });
    await expect
      .poll(() => l.messages.findIndex((m) => m.startsWith('READY=1')), { timeout: 30_000 })
      .toBeGreaterThan(-1);
    const i = l.messages.findIndex((m) => m.startsWith('READY=1'));
    expect(l.messages[i]).toMatch(/STATUS=ready: .*portsync/);
    const synced = await d.waitForLog('cold start', { mode: 'cold' });
    expect(Date.parse(String(synced.time))).toBeLessThanOrEqual(l.at[i]!);
    expect((await d.stop()).code).toBe(0);
  }, 60_000);
});
