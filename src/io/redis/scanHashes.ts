// Reading every hash under a key prefix with SCAN (never KEYS: a big CONFIG_DB must not block the server). Keys,
// field names and values are read as bytes and kept as byte text (byteText.ts): nothing is altered on the way.
import type { Redis } from 'ioredis';
import { bytesToText, fieldsFromReply } from './byteText.js';
import { sendBatch } from './respBatch.js';

/** Escapes the glob characters of SCAN MATCH. */
export function escapeGlob(s: string): string {
  return s.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}

/** The keys under `prefix`, with the prefix removed. */
export async function scanKeys(client: Redis, prefix: string): Promise<string[]> {
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await client.scanBuffer(cursor, 'MATCH', `${escapeGlob(prefix)}*`, 'COUNT', 1000);
    cursor = next.toString();
    for (const k of batch) found.push(bytesToText(k).slice(prefix.length));
  } while (cursor !== '0');
  return [...new Set(found)];
}

/** key (prefix removed) → fields of every hash under `prefix`; keys of another type are skipped. */
export async function scanHashes(client: Redis, prefix: string): Promise<Map<string, Record<string, string>>> {
  const out = new Map<string, Record<string, string>>();
  const keys = await scanKeys(client, prefix);
  for (let i = 0; i < keys.length; i += 1000) {
    const chunk = keys.slice(i, i + 1000);
    // One RESP buffer per chunk (respBatch.ts); its replies are the parser's Buffers, undecoded.
    const results = await sendBatch(
      client,
      chunk.map((k) => ['hgetall', prefix + k]),
    );
    chunk.forEach((k, j) => {
      const [err, value] = results[j] ?? [null, []];
      // A reply error is this key's (another type); any other is the connection's: no partial read.
      if (err && err.name !== 'ReplyError') throw err;
      if (!err) out.set(k, fieldsFromReply(value as Buffer[]));
    });
  }
  return out;
}
