// The contract of the portsync concern, types only: what the portsync machine and the warm-restart machines ask of
// the Redis owner (the redisTables actor, src/actors/portsync/redisTables.ts) and what it answers. Both sides import
// it with `import type`, so the machines | io wall is crossed by types, never by code.

/** One write to a table, keyed without the table prefix (a HSET of the fields, or a DEL). */
export type TableOp = { op: 'set'; key: string; fields: Record<string, string> } | { op: 'del'; key: string };

/**
 * A table's content: key (without the table prefix) → fields. Keys, field names and values are Redis bytes as byte
 * text (valid UTF-8 as text, any other byte as U+DC80 + byte; src/io/redis/byteText.ts): equal strings, equal bytes.
 */
export type TableContent = Record<string, Record<string, string>>;

/** STATE_DB WARM_RESTART_TABLE|portsyncd `state` (a documented addition: SONiC's portsyncd writes no state). */
export type WarmRestartTableState = 'initialized' | 'restored' | 'reconciled' | 'disabled';

/** The machines that ask redisTables for something and get the answer sent to them by systemId. */
export type RedisRequester = 'warmRestart' | 'appDbGate';

/** What the warm-restart decision needs from Redis (STATE_DB and CONFIG_DB, read once at start). */
export interface SonicWarmRestartConfig {
  /** STATE_DB WARM_RESTART_ENABLE_TABLE|system or |swss has enable=true. */
  enabled: boolean;
  /** STATE_DB WARM_RESTART_TABLE|portsyncd has a restore_count. */
  hasRestoreCount: boolean;
}

/** Commands to the redisTables actor (systemId "redisTables"). */
export type RedisTablesCommand =
  | { type: 'redis.write'; table: 'state' | 'app'; ops: TableOp[] }
  /** Flush everything pending within timeoutMs, then answer redis.drained. */
  | { type: 'redis.drain'; timeoutMs: number }
  /** STATE_DB WARM_RESTART_TABLE|portsyncd state. */
  | { type: 'redis.warmRestartState'; state: WarmRestartTableState }
  /** STATE_DB WARM_RESTART_TABLE|portsyncd restore_count: +1 (warm) or set to "0" (cold). */
  | { type: 'redis.restoreCount'; change: 'increment' | 'reset' }
  /** Request: the warm-restart configuration; answered with redis.warmRestartConfig or redis.requestFailed. */
  | { type: 'redis.readWarmRestartConfig'; replyTo: RedisRequester }
  /**
   * A warm start was decided: read APPL_DB PORT_TABLE now and keep that read true (keyspace notifications), so that
   * the redis.readAppDb of the reconciliation reads only what changed since. No answer; best effort.
   */
  | { type: 'redis.watchAppDb' }
  /**
   * Request: APPL_DB PORT_TABLE as a consumer will see it; answered with redis.appDbContent or redis.requestFailed.
   * With `keys`, only those keys are needed: the answer holds those of them that are present (O(keys), not the
   * whole table); without, every key.
   */
  | { type: 'redis.readAppDb'; replyTo: RedisRequester; keys?: string[] }
  /** Request: write these APPL_DB ops and wait until Redis has them; answered with redis.appDbWritten or failed. */
  | { type: 'redis.reconcileAppDb'; ops: TableOp[]; replyTo: RedisRequester }
  /**
   * Request of portsync: which of these names have an APPL_DB PORT_TABLE:<name> (the hash orchagent's consumer writes
   * when it pops the port); answered with redis.appDbPorts or redis.appDbPortsFailed (sendBack).
   */
  | { type: 'redis.checkAppDbPorts'; names: string[] };

/** What redisTables reports to portsync (sendBack). */
export type RedisTablesEvent =
  | { type: 'redis.up' }
  | { type: 'redis.down' }
  /** Read on the first connection (and after redis.emptied): CONFIG_DB PORT entries, the port names STATE_DB holds. */
  | {
      type: 'redis.initialState';
      configPorts: TableContent;
      statePorts: string[];
      /**
       * CONFIG_DB DEVICE_METADATA|localhost: present (every SONiC device has it; sonic.linkRules auto keys on it) and
       * its switch_type. Absent in events recorded before it existed (read as not present).
       */
      deviceMetadata?: { present: boolean; switchType?: string };
      /**
       * The CONFIG_DB ports whose APPL_DB PORT_TABLE:<name> (the consumed entry) already has an admin_status field
       * when this was read. At a cold start portsyncd drops them from the ports PortInitDone waits for. Absent in
       * events recorded before it existed (read as none).
       */
      appDbAdminStatus?: string[];
    }
  /** Answer to redis.checkAppDbPorts: the names whose APPL_DB PORT_TABLE:<name> exists. */
  | { type: 'redis.appDbPorts'; present: string[] }
  | { type: 'redis.appDbPortsFailed'; message: string }
  | { type: 'redis.drained'; complete: boolean }
  /** Redis came back without APPL_DB's PORT_TABLE (a server restarted empty); a redis.initialState follows. */
  | { type: 'redis.emptied' };

/** Answers of redisTables to a request, sent to the requester by systemId. */
export type RedisReplyEvent =
  | ({ type: 'redis.warmRestartConfig' } & SonicWarmRestartConfig)
  | { type: 'redis.appDbContent'; content: TableContent }
  | { type: 'redis.appDbWritten' }
  | { type: 'redis.requestFailed'; request: 'readWarmRestartConfig' | 'readAppDb' | 'reconcileAppDb'; message: string };
