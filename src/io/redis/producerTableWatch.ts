// An early read of a ProducerStateTable (APPL_DB PORT_TABLE as the warm-restart reconciliation reads it) that is kept
// true until it is used. A warm start decides long before its initial sync ends; the full read (SCAN + HGETALL of
// every PORT_TABLE:* and _PORT_TABLE:* hash, the key and del sets) is taken then, and Redis keyspace notifications
// mark every key written since. When the reconciliation asks, only those keys are read again: the read is no longer
// queued behind the dump's STATE_DB writes and the state file save (docs/warm-restart.md, "Early APP_DB read").
//
// Correctness:
//   - subscribed before the full read: a write that the read may have missed is notified;
//   - a PING on the subscriber connection before the re-read is the barrier: every write executed before it was
//     notified before its answer (one connection, in order), so the keys not marked are as the early read saw them
//     (at the latest when the flush check below ran, which is sent side by side with the PING);
//   - a flush or SWAPDB notifies nothing, but removes every key the early read saw: one EXISTS of up to 64 of the keys
//     not written since, spread over the table, must find them all, else the watch is invalid (a SWAPDB with a
//     database that holds those same keys is the one change this does not see);
//   - the subscriber connection lost, too many keys marked (maxDirty), an unreadable notification: invalid.
// An invalid watch answers undefined and the caller takes the full read, as without a watch.
//
// notify-keyspace-events: the watch needs keyspace events (K) of every class that can change a key (A: a SET, a
// RENAME, a RESTORE, a *STORE can replace a hash). When the server's setting already covers "KA" (SONiC's redis runs
// with "AKE"), nothing is changed. Otherwise the missing flags are added with CONFIG SET for the watch's lifetime
// and the setting is put back when the watch closes, if nobody changed it meanwhile. A server that refuses CONFIG
// (renamed command, ACL) gets no watch: `start` answers false and the full read is taken at the gate.
import { Redis } from 'ioredis';
import type { Logger } from '../log.js';
import { bytesToText, fieldsFromReply } from './byteText.js';
import { redisClientOptions } from './connection.js';
import type { ProducerTableContent } from './producerStateTable.js';
import { sendBatch } from './respBatch.js';
import { escapeGlob, scanHashes } from './scanHashes.js';

/** How many of the keys not written since are checked for existence (flush detection). */
const SAMPLE = 64;

/** The event classes of "A" (Redis 7: g$lshztxed). */
const ALL_CLASSES = 'g$lshztxed';

/** The flags `current` lacks for keyspace events of every class ('' when it covers them). */
export function missingKeyspaceFlags(current: string): string {
  const has = new Set(current.split(''));
  const classes = has.has('A') ? '' : [...ALL_CLASSES].filter((c) => !has.has(c)).join('');
  const all = classes.length === ALL_CLASSES.length ? 'A' : classes;
  return `${has.has('K') ? '' : 'K'}${all}`;
}

export interface ProducerTableWatchOptions {
  /** redis:// URL or Unix socket path (the subscriber's own connection). */
  url: string;
  /** An ordinary connection to the table's database (reads, CONFIG). */
  client: Redis;
  db: number;
  /** e.g. PORT_TABLE. */
  table: string;
  /** APPL_DB's `:`. */
  separator: string;
  keySetKey: string;
  delSetKey: string;
  logger: Logger;
  /** More keys marked than this: invalid (bounded memory; the full read is as cheap then). Default 65,536. */
  maxDirty?: number;
}

type Phase = 'starting' | 'live' | 'invalid' | 'closed';

export class ProducerTableWatch {
  private phase: Phase = 'starting';
  private why = '';
  private sub: Redis | undefined;
  private content: ProducerTableContent | undefined;
  /** Keys (full key names as byte text) written since the subscription. */
  private dirty = new Set<string>();
  /** notify-keyspace-events before, and the value we set (undefined: not changed). */
  private restore: { before: string; ours: string } | undefined;
  private readonly maxDirty: number;
  private readonly tablePrefix: string;
  private readonly pendingPrefix: string;
  private readonly channelPrefix: string;

