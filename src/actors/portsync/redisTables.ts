// redisTables: the Redis side of portsync. Owns one connection per database (STATE_DB, APPL_DB, CONFIG_DB), the
// coalescing STATE_DB PORT_TABLE writer and the APP_DB PORT_TABLE ProducerStateTable; applies the machine's
// redis.write commands, reports redis.up / redis.down, reads CONFIG_DB PORT and the STATE_DB port names once on the
// first connection (redis.initialState), keeps the SONiC warm-restart bookkeeping (STATE_DB WARM_RESTART_TABLE|portsyncd,
// re-applied when Redis comes back), and answers redis.drain with redis.drained. Connections close when the actor
// stops, so a portsync restart reconnects from scratch. The live tables are published on a RedisTablesSession so the
// warm-restart promise actors (src/actors/warmRestart/warmRestartRedis.ts) use the same connections.
import { fromCallback } from 'xstate';
import type { Registry } from 'prom-client';
import type { Logger } from '../../io/log.js';
import { readConfigPorts } from '../../io/redis/configDb.js';
import { RedisConnection } from '../../io/redis/connection.js';
import type { DatabaseConfig } from '../../config/databaseConfig.js';
import { ProducerStateTable } from '../../io/redis/producerStateTable.js';
import { StateTable } from '../../io/redis/stateTable.js';
import { incrementRestoreCount, setWarmRestartState } from '../../io/warmRestart/warmRestartTable.js';
import type { RedisTablesCommand, RedisTablesEvent, TableWrite } from '../../machines/portsync/portsync.js';

export interface RedisTablesDeps {
  /** redis:// URL or Unix socket path. */
  url: string;
  databases: DatabaseConfig;
  logger: Logger;
  registry: Registry;
  backoff?: { initialMs: number; maxMs: number };
  /** Where the live connections are published for the warm-restart actors. */
  session?: RedisTablesSession;
}

/** The connections of the running redisTables actor. */
export interface LiveRedisTables {
  app: ProducerStateTable;
  stateDb: RedisConnection;
  configDb: RedisConnection;
  databases: DatabaseConfig;
  isUp(): boolean;
}

/** Shares the running redisTables actor's connections with the promise actors of the warm-restart machines. */
export class RedisTablesSession {
  private live: LiveRedisTables | undefined;

  attach(live: LiveRedisTables): void {
    this.live = live;
  }

  detach(live: LiveRedisTables): void {
    if (this.live === live) this.live = undefined;
  }

