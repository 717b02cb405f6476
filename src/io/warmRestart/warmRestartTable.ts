// SONiC warm-restart bookkeeping in Redis: STATE_DB `WARM_RESTART_TABLE|portsyncd` (restore_count as SONiC keeps it;
// `state` is syncvisor's documented addition) and the enable flags STATE_DB `WARM_RESTART_ENABLE_TABLE|swss` /
// `|system` (enable=true). SONiC's CONFIG_DB `WARM_RESTART|swss` has no portsyncd timer: the EOIU timeout is
// syncvisor's own configuration (warmRestart.timeoutSecs).
import type { Redis } from 'ioredis';

export const warmRestartApp = 'portsyncd';

/** True when WARM_RESTART_ENABLE_TABLE|swss or |system has enable=true. */
export async function readWarmRestartEnabled(stateDb: Redis, separator: string): Promise<boolean> {
  const [swss, system] = await Promise.all([
    stateDb.hget(`WARM_RESTART_ENABLE_TABLE${separator}swss`, 'enable'),
    stateDb.hget(`WARM_RESTART_ENABLE_TABLE${separator}system`, 'enable'),
  ]);
  return swss === 'true' || system === 'true';
}

export async function setWarmRestartState(stateDb: Redis, separator: string, state: string): Promise<void> {
  await stateDb.hset(`WARM_RESTART_TABLE${separator}${warmRestartApp}`, 'state', state);
}

export async function incrementRestoreCount(stateDb: Redis, separator: string, by: number): Promise<void> {
  await stateDb.hincrby(`WARM_RESTART_TABLE${separator}${warmRestartApp}`, 'restore_count', by);
}

/** SONiC's cold start: restore_count set to "0", so that the next start can be warm. */
export async function resetRestoreCount(stateDb: Redis, separator: string): Promise<void> {
  await stateDb.hset(`WARM_RESTART_TABLE${separator}${warmRestartApp}`, 'restore_count', '0');
}

/** True when WARM_RESTART_TABLE|portsyncd has a restore_count (SONiC's second condition of a warm start). */
export async function hasRestoreCount(stateDb: Redis, separator: string): Promise<boolean> {
  return (await stateDb.hexists(`WARM_RESTART_TABLE${separator}${warmRestartApp}`, 'restore_count')) === 1;
}
