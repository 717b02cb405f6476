// redisTables: the one owner of Redis for portsync. Owns one connection per database (STATE_DB, APPL_DB, CONFIG_DB),
// the coalescing STATE_DB PORT_TABLE writer and the APP_DB PORT_TABLE ProducerStateTable. It applies the machine's
// redis.write commands, reports redis.up / redis.down, reads CONFIG_DB PORT and the STATE_DB port names once on the
// first connection (redis.initialState), keeps the SONiC warm-restart bookkeeping (STATE_DB
// WARM_RESTART_TABLE|portsyncd, re-applied when Redis comes back), answers redis.drain with redis.drained, and answers
// the warm-restart machines' requests (the warm-restart configuration, APP_DB as a consumer will see it, the
// reconciliation writes) with events sent to the requester by systemId. A request made while Redis is down waits
// for it up to requestWaitMs, then fails (redis.requestFailed). Connections close when the actor stops, so a portsync
// restart reconnects from scratch.
import { fromCallback, type AnyActorRef } from 'xstate';
import type { Registry } from 'prom-client';
import type { Logger } from '../../io/log.js';
import { readConfigPorts } from '../../io/redis/configDb.js';
import { RedisConnection } from '../../io/redis/connection.js';
import type { DatabaseConfig } from '../../config/databaseConfig.js';
import { ProducerStateTable, effectiveContent } from '../../io/redis/producerStateTable.js';
import { StateTable } from '../../io/redis/stateTable.js';
import { ProducerTableWatch } from '../../io/redis/producerTableWatch.js';
import { textToBytes } from '../../io/redis/byteText.js';
import {
  hasRestoreCount,
  incrementRestoreCount,
  readWarmRestartEnabled,
  resetRestoreCount,
  setWarmRestartState,
} from '../../io/warmRestart/warmRestartTable.js';
import type { RedisReplyEvent, RedisTablesCommand, RedisTablesEvent, TableOp } from '../../machines/portsync/events.js';

export interface RedisTablesDeps {
  /** redis:// URL or Unix socket path. */
  url: string;
  databases: DatabaseConfig;
  logger: Logger;
  registry: Registry;
  backoff?: { initialMs: number; maxMs: number };
  /** The embedded server (no dataset to load): the connections skip ioredis' ready check (RedisConnectionOptions). */
  noDataset?: boolean;
  /** How long a request waits for Redis before it fails (default 5000 ms). */
  requestWaitMs?: number;
  /** Upper bound of one reconciliation write (default 5000 ms); on timeout the gate retries. */
  writeTimeoutMs?: number;
  /**
   * How long the start-up read (redis.initialState) waits for a warm start's early APPL_DB read asked for meanwhile
   * (default 3000 ms).
   */
  earlyReadWaitMs?: number;
  /** After Redis came back empty: how long a CONFIG_DB without PORT entries is waited for (default 3000 ms). */
  rebuildWaitMs?: number;
}

function apply(table: { set(k: string, f: Record<string, string>): void; del(k: string): void }, ops: TableOp[]) {
  for (const op of ops) {
    if (op.op === 'set') table.set(op.key, op.fields);
    else table.del(op.key);
  }
}

