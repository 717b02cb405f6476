// Clients of the harness's redis-server for tests that compare two databases: one client per db, all disconnected
// after the file, and a dump of a database's whole content.
import { Redis } from 'ioredis';
import { afterAll, inject } from 'vitest';

/** A factory of ready clients on the harness's socket (no offline queue, no retries), disconnected after the file. */
export function redisClients(): (db: number) => Promise<Redis> {
  const socket = inject('redisSocket');
  const clients: Redis[] = [];
  afterAll(() => {
    for (const c of clients) c.disconnect();
  });
  return async (db) => {
    const c = new Redis({ path: socket, db, enableOfflineQueue: false, maxRetriesPerRequest: 0 });
    clients.push(c);
    await new Promise((resolve) => c.once('ready', resolve));
    return c;
  };
}

/** Everything in the database: key → [type, content] (hashes and lists; other types as null). */
export async function dumpDb(c: Redis): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const key of (await c.keys('*')).sort()) {
    const type = await c.type(key);
    out[key] = [type, type === 'hash' ? await c.hgetall(key) : type === 'list' ? await c.lrange(key, 0, -1) : null];
  }
  return out;
}
