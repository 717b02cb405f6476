// A SONiC database_config.json that gives a test its own Redis databases on the test server, so test files running
// side by side never share APPL_DB / CONFIG_DB / STATE_DB.
import { writeFileSync } from 'node:fs';

export interface TestDatabases {
  APPL_DB: number;
  CONFIG_DB: number;
  STATE_DB: number;
}

export function writeDatabaseConfig(path: string, socket: string, dbs: TestDatabases): string {
  writeFileSync(
    path,
    JSON.stringify({
      INSTANCES: { redis: { hostname: '127.0.0.1', port: 6379, unix_socket_path: socket } },
      DATABASES: {
        APPL_DB: { id: dbs.APPL_DB, separator: ':', instance: 'redis' },
        CONFIG_DB: { id: dbs.CONFIG_DB, separator: '|', instance: 'redis' },
        STATE_DB: { id: dbs.STATE_DB, separator: '|', instance: 'redis' },
      },
    }),
  );
  return path;
}
