// The Redis-side promise actors the warm-restart machines name: readSonicConfig (warmRestart) and readAppDb /
// writeAppDb (appDbGate). They use the connections of the running redisTables actor through its RedisTablesSession,
// so a portsync restart never leaves them on a closed client.
import { fromPromise } from 'xstate';
import type { Logger } from '../../io/log.js';
import { readWarmRestartConfig } from '../../io/redis/configDb.js';
import { effectiveContent } from '../../io/redis/producerStateTable.js';
import { parsePortsyncdTimer, readWarmRestartEnabled } from '../../io/warmRestart/warmRestartTable.js';
import type { AppDbContent, DesiredOp } from '../../machines/warmRestart/appDbDiff.js';
import type { SonicWarmRestartConfig } from '../../machines/warmRestart/warmRestart.js';
import type { RedisTablesSession } from '../portsync/redisTables.js';

export interface WarmRestartRedisDeps {
  session: RedisTablesSession;
  logger: Logger;
  /** How long readSonicConfig waits for Redis before the start is decided without it (default 5000 ms). */
  configWaitMs?: number;
  /** Upper bound of one reconciliation write (default 5000 ms); on timeout the gate retries. */
  writeTimeoutMs?: number;
}

export function createWarmRestartRedisActors(deps: WarmRestartRedisDeps) {
  const { session, logger } = deps;
  const configWaitMs = deps.configWaitMs ?? 5_000;
  const writeTimeoutMs = deps.writeTimeoutMs ?? 5_000;
  return {
    readSonicConfig: fromPromise<SonicWarmRestartConfig>(async () => {
      const live = await session.whenUp(configWaitMs);
      const { stateDb, configDb } = live.databases;
      const [enabled, fields] = await Promise.all([
        readWarmRestartEnabled(live.stateDb.client, stateDb.separator),
        readWarmRestartConfig(live.configDb.client, configDb.separator),
      ]);
      const timerSecs = parsePortsyncdTimer(fields);
      if (fields.portsyncd_timer !== undefined && timerSecs === undefined) {
        logger.warn({ portsyncd_timer: fields.portsyncd_timer }, 'CONFIG_DB WARM_RESTART|swss portsyncd_timer ignored');
      }
      return { enabled, timerSecs };
    }),
    readAppDb: fromPromise<AppDbContent>(async () => {
      const live = await session.whenUp(writeTimeoutMs);
      return effectiveContent(await live.app.read());
    }),
    writeAppDb: fromPromise<void, { ops: DesiredOp[] }>(async ({ input }) => {
      const live = await session.whenUp(writeTimeoutMs);
      for (const op of input.ops) {
        if (op.op === 'set') live.app.set(op.key, op.fields);
        else live.app.del(op.key);
      }
      // The writer keeps retrying what it could not flush; the gate re-reads and re-diffs on failure.
      if (!(await live.app.drain(writeTimeoutMs))) throw new Error('APP_DB reconciliation writes not flushed in time');
    }),
  };
}