  constructor(private readonly opts: ProducerTableWatchOptions) {
    this.maxDirty = opts.maxDirty ?? 65_536;
    this.tablePrefix = `${opts.table}${opts.separator}`;
    this.pendingPrefix = `_${opts.table}${opts.separator}`;
    this.channelPrefix = `__keyspace@${opts.db}__:`;
  }

  /** Why the watch is not live (for the log), '' while it is. */
  get reason(): string {
    return this.why;
  }

  get live(): boolean {
    return this.phase === 'live';
  }

  private invalidate(why: string): void {
    if (this.phase === 'closed' || this.phase === 'invalid') return;
    this.phase = 'invalid';
    this.why = why;
    this.content = undefined;
    this.dirty.clear();
  }

  private mark(channel: Buffer): void {
    if (this.phase !== 'starting' && this.phase !== 'live') return;
    const name = bytesToText(channel);
    if (!name.startsWith(this.channelPrefix)) {
      this.invalidate(`unexpected notification channel ${JSON.stringify(name.slice(0, 80))}`);
      return;
    }
    this.dirty.add(name.slice(this.channelPrefix.length));
    if (this.dirty.size > this.maxDirty) this.invalidate(`more than ${this.maxDirty} keys written meanwhile`);
  }

  /** Enables what is needed, subscribes, takes the full read. True when live; false: no watch (see `reason`). */
  async start(): Promise<boolean> {
    const { client, logger } = this.opts;
    try {
      const got = (await client.config('GET', 'notify-keyspace-events')) as string[];
      const before = got[1] ?? '';
      const missing = missingKeyspaceFlags(before);
      if (missing !== '') {
        await client.config('SET', 'notify-keyspace-events', `${before}${missing}`);
        const now = ((await client.config('GET', 'notify-keyspace-events')) as string[])[1] ?? '';
        this.restore = { before, ours: now };
        // Closed meanwhile: put it back at once.
        if (this.phase === 'closed') await this.putBack();
        logger.info(
          { before, now },
          'keyspace notifications enabled for the early APPL_DB read of the warm restart (put back when it is used)',
        );
      }
    } catch (err) {
      this.invalidate(`keyspace notifications not available: ${(err as Error).message}`);
      return false;
    }
    if (this.phase !== 'starting') return false;
    try {
      const sub = new Redis({
        ...redisClientOptions(this.opts.url, this.opts.db),
        lazyConnect: true,
        // A lost subscription cannot be resumed without losing notifications: no reconnect, the watch is invalid.
        retryStrategy: () => null,
        enableReadyCheck: false,
      });
      this.sub = sub;
      sub.on('error', () => undefined); // 'close' invalidates
      sub.on('close', () => this.invalidate('subscriber connection lost'));
      sub.on('pmessageBuffer', (_pattern: string, channel: Buffer) => this.mark(channel));
      sub.on('messageBuffer', (channel: Buffer) => this.mark(channel));
      await sub.connect();
      const ch = this.channelPrefix;
      await sub.psubscribe(`${ch}${escapeGlob(this.tablePrefix)}*`, `${ch}${escapeGlob(this.pendingPrefix)}*`);
      await sub.subscribe(`${ch}${this.opts.keySetKey}`, `${ch}${this.opts.delSetKey}`);
      const content = await this.fullRead();
      if (this.phase !== 'starting') return false;
      this.content = content;
      this.phase = 'live';
      return true;
    } catch (err) {
      this.invalidate(`early read failed: ${(err as Error).message}`);
      return false;
    }
  }

  /** The table as ProducerStateTable.read() gives it. */
  async fullRead(): Promise<ProducerTableContent> {
    const { client } = this.opts;
    const [table, pending, keySet, delSet] = await Promise.all([
      scanHashes(client, this.tablePrefix),
      scanHashes(client, this.pendingPrefix),
      client.smembersBuffer(this.opts.keySetKey),
      client.smembersBuffer(this.opts.delSetKey),
    ]);
    return { table, pending, keySet: keySet.map(bytesToText).sort(), delSet: delSet.map(bytesToText).sort() };
  }

