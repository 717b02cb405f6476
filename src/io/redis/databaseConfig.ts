// SONiC's database_config.json → the database ids and key separators we use. Without a file: APPL_DB 0 ':',
// CONFIG_DB 4 '|', STATE_DB 6 '|'.
import { readFileSync } from 'node:fs';

export interface DatabaseRef {
  id: number;
  separator: string;
}

export interface DatabaseConfig {
  appDb: DatabaseRef;
  configDb: DatabaseRef;
  stateDb: DatabaseRef;
}

export const defaultDatabaseConfig: DatabaseConfig = {
  appDb: { id: 0, separator: ':' },
  configDb: { id: 4, separator: '|' },
  stateDb: { id: 6, separator: '|' },
};

export class DatabaseConfigError extends Error {
  override readonly name = 'DatabaseConfigError';
}

function pick(databases: Record<string, unknown>, name: string, fallback: DatabaseRef): DatabaseRef {
  const entry = databases[name];
  if (entry === undefined) return fallback;
  if (typeof entry !== 'object' || entry === null) throw new DatabaseConfigError(`DATABASES.${name} is not an object`);
  const { id, separator } = entry as { id?: unknown; separator?: unknown };
  if (typeof id !== 'number' || !Number.isInteger(id) || id < 0) {
    throw new DatabaseConfigError(`DATABASES.${name}.id must be a non-negative integer`);
  }
  if (separator !== undefined && (typeof separator !== 'string' || separator.length === 0)) {
    throw new DatabaseConfigError(`DATABASES.${name}.separator must be a non-empty string`);
  }
  return { id, separator: separator ?? fallback.separator };
}

/** Parses the text of a database_config.json; throws DatabaseConfigError with the offending key. */
export function parseDatabaseConfig(text: string): DatabaseConfig {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new DatabaseConfigError(`not JSON: ${(err as Error).message}`);
  }
  const databases = (json as { DATABASES?: unknown } | null)?.DATABASES;
  if (typeof databases !== 'object' || databases === null) throw new DatabaseConfigError('missing DATABASES object');
  const dbs = databases as Record<string, unknown>;
  return {
    appDb: pick(dbs, 'APPL_DB', defaultDatabaseConfig.appDb),
    configDb: pick(dbs, 'CONFIG_DB', defaultDatabaseConfig.configDb),
    stateDb: pick(dbs, 'STATE_DB', defaultDatabaseConfig.stateDb),
  };
}

/** Reads `path` (config key redis.databaseConfig); an empty path gives the defaults. */
export function loadDatabaseConfig(path: string): DatabaseConfig {
  if (path === '') return defaultDatabaseConfig;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new DatabaseConfigError(`cannot read ${path}: ${(err as Error).message}`);
  }
  try {
    return parseDatabaseConfig(text);
  } catch (err) {
    throw new DatabaseConfigError(`${path}: ${(err as Error).message}`);
  }
}
