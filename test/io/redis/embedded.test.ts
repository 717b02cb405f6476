import { mkdtempSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { startEmbeddedRedis } from '../../../src/io/redis/embedded.js';

describe('embedded redis-server', () => {
  it('starts on a Unix socket in the runtime dir without persistence, and stops', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'syncvisor-embedded-'));
    const r = await startEmbeddedRedis({ runtimeDir: join(dir, 'run') });
    expect(r.socket).toBe(join(dir, 'run', 'redis.sock'));
    const c = new Redis({ path: r.socket });
    expect(await c.set('k', 'v')).toBe('OK');
    expect(await c.config('GET', 'save')).toEqual(['save', '']);
    expect(await c.config('GET', 'appendonly')).toEqual(['appendonly', 'no']);
    c.disconnect();
    await r.stop();
    expect(existsSync(r.socket)).toBe(false);
    expect(() => process.kill(r.pid, 0)).toThrow();
    rmSync(dir, { recursive: true, force: true });
  });

  it('names the Debian package when the binary is missing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'syncvisor-embedded-'));
    await expect(startEmbeddedRedis({ runtimeDir: dir, binary: 'redis-server-not-here' })).rejects.toThrow(
      /install the Debian package redis-server/,
    );
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses to take over the runtime dir of a live instance (its lock is held)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'syncvisor-embedded-'));
    const first = await startEmbeddedRedis({ runtimeDir: dir });
    await expect(startEmbeddedRedis({ runtimeDir: dir })).rejects.toThrow(
      /another syncvisor instance runs its embedded Redis/,
    );
    await first.stop();
    rmSync(dir, { recursive: true, force: true });
  });
});
