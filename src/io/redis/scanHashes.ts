// Reading every hash under a key prefix with SCAN (never KEYS: a big CONFIG_DB must not block the server).
import type { Redis } from 'ioredis';

/** Escapes the glob characters of SCAN MATCH. */
export function escapeGlob(s: string): string {
  return s.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}

/** The keys under `prefix`, with the prefix removed. */
export async function scanKeys(client: Redis, prefix: string): Promise<string[]> {
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await client.scan(cursor, 'MATCH', `${escapeGlob(prefix)}*`, 'COUNT', 1000);
    cursor = next;
    for (const k of batch) found.push(k.slice(prefix.length));
  } while (cursor !== '0');
  return [...new Set(found)];
}

/** key (prefix removed) → fields of every hash under `prefix`; keys of another type are skipped. */
export async function scanHashes(client: Redis, prefix: string): Promise<Map<string, Record<string, string>>> {
  const out = new Map<string, Record<string, string>>();
  const keys = await scanKeys(client, prefix);
  for (let i = 0; i < keys.length; i += 1000) {
    const chunk = keys.slice(i, i + 1000);
    const pipeline = client.pipeline();
    for (const k of chunk) pipeline.hgetall(prefix + k);
    const results = (await pipeline.exec()) ?? [];
    chunk.forEach((k, j) => {
      const [err, value] = results[j] ?? [null, {}];
      if (!err) out.set(k, value as Record<string, string>);
    });
  }
  return out;
}
