// A normal user runs the real binary with no configuration at all: both services come up (embedded redis-server,
// PTP socket) with runtime files under $XDG_RUNTIME_DIR/syncvisor and the state file under $XDG_STATE_HOME, nothing
// under /run/syncvisor, /var/lib/syncvisor or /cloud-native, and /readyz 200. Forced to the system paths it stops
// with one clear configuration error instead of redis-server's own FATAL or a socket server in backoff.
import { chownSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSyncvisor } from '../support/spawnDaemon.js';

const uid = 65534; // nobody
const isRoot = process.getuid?.() === 0;
const home = mkdtempSync(join(tmpdir(), 'syncvisor-user-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));
const runtime = join(home, 'run');
const state = join(home, 'state');
if (isRoot) {
  mkdirSync(runtime, { mode: 0o700 });
  chownSync(home, uid, uid);
  chownSync(runtime, uid, uid);
}
const userEnv = { HOME: home, XDG_RUNTIME_DIR: runtime, XDG_STATE_HOME: state, SYNCVISOR_PATHS_MODE: undefined };
const asNobody = ['setpriv', `--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', '--'];

describe.skipIf(!isRoot)('a run as a normal user', () => {
  it('uses per-user paths, creates nothing in the system ones, and becomes ready', async () => {
    const port = 19700 + Math.floor(Math.random() * 200);
    const before = ['/run/syncvisor', '/var/lib/syncvisor/portsyncd.json', '/cloud-native/events.sock'].map(existsSync);
    const d = spawnSyncvisor(['run', '--http', `127.0.0.1:${port}`], { wrapper: asNobody, env: userEnv });
    const start = await d.waitForLog('syncvisor 0.1.0 starting', {}, 20_000);
    expect(start).toMatchObject({
      stateFile: join(state, 'syncvisor/portsyncd.json'),
      redisDir: join(runtime, 'syncvisor/redis'),
      ptpSocket: join(runtime, 'syncvisor/events.sock'),
    });
    await d.waitForLog('ptp socket listening', { path: join(runtime, 'syncvisor/events.sock') }, 30_000);
    await expect
      .poll(async () => (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.status, {
        timeout: 30_000,
        interval: 200,
      })
      .toBe(200);
    expect(statSync(join(runtime, 'syncvisor/events.sock')).uid).toBe(uid);
    expect((await d.stop()).code).toBe(0);
    expect(existsSync(join(state, 'syncvisor/portsyncd.json'))).toBe(true);
    const after = ['/run/syncvisor', '/var/lib/syncvisor/portsyncd.json', '/cloud-native/events.sock'].map(existsSync);
    expect(after).toEqual(before);
  }, 90_000);

  it('forced to the system paths, it exits 78 (EX_CONFIG) naming each directory it cannot write', async () => {
    const d = spawnSyncvisor(['run', '--http', '127.0.0.1:0', '--set', 'redis.runtimeDir=/run/syncvisor-test-x'], {
      wrapper: asNobody,
      env: { ...userEnv, SYNCVISOR_PATHS_MODE: 'system' },
    });
    const r = await d.exited;
    expect(r.code).toBe(78);
    expect(d.stderr()).toContain('config key "redis.runtimeDir": directory /run/syncvisor-test-x is not writable');
    expect(d.stderr()).toMatch(/config key "ptp\.socketPath": directory \/cloud-native is not writable/);
    expect(d.stderr()).not.toContain('FATAL');
  }, 30_000);
});
