import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { redisClientOptions, reconnectDelay } from '../../src/io/redis/connection.js';
import {
  DatabaseConfigError,
  defaultDatabaseConfig,
  loadDatabaseConfig,
  parseDatabaseConfig,
} from '../../src/config/databaseConfig.js';

const dir = mkdtempSync(join(tmpdir(), 'syncvisor-dbconfig-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('database_config.json', () => {
  it('defaults to APPL_DB 0 ":", CONFIG_DB 4 "|", STATE_DB 6 "|" without a file', () => {
    expect(loadDatabaseConfig('')).toEqual({
      appDb: { id: 0, separator: ':' },
      configDb: { id: 4, separator: '|' },
      stateDb: { id: 6, separator: '|' },
    });
  });

  it('reads the ids and separators of a SONiC file; missing databases keep their defaults', () => {
    const path = join(dir, 'database_config.json');
    writeFileSync(
      path,
      JSON.stringify({
        INSTANCES: { redis: { hostname: '127.0.0.1', port: 6379, unix_socket_path: '/var/run/redis/redis.sock' } },
        DATABASES: {
          APPL_DB: { id: 10, separator: ':', instance: 'redis' },
          STATE_DB: { id: 16, separator: '|', instance: 'redis' },
          COUNTERS_DB: { id: 2, separator: ':', instance: 'redis' },
        },
        VERSION: '1.0',
      }),
    );
    expect(loadDatabaseConfig(path)).toEqual({
      appDb: { id: 10, separator: ':' },
      configDb: defaultDatabaseConfig.configDb,
      stateDb: { id: 16, separator: '|' },
    });
  });

  it('names the problem of a bad file', () => {
    expect(() => loadDatabaseConfig(join(dir, 'missing.json'))).toThrow(/cannot read .*missing\.json/);
    expect(() => parseDatabaseConfig('{')).toThrow(DatabaseConfigError);
    expect(() => parseDatabaseConfig('{}')).toThrow(/missing DATABASES/);
    expect(() => parseDatabaseConfig('{"DATABASES":{"APPL_DB":{"id":-1}}}')).toThrow(/APPL_DB.id/);
    expect(() => parseDatabaseConfig('{"DATABASES":{"STATE_DB":{"id":6,"separator":""}}}')).toThrow(
      /STATE_DB.separator/,
    );
  });
});

describe('redis connection options', () => {
  it('takes a Unix socket path or a redis:// URL, with the database index', () => {
    expect(redisClientOptions('/run/redis.sock', 6)).toMatchObject({ path: '/run/redis.sock', db: 6 });
    expect(redisClientOptions('redis://user:p%40ss@10.0.0.1:6380', 4)).toMatchObject({
      host: '10.0.0.1',
      port: 6380,
      username: 'user',
      password: 'p@ss',
      db: 4,
    });
    expect(redisClientOptions('rediss://h', 0)).toMatchObject({ host: 'h', port: 6379, tls: {} });
  });

  it('backs off exponentially up to a cap', () => {
    expect([1, 2, 3, 4, 10, 1000].map((n) => reconnectDelay(n, 50, 2000))).toEqual([50, 100, 200, 400, 2000, 2000]);
  });
});
