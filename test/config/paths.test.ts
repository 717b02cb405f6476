// Where the daemon writes: the system paths as root, per-user ones otherwise, explicit keys always win; and the
// start-up check names an unwritable directory by its key.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/load.js';
import { checkWritable } from '../../src/config/paths.js';

const dir = mkdtempSync(join(tmpdir(), 'syncvisor-paths-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const env = { XDG_RUNTIME_DIR: '/run/user/1000', XDG_STATE_HOME: '/home/u/.state', HOME: '/home/u' };

describe('paths.mode', () => {
  it('root: the standard paths', () => {
    const c = loadConfig({ env, uid: 0 });
    expect(c.redis.runtimeDir).toBe('/run/syncvisor');
    expect(c.ptp.socketPath).toBe('/cloud-native/events.sock');
    expect(c.stateFile.path).toBe('/var/lib/syncvisor/portsyncd.json');
  });

  it('a normal user: XDG directories, else /tmp/syncvisor-UID and ~/.local/state', () => {
    const c = loadConfig({ env, uid: 1000 });
    expect(c.redis.runtimeDir).toBe('/run/user/1000/syncvisor/redis');
    expect(c.ptp.socketPath).toBe('/run/user/1000/syncvisor/events.sock');
    expect(c.stateFile.path).toBe('/home/u/.state/syncvisor/portsyncd.json');
    const bare = loadConfig({ env: { HOME: '/home/u' }, uid: 1000 });
    expect(bare.ptp.socketPath).toBe('/tmp/syncvisor-1000/events.sock');
    expect(bare.stateFile.path).toBe('/home/u/.local/state/syncvisor/portsyncd.json');
  });

  it('explicit keys win; system/user force the choice', () => {
    const c = loadConfig({ env: { ...env, SYNCVISOR_PTP_SOCKET_PATH: '/x/e.sock' }, uid: 1000 });
    expect(c.ptp.socketPath).toBe('/x/e.sock');
    expect(c.redis.runtimeDir).toBe('/run/user/1000/syncvisor/redis');
    expect(loadConfig({ env: { ...env, SYNCVISOR_PATHS_MODE: 'system' }, uid: 1000 }).ptp.socketPath).toBe(
      '/cloud-native/events.sock',
    );
    expect(loadConfig({ env, flags: { 'paths.mode': 'user' }, uid: 0 }).ptp.socketPath).toBe(
      '/run/user/1000/syncvisor/events.sock',
    );
  });

  it('checkWritable names the key of a directory that cannot be used', () => {
    const file = join(dir, 'file');
    writeFileSync(file, '');
    const c = loadConfig({ flags: { services: 'ptp', 'ptp.socketPath': `${file}/e.sock` }, uid: 0 });
    expect(() => checkWritable(c, 0)).toThrow(ConfigError);
    expect(() => checkWritable(c, 0)).toThrow(`config key "ptp.socketPath": directory ${file} is not writable`);
    const ok = loadConfig({ flags: { services: 'ptp', 'ptp.socketPath': `${dir}/sub/e.sock` }, uid: 0 });
    expect(() => checkWritable(ok, 0)).not.toThrow();
  });
});
