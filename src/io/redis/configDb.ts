// Reads from CONFIG_DB: the `PORT|<name>` entries copied to APP_DB on cold start, and `WARM_RESTART|swss`.
import type { Redis } from 'ioredis';
import { scanHashes } from './scanHashes.js';

/** Ethernet4 before Ethernet16; one collator for all comparisons (localeCompare builds one per call). */
// Made on first use: an ICU collator costs milliseconds to create, at module load that was start-up time.
let collator: Intl.Collator | undefined;
const naturalOrder = (a: string, b: string): number =>
  (collator ??= new Intl.Collator('en', { numeric: true })).compare(a, b);

/** CONFIG_DB `PORT|*` → name → fields (lanes, speed, alias, …), sorted by name for a stable APP_DB copy order. */
export async function readConfigPorts(client: Redis, separator: string): Promise<Map<string, Record<string, string>>> {
  const ports = await scanHashes(client, `PORT${separator}`);
  return new Map([...ports].sort(([a], [b]) => naturalOrder(a, b)));
}

/** CONFIG_DB `WARM_RESTART|swss` fields (SONiC's timers of other daemons), empty when absent. */
export async function readWarmRestartConfig(client: Redis, separator: string): Promise<Record<string, string>> {
  return client.hgetall(`WARM_RESTART${separator}swss`);
}
