// A ConsumerStateTable as orchagent runs it (sonic-swss-common consumer_state_table_pops.lua), for tests: SPOP the
// key set; a key in the del set deletes T:key first; the temp hash _T:key is moved into T:key. An empty temp hash
// means DEL, else SET (what the consumer hands to orchagent).
import type { Redis } from 'ioredis';

export interface ConsumedOp {
  op: 'SET' | 'DEL';
  key: string;
  fields: Record<string, string>;
}

export async function consumeStateTable(client: Redis, table: string, separator = ':'): Promise<ConsumedOp[]> {
  const out: ConsumedOp[] = [];
  for (;;) {
    const key = await client.spop(`${table}_KEY_SET`);
    if (key === null) return out;
    const tableKey = `${table}${separator}${key}`;
    const tempKey = `_${tableKey}`;
    if ((await client.srem(`${table}_DEL_SET`, key)) === 1) await client.del(tableKey);
    const fields = await client.hgetall(tempKey);
    if (Object.keys(fields).length > 0) await client.hset(tableKey, fields);
    await client.del(tempKey);
    out.push({ op: Object.keys(fields).length > 0 ? 'SET' : 'DEL', key, fields });
  }
}