  /**
   * The content now: the early read with every key written since read again. undefined when the watch is not live
   * (the caller reads in full). One use: the watch is closed afterwards.
   */
  async read(): Promise<ProducerTableContent | undefined> {
    try {
      if (this.phase !== 'live' || !this.sub || !this.content) return undefined;
      const content = this.content;
      // A flush (or SWAPDB) since the early read removed every key it holds without a notification: then none of
      // the keys not written since exists any more. A few of them, spread over the table, tell; asked side by side
      // with the barrier (a PING on the subscriber connection: every write before it has been notified when it
      // answers), so that a reconciliation with nothing written since costs one round trip.
      const candidates: string[] = [];
      for (const k of content.table.keys()) candidates.push(this.tablePrefix + k);
      for (const k of content.pending.keys()) candidates.push(this.pendingPrefix + k);
      const step = Math.max(1, Math.floor(candidates.length / SAMPLE));
      const sample = candidates.filter((k, i) => i % step === 0 && !this.dirty.has(k)).slice(0, SAMPLE);
      const [exists] = await Promise.all([
        sendBatch(
          this.opts.client,
          sample.map((k) => ['exists', k]),
        ),
        this.sub.ping(),
      ]);
      if (this.phase !== 'live') return undefined;
      const dirty = new Set(this.dirty);
      this.dirty.clear();
      let gone = 0;
      sample.forEach((k, i) => {
        const [err, n] = exists[i] ?? [new Error('no reply'), 0];
        if (err) throw err;
        // A key written since (a DEL, a RENAME) may be gone for a reason the watch knows: re-read below.
        if (Number(n) !== 1 && !dirty.has(k)) gone += 1;
      });
      if (gone > 0) {
        this.invalidate(`${gone} keys gone without a notification (a flush?)`);
        return undefined;
      }
      const hashes = [...dirty].filter((k) => k.startsWith(this.tablePrefix) || k.startsWith(this.pendingPrefix));
      const setsDirty = dirty.has(this.opts.keySetKey) || dirty.has(this.opts.delSetKey);
      const [results, sets] = await Promise.all([
        sendBatch(
          this.opts.client,
          hashes.map((k) => ['hgetall', k]),
        ),
        setsDirty
          ? Promise.all([
              this.opts.client.smembersBuffer(this.opts.keySetKey),
              this.opts.client.smembersBuffer(this.opts.delSetKey),
            ])
          : undefined,
      ]);
      hashes.forEach((k, j) => {
        const [err, value] = results[j] ?? [null, []];
        if (err && err.name !== 'ReplyError') throw err;
        const fields = err ? undefined : fieldsFromReply(value as Buffer[]);
        const isTable = k.startsWith(this.tablePrefix);
        const map = isTable ? content.table : content.pending;
        const key = k.slice((isTable ? this.tablePrefix : this.pendingPrefix).length);
        // Gone, emptied, or of another type now: absent, as scanHashes skips it.
        if (fields && Object.keys(fields).length > 0) map.set(key, fields);
        else map.delete(key);
      });
      if (sets) {
        content.keySet = sets[0].map(bytesToText).sort();
        content.delSet = sets[1].map(bytesToText).sort();
      }
      return content;
    } catch (err) {
      this.invalidate(`re-read failed: ${(err as Error).message}`);
      return undefined;
    } finally {
      void this.close();
    }
  }

  /** Unsubscribes and puts notify-keyspace-events back (if it is still what the watch set). Idempotent. */
  async close(): Promise<void> {
    if (this.phase === 'closed') return;
    this.phase = 'closed';
    this.content = undefined;
    this.dirty.clear();
    this.sub?.disconnect();
    this.sub = undefined;
    await this.putBack();
  }

  private async putBack(): Promise<void> {
    const restore = this.restore;
    this.restore = undefined;
    if (!restore) return;
    try {
      const now = ((await this.opts.client.config('GET', 'notify-keyspace-events')) as string[])[1] ?? '';
      if (now === restore.ours) await this.opts.client.config('SET', 'notify-keyspace-events', restore.before);
    } catch (err) {
      this.opts.logger.warn(
        { err: (err as Error).message, value: restore.before },
        'could not put notify-keyspace-events back',
      );
    }
  }
}