  /** The live tables once every connection is up; rejects after timeoutMs. */
  async whenUp(timeoutMs: number): Promise<LiveRedisTables> {
    const until = performance.now() + timeoutMs;
    for (;;) {
      const live = this.live;
      if (live?.isUp()) return live;
      if (performance.now() >= until) throw new Error(`Redis not available within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

function apply(table: { set(k: string, f: Record<string, string>): void; del(k: string): void }, ops: TableWrite[]) {
  for (const op of ops) {
    if (op.op === 'set') table.set(op.key, op.fields);
    else table.del(op.key);
  }
}

export function createRedisTables(deps: RedisTablesDeps) {
  return fromCallback<RedisTablesCommand>(({ receive, sendBack }) => {
    const { databases, logger, registry } = deps;
    const send = (e: RedisTablesEvent): void => sendBack(e);
    const connect = (db: number): RedisConnection =>
      new RedisConnection({ url: deps.url, db, logger, registry, ...(deps.backoff ? { backoff: deps.backoff } : {}) });
    const stateConn = connect(databases.stateDb.id);
    const appConn = connect(databases.appDb.id);
    const configConn = connect(databases.configDb.id);
    const conns = [stateConn, appConn, configConn];
    const state = new StateTable({
      conn: stateConn,
      table: 'PORT_TABLE',
      separator: databases.stateDb.separator,
      logger,
      registry,
    });
    const app = new ProducerStateTable({
      conn: appConn,
      table: 'PORT_TABLE',
      separator: databases.appDb.separator,
      dbId: databases.appDb.id,
      logger,
      registry,
    });

    let stopped = false;
    let up = false;
    const live: LiveRedisTables = {
      app,
      stateDb: stateConn,
      configDb: configConn,
      databases,
      isUp: () => up && !stopped,
    };
    deps.session?.attach(live);
    // WARM_RESTART_TABLE|portsyncd: the latest state and the restore_count increments not yet applied.
    const warm: { state: string | undefined; increments: number; busy: boolean } = {
      state: undefined,
      increments: 0,
      busy: false,
    };
    const flushWarm = async (): Promise<void> => {
      if (warm.busy || !up || stopped) return;
      warm.busy = true;
      try {
        while (up && !stopped && (warm.state !== undefined || warm.increments > 0)) {
          const sep = databases.stateDb.separator;
          if (warm.increments > 0) {
            const by = warm.increments;
            await incrementRestoreCount(stateConn.client, sep, by);
            warm.increments -= by;
          }
          if (warm.state !== undefined) {
            const next = warm.state;
            await setWarmRestartState(stateConn.client, sep, next);
            if (warm.state === next) warm.state = undefined;
          }
        }
      } catch (err) {
        // Kept; written again when Redis is back.
        logger.warn({ err: (err as Error).message }, 'WARM_RESTART_TABLE write failed; retrying when Redis is back');
      } finally {
        warm.busy = false;
      }
    };
    let initialRead: 'no' | 'reading' | 'done' = 'no';
    let retryTimer: NodeJS.Timeout | undefined;

    const readInitialState = async (): Promise<void> => {
      initialRead = 'reading';
      try {
        const [configPorts, statePorts] = await Promise.all([
          readConfigPorts(configConn.client, databases.configDb.separator),
          state.keys(),
        ]);
        if (stopped) return;
        initialRead = 'done';
        logger.info(
          { configPorts: configPorts.size, statePorts: statePorts.length },
          'read CONFIG_DB PORT and STATE_DB',
        );
        send({ type: 'redis.initialState', configPorts: Object.fromEntries(configPorts), statePorts });
      } catch (err) {
        // Retried on the next reconnect.
        initialRead = 'no';
        logger.warn({ err: (err as Error).message }, 'reading CONFIG_DB PORT failed; retrying when Redis is back');
        if (!stopped && up) {
          retryTimer = setTimeout(() => void (!stopped && initialRead === 'no' && up && readInitialState()), 500);
        }
      }
    };

    const onStatus = (): void => {
      const now = conns.every((c) => c.isUp);
      if (now === up || stopped) return;
      up = now;
      send({ type: up ? 'redis.up' : 'redis.down' });
      if (up && initialRead === 'no') void readInitialState();
      if (up) void flushWarm();
    };
    const offs = conns.map((c) => c.onStatus(onStatus));

    receive((cmd) => {
      if (cmd.type === 'redis.write') {
        apply(cmd.table === 'state' ? state : app, cmd.ops);
        return;
      }
      if (cmd.type === 'redis.warmRestartState') {
        warm.state = cmd.state;
        void flushWarm();
        return;
      }
      if (cmd.type === 'redis.incrementRestoreCount') {
        warm.increments += 1;
        void flushWarm();
        return;
      }
      void Promise.all([state.drain(cmd.timeoutMs), app.drain(cmd.timeoutMs)]).then(([s, a]) => {
        const complete = s && a;
        if (!complete) {
          logger.warn(
            { stateDbPending: state.writer.pendingCount, appDbPending: app.writer.pendingCount },
            'shutdown: Redis writes not flushed in time',
          );
        }
        if (!stopped) send({ type: 'redis.drained', complete });
      });
    });

    return () => {
      stopped = true;
      deps.session?.detach(live);
      clearTimeout(retryTimer);
      for (const off of offs) off();
      state.writer.stop();
      app.writer.stop();
      for (const c of conns) void c.close();
    };
  });
}
