// A connection to a server with no dataset to load (the embedded redis-server) skips ioredis' ready check and CLIENT
// SETINFO: it must still be ready only once connected, and on its own database (the SELECT is not lost).
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { RedisConnection, redisClientOptions } from '../../../src/io/redis/connection.js';

const socket = inject('redisSocket');
const logger = pino({ level: 'silent' });
const opened: RedisConnection[] = [];
afterAll(async () => {
  for (const c of opened) await c.close();
});

describe('RedisConnection noDataset', () => {
  it('asks ioredis for no ready check and no client info only when told so', () => {
    expect(redisClientOptions(socket, 3, undefined, true)).toMatchObject({
      enableReadyCheck: false,
      disableClientInfo: true,
    });
    const usual = redisClientOptions(socket, 3);
    expect(usual.enableReadyCheck).toBeUndefined();
    expect(usual.disableClientInfo).toBeUndefined();
  });

  it('is ready once connected and writes to its own database', async () => {
    const db = 13;
    const conn = new RedisConnection({
      url: socket,
      db,
      logger,
      noDataset: true,
      health: { intervalMs: 0, timeoutMs: 0 },
    });
    opened.push(conn);
    await conn.ready();
    expect(conn.isUp).toBe(true);
    const key = `noDataset:${process.pid}`;
    // The first command right after ready goes to db 13, not to db 0.
    await conn.client.set(key, 'here');
    const check = new Redis({ path: socket, db, lazyConnect: true });
    const zero = new Redis({ path: socket, db: 0, lazyConnect: true });
    try {
      expect(await check.get(key)).toBe('here');
      expect(await zero.get(key)).toBeNull();
      // The server sees the one connection on db 13, the one the SET came through.
      const own = await check.client('ID');
      const mine = String(await check.client('LIST'))
        .split('\n')
        .filter((l) => / db=13 /.test(l) && !l.startsWith(`id=${own} `));
      expect(mine).toHaveLength(1);
      expect(mine[0]).toMatch(/ cmd=set /);
    } finally {
      await check.del(key);
      check.disconnect();
      zero.disconnect();
    }
  });
});