export function createRedisTables(deps: RedisTablesDeps) {
  return fromCallback<RedisTablesCommand>(({ receive, sendBack, system }) => {
    const { databases, logger, registry } = deps;
    const send = (e: RedisTablesEvent): void => sendBack(e);
    const connect = (db: number): RedisConnection =>
      new RedisConnection({
        url: deps.url,
        db,
        logger,
        registry,
        ...(deps.backoff ? { backoff: deps.backoff } : {}),
        ...(deps.noDataset ? { noDataset: true } : {}),
      });
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
    const requestWaitMs = deps.requestWaitMs ?? 5_000;
    const writeTimeoutMs = deps.writeTimeoutMs ?? 5_000;
    const rebuildWaitMs = deps.rebuildWaitMs ?? 3_000;
    const earlyReadWaitMs = deps.earlyReadWaitMs ?? 3_000;
    /** Requests waiting for Redis to come up. */
    const waiting = new Set<{ run: () => void; timer: NodeJS.Timeout }>();
    const reply = (to: string, e: RedisReplyEvent): void => {
      if (stopped) return;
      (system.get(to) as AnyActorRef | undefined)?.send(e);
    };
    const whenUp = (run: () => void, fail: () => void): void => {
      if (up) {
        run();
        return;
      }
      const entry = {
        run,
        timer: setTimeout(() => {
          waiting.delete(entry);
          fail();
        }, requestWaitMs),
      };
      waiting.add(entry);
    };
    const request = (
      to: string,
      name: Extract<RedisReplyEvent, { type: 'redis.requestFailed' }>['request'],
      work: () => Promise<RedisReplyEvent>,
    ): void => {
      const failed = (message: string): void => reply(to, { type: 'redis.requestFailed', request: name, message });
      whenUp(
        () =>
          void work().then(
            (answer) => reply(to, answer),
            (err: unknown) => failed(err instanceof Error ? err.message : String(err)),
          ),
        () => failed(`Redis not available within ${requestWaitMs} ms`),
      );
    };
    // WARM_RESTART_TABLE|portsyncd: the latest state and the restore_count increments not yet applied.
    const warm: { state: string | undefined; increments: number; reset: boolean; busy: boolean } = {
      state: undefined,
      increments: 0,
      reset: false,
      busy: false,
    };
    const flushWarm = async (): Promise<void> => {
      if (warm.busy || !up || stopped) return;
      warm.busy = true;
      try {
        while (up && !stopped && (warm.state !== undefined || warm.increments > 0 || warm.reset)) {
          const sep = databases.stateDb.separator;
          if (warm.reset) {
            warm.reset = false;
            await resetRestoreCount(stateConn.client, sep);
          }
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
    /** CONFIG_DB DEVICE_METADATA|localhost: whether it exists and its switch_type (sonic.linkRules, dpu). */
    const readDeviceMetadata = async (): Promise<{ present: boolean; switchType?: string }> => {
      const key = `DEVICE_METADATA${databases.configDb.separator}localhost`;
      const [exists, switchType] = await Promise.all([
        configConn.client.exists(key),
        configConn.client.hget(key, 'switch_type'),
      ]);
      return switchType === null ? { present: exists === 1 } : { present: exists === 1, switchType };
    };
    /**
     * The CONFIG_DB ports whose consumed APPL_DB PORT_TABLE:<name> already has admin_status (one pipelined HEXISTS
     * per CONFIG_DB port; the keys as bytes, so a name that is not UTF-8 is looked up exactly).
     */
    const readAppDbAdminStatus = async (names: string[]): Promise<string[]> => {
      if (names.length === 0) return [];
      const p = appConn.client.pipeline();
      for (const name of names) p.hexists(textToBytes(app.tableKey(name)), 'admin_status');
      const results = await p.exec();
      return names.filter((_, i) => results?.[i]?.[0] == null && results?.[i]?.[1] === 1);
    };
    /** What portsync starts from (and rebuilds from after Redis came back empty): CONFIG_DB, STATE_DB, APPL_DB. */
    const sendInitialState = (
      configPorts: Map<string, Record<string, string>>,
      statePorts: string[],
      deviceMetadata: Awaited<ReturnType<typeof readDeviceMetadata>>,
      appDbAdminStatus: string[],
    ): void =>
      send({
        type: 'redis.initialState',
        configPorts: Object.fromEntries(configPorts),
        statePorts,
        deviceMetadata,
        appDbAdminStatus,
      });
    /** `p`, or `fallback` once earlyReadWaitMs passed: every wait for the early APPL_DB read is bounded by it. */
    const withinEarlyReadWait = <T>(p: Promise<T>, fallback: T): Promise<T> =>
      Promise.race([p, new Promise<T>((r) => setTimeout(() => r(fallback), earlyReadWaitMs).unref())]);
    let initialRead: 'no' | 'reading' | 'done' = 'no';
    /** The early APPL_DB read of a warm start (redis.watchAppDb), until the reconciliation takes it. */
    /** `live`: the early read answered and the watch is live (set when `started` resolves true). */
    type AppWatch = { watch: ProducerTableWatch; started: Promise<boolean>; live: boolean };
    let appWatch: AppWatch | undefined;
    let retryTimer: NodeJS.Timeout | undefined;

    const readInitialState = async (): Promise<void> => {
      initialRead = 'reading';
      try {
        const [configPorts, statePorts, deviceMetadata] = await Promise.all([
          readConfigPorts(configConn.client, databases.configDb.separator),
          state.keys(),
          readDeviceMetadata(),
        ]);
        if (stopped) return;
        const appDbAdminStatus = await readAppDbAdminStatus([...configPorts.keys()]);
        if (stopped) return;
        // portsync asks for the initial dump once this is answered: a warm start's early APPL_DB read, when it was
        // asked for meanwhile, is taken first (at most earlyReadWaitMs), so that it is not queued behind the link
        // events of the dump.
        if (appWatch) await withinEarlyReadWait(appWatch.started, false);
        if (stopped) return;
        initialRead = 'done';
        logger.info(
          { configPorts: configPorts.size, statePorts: statePorts.length },
          'read CONFIG_DB PORT and STATE_DB',
        );
        sendInitialState(configPorts, statePorts, deviceMetadata, appDbAdminStatus);
      } catch (err) {
        // Retried on the next reconnect.
        initialRead = 'no';
        logger.warn({ err: (err as Error).message }, 'reading CONFIG_DB PORT failed; retrying when Redis is back');
        if (!stopped && up) {
          retryTimer = setTimeout(() => void (!stopped && initialRead === 'no' && up && readInitialState()), 500);
        }
      }
    };

    /**
     * After a reconnect: a server that came back without APPL_DB PORT_TABLE:PortConfigDone (written at every cold
     * start, kept at every warm start) restarted empty. portsync rebuilds APPL_DB as a cold start would, from a
     * fresh CONFIG_DB read.
     */
    const checkEmptied = async (): Promise<boolean> => {
      try {
        return (await appConn.client.exists(app.tableKey('PortConfigDone'))) === 0;
      } catch (err) {
        logger.warn({ err: (err as Error).message }, 'checking APPL_DB after a reconnect failed');
        return false;
      }
    };
    const rebuild = async (): Promise<void> => {
      logger.warn('Redis came back without APPL_DB PORT_TABLE: rebuilding APPL_DB from CONFIG_DB');
      try {
        // The configuration may be being loaded again right now: a CONFIG_DB without PORT entries is read again
        // every 250 ms for up to rebuildWaitMs, then the rebuild goes ahead with what is there (as a cold start would).
        const until = performance.now() + rebuildWaitMs;
        for (;;) {
          const configPorts = await readConfigPorts(configConn.client, databases.configDb.separator);
          if (stopped || !up) return;
          if (configPorts.size > 0 || performance.now() >= until) {
            const [statePorts, deviceMetadata, appDbAdminStatus] = await Promise.all([
              state.keys(),
              readDeviceMetadata(),
              readAppDbAdminStatus([...configPorts.keys()]),
            ]);
            sendInitialState(configPorts, statePorts, deviceMetadata, appDbAdminStatus);
            return;
          }
          await new Promise((r) => setTimeout(r, 250));
        }
      } catch (err) {
        logger.warn({ err: (err as Error).message }, 'rebuild: reading CONFIG_DB failed');
      }
    };

    let everUp = false;
    const announceUp = (): void => {
      send({ type: 'redis.up' });
      if (initialRead === 'no') void readInitialState();
    };
    const onStatus = (): void => {
      const now = conns.every((c) => c.isUp);
      if (now === up || stopped) return;
      up = now;
      if (!up) send({ type: 'redis.down' });
      else if (everUp && initialRead === 'done') {
        // A reconnect: readiness must not flash to ready before we know whether the server came back empty.
        void checkEmptied().then((emptied) => {
          if (stopped || !up) return;
          if (emptied) send({ type: 'redis.emptied' });
          announceUp();
          if (emptied) void rebuild();
        });
      } else announceUp();
      if (up) everUp = true;
      if (up) {
        void flushWarm();
        for (const entry of [...waiting]) {
          waiting.delete(entry);
          clearTimeout(entry.timer);
          entry.run();
        }
      }
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
      if (cmd.type === 'redis.restoreCount') {
        if (cmd.change === 'increment') warm.increments += 1;
        else {
          warm.reset = true;
          warm.increments = 0;
        }
        void flushWarm();
        return;
      }
      if (cmd.type === 'redis.readWarmRestartConfig') {
        request(cmd.replyTo, 'readWarmRestartConfig', async () => {
          const sep = databases.stateDb.separator;
          const [enabled, restoreCount] = await Promise.all([
            readWarmRestartEnabled(stateConn.client, sep),
            hasRestoreCount(stateConn.client, sep),
          ]);
          return { type: 'redis.warmRestartConfig', enabled, hasRestoreCount: restoreCount };
        });
        return;
      }
      if (cmd.type === 'redis.checkAppDbPorts') {
        // One pipelined EXISTS per name (the names are links the kernel has: bounded by its links).
        const names = cmd.names;
        whenUp(
          () => {
            const p = appConn.client.pipeline();
            // The keys as bytes: a link name that is not UTF-8 (byte text) is looked up exactly.
            for (const name of names) p.exists(textToBytes(app.tableKey(name)));
            p.exec().then(
              (results) => {
                if (stopped) return;
                const present = names.filter((_, i) => results?.[i]?.[0] == null && results?.[i]?.[1] === 1);
                send({ type: 'redis.appDbPorts', present });
              },
              (err: unknown) =>
                !stopped &&
                send({ type: 'redis.appDbPortsFailed', message: err instanceof Error ? err.message : String(err) }),
            );
          },
          () => send({ type: 'redis.appDbPortsFailed', message: `Redis not available within ${requestWaitMs} ms` }),
        );
        return;
      }
      if (cmd.type === 'redis.watchAppDb') {
        // A warm start: APPL_DB is read now and kept true (producerTableWatch.ts), so that the reconciliation after
        // EOIU reads only what was written since. Once per actor; without Redis now, no watch (the full read later).
        if (appWatch || !up) return;
        const watch = new ProducerTableWatch({
          url: deps.url,
          client: appConn.client,
          db: databases.appDb.id,
          table: 'PORT_TABLE',
          separator: databases.appDb.separator,
          keySetKey: app.keySetKey,
          delSetKey: app.delSetKey,
          logger,
        });
        const entry: AppWatch = { watch, started: watch.start(), live: false };
        appWatch = entry;
        void entry.started.then((live) => {
          entry.live = live;
          if (!live && !stopped) logger.info({ why: watch.reason }, 'no early APPL_DB read: read in full at the gate');
        });
        return;
      }
      if (cmd.type === 'redis.readAppDb') {
        request(cmd.replyTo, 'readAppDb', async () => {
          const watched = appWatch;
          appWatch = undefined;
          // A live watch's re-read is sent now, before anything else of the current event's processing (at the end
          // of a dump: portsync's pruning and the state file's replace), without a turn of the event loop first:
          // the gate's one round trip runs while that work does. Bounded: a watch that does not answer in time is
          // given up for the full read.
          const reread = watched?.live
            ? withinEarlyReadWait(watched.watch.read(), undefined)
            : watched &&
              withinEarlyReadWait(watched.started, false).then((live) =>
                live ? withinEarlyReadWait(watched.watch.read(), undefined) : undefined,
              );
          if (watched) {
            const content = await reread;
            if (content) return { type: 'redis.appDbContent', content: effectiveContent(content, cmd.keys) };
            logger.info(
              { why: watched.watch.reason || `no answer within ${earlyReadWaitMs} ms` },
              'early APPL_DB read not usable: reading in full',
            );
          }
          void watched?.watch.close();
          return { type: 'redis.appDbContent', content: effectiveContent(await app.read(), cmd.keys) };
        });
        return;
      }
      if (cmd.type === 'redis.reconcileAppDb') {
        request(cmd.replyTo, 'reconcileAppDb', async () => {
          apply(app, cmd.ops);
          // The writer keeps retrying what it could not flush; the gate re-reads and re-diffs on failure.
          if (!(await app.drain(writeTimeoutMs))) throw new Error('APP_DB reconciliation writes not flushed in time');
          return { type: 'redis.appDbWritten' };
        });
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
      for (const entry of waiting) clearTimeout(entry.timer);
      waiting.clear();
      clearTimeout(retryTimer);
      for (const off of offs) off();
      // notify-keyspace-events is put back before the APPL_DB connection closes.
      const closingWatch = appWatch?.watch.close();
      appWatch = undefined;
      state.writer.stop();
      app.writer.stop();
      for (const c of conns) {
        if (c === appConn && closingWatch) void closingWatch.finally(() => c.close());
        else void c.close();
      }
    };
  });
}
