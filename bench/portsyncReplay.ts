// P3: netlink frames recorded from a real kernel (test/fixtures/netlink), re-addressed to 4,096 ports, replayed
// through the decoder (src/io/netlink/decode.ts) and portsync's STATE_DB mapping into the real writer
// (src/io/redis/stateTable.ts) against a private redis-server on a Unix socket, vs a C peer with hiredis writing the
// same 4-field HSETs over one connection, pipelined in batches like our writer (bench/hiredisPeer.c, compiled here with
// cc), and the same C peer in portsyncd's style of one synchronous round trip per event.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as yieldLoop } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { decodeDatagram, IFF_RUNNING, IFF_UP } from '../src/io/netlink/decode.js';
import { silentLogger } from '../src/io/log.js';
import { RedisConnection } from '../src/io/redis/connection.js';
import { startEmbeddedRedis, type EmbeddedRedis } from '../src/io/redis/embedded.js';
import { scanHashes } from '../src/io/redis/scanHashes.js';
import { StateTable } from '../src/io/redis/stateTable.js';
import { statePortFields } from '../src/machines/portsync/portsync.js';
import { median, now, type Figure } from './measure.js';

const NLMSG_HDRLEN = 16;
const IFINFO_LEN = 16;
const IFLA_IFNAME = 3;
const align4 = (n: number): number => (n + 3) & ~3;

/** The first RTM_NEWLINK of a recorded datagram, as a byte template. */
async function template(): Promise<Buffer> {
  const rec = JSON.parse(await readFile('test/fixtures/netlink/up.json', 'utf8')) as { datagrams: string[] };
  const dg = Buffer.from(rec.datagrams[0]!, 'hex');
  const len = dg.readUInt32LE(0);
  return dg.subarray(0, len);
}

/** A copy of the template NEWLINK with another name, ifindex and ifi_flags (attributes re-laid, lengths fixed). */
export function relink(tpl: Buffer, name: string, ifindex: number, flags: number): Buffer {
  const parts: Buffer[] = [];
  const head = Buffer.from(tpl.subarray(0, NLMSG_HDRLEN + IFINFO_LEN));
  head.writeInt32LE(ifindex, NLMSG_HDRLEN + 4);
  head.writeUInt32LE(flags, NLMSG_HDRLEN + 8);
  parts.push(head);
  let off = NLMSG_HDRLEN + IFINFO_LEN;
  while (off + 4 <= tpl.length) {
    const alen = tpl.readUInt16LE(off);
    const atype = tpl.readUInt16LE(off + 2) & 0x3fff;
    if (alen < 4) break;
    if (atype === IFLA_IFNAME) {
      const value = Buffer.from(`${name}\0`);
      const attr = Buffer.alloc(align4(4 + value.length));
      attr.writeUInt16LE(4 + value.length, 0);
      attr.writeUInt16LE(IFLA_IFNAME, 2);
      value.copy(attr, 4);
      parts.push(attr);
    } else {
      parts.push(tpl.subarray(off, off + align4(alen)));
    }
    off += align4(alen);
  }
  const msg = Buffer.concat(parts);
  msg.writeUInt32LE(msg.length, 0);
  return msg;
}

/**
 * Compiles bench/hiredisPeer.c into `dir` (cc, -lhiredis). libhiredis-dev missing: installs it with apt-get when
 * running as root (and says so), else returns the reason the C references are skipped.
 */
export function buildHiredisPeer(dir: string, log: (s: string) => void): { path: string } | { skipped: string } {
  const out = join(dir, 'hiredisPeer');
  const compile = (): boolean =>
    spawnSync('cc', ['-O2', '-o', out, 'bench/hiredisPeer.c', '-lhiredis'], { stdio: 'ignore', timeout: 60_000 })
      .status === 0;
  if (compile()) return { path: out };
  if (spawnSync('cc', ['--version'], { stdio: 'ignore' }).status !== 0)
    return { skipped: 'no C compiler (cc): install Debian package gcc' };
  if (process.getuid?.() !== 0)
    return { skipped: 'cannot compile bench/hiredisPeer.c: install Debian package libhiredis-dev (needs root)' };
  log('bench: P3: compiling the hiredis peer failed: installing Debian package libhiredis-dev with apt-get');
  const apt = spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'libhiredis-dev'], {
    stdio: 'inherit',
    timeout: 300_000,
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  if (apt.status === 0 && compile()) return { path: out };
  return { skipped: 'libhiredis-dev could not be installed (apt-get failed): the C references are not measured' };
}

function hiredisRun(
  peer: string,
  socket: string,
  mode: 'pipelined' | 'sync',
  ports: number,
  rounds: number,
  batch: number,
): number {
  const out = execFileSync(peer, [socket, '6', mode, String(ports), String(rounds), String(batch)], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  const rate = Number(out.trim());
  if (!Number.isFinite(rate)) throw new Error(`P3: cannot read the hiredis peer's output: ${out}`);
  return rate;
}

export async function benchPortsyncReplay(opts: {
  runs: number;
  ports: number;
  rounds: number;
  batch: number;
  log: (s: string) => void;
}): Promise<Figure[]> {
  const dir = await mkdtemp(join(tmpdir(), 'syncvisor-bench-p3-'));
  const peer = buildHiredisPeer(dir, opts.log);
  let redis: EmbeddedRedis | undefined;
  let conn: RedisConnection | undefined;
  let check: Redis | undefined;
  try {
    redis = await startEmbeddedRedis({ runtimeDir: dir });
    const socket = redis.socket;
    conn = new RedisConnection({ url: socket, db: 6, logger: silentLogger });
    await conn.ready();
    check = new Redis({ path: socket, db: 6 });
    const table = new StateTable({ conn, table: 'PORT_TABLE', separator: '|', logger: silentLogger });
    const tpl = await template();
    const pattern = /^(Ethernet|PortChannel)\d+$/;
    const upFlags = IFF_UP | IFF_RUNNING | 0x1000 | 0x2; // UP, BROADCAST, RUNNING, MULTICAST as a veth reports
    const downFlags = 0x1000 | 0x2;
    // One datagram per notification, as the kernel sends link events; round r sets every port up (even) or down.
    const frames: Buffer[] = [];
    for (let r = 0; r < opts.rounds; r++)
      for (let p = 0; p < opts.ports; p++)
        frames.push(relink(tpl, `Ethernet${p * 4}`, 1000 + p, r % 2 === 0 ? upFlags : downFlags));
    const events = frames.length;
    const lastUp = (opts.rounds - 1) % 2 === 0;

    const replay = async (): Promise<{ rate: number; writes: number }> => {
      await check!.flushdb();
      const opsBefore = table.writer.stats.ops;
      const t = now();
      for (let i = 0; i < frames.length; i += opts.batch) {
        const end = Math.min(frames.length, i + opts.batch);
        for (let j = i; j < end; j++) {
          for (const m of decodeDatagram(frames[j]!).messages) {
            if ((m.type !== 'newlink' && m.type !== 'dellink') || !pattern.test(m.name)) continue;
            if (m.type === 'dellink') table.del(m.name);
            else table.set(m.name, statePortFields(m.flags, m.mtu));
          }
        }
        await yieldLoop(); // the netlink source delivers bounded batches per event-loop turn
      }
      if (!(await table.drain(60_000))) throw new Error('P3: the STATE_DB writer did not drain');
      const ms = now() - t;
      const rows = await scanHashes(check!, 'PORT_TABLE|');
      if (rows.size !== opts.ports) throw new Error(`P3: ${rows.size} STATE_DB ports, expected ${opts.ports}`);
      for (const [, fields] of rows)
        if (fields['netdev_oper_status'] !== (lastUp ? 'up' : 'down') || fields['state'] !== 'ok')
          throw new Error('P3: STATE_DB does not hold the last replayed state');
      return { rate: (events / ms) * 1000, writes: table.writer.stats.ops - opsBefore };
    };

    /** The C peer's rate, with STATE_DB checked like after a replay. */
    const c = async (mode: 'pipelined' | 'sync'): Promise<number> => {
      if (!('path' in peer)) return Number.NaN;
      await check!.flushdb();
      const rate = hiredisRun(peer.path, socket, mode, opts.ports, opts.rounds, 2000);
      const rows = await scanHashes(check!, 'PORT_TABLE|');
      if (
        rows.size !== opts.ports ||
        [...rows.values()].some((f) => f['netdev_oper_status'] !== (lastUp ? 'up' : 'down'))
      )
        throw new Error(`P3: the hiredis peer (${mode}) did not leave the last state in STATE_DB`);
      return rate;
    };

    await replay(); // warm-up
    await c('pipelined');
    const fig: number[] = [];
    const ceil: number[] = [];
    const sync: number[] = [];
    const writes: number[] = [];
    for (let i = 0; i < opts.runs; i++) {
      const r = await replay();
      fig.push(r.rate);
      writes.push(r.writes);
      ceil.push(await c('pipelined'));
      sync.push(await c('sync'));
    }
    const figure = median(fig);
    const ceiling = median(ceil);
    const syncRate = median(sync);
    const skipped = 'skipped' in peer ? peer.skipped : undefined;
    const notes = [
      `Frames: the recorded RTM_NEWLINK of test/fixtures/netlink/up.json (${tpl.length} bytes, kernel-made) re-addressed per port, one datagram per event, fed ${opts.batch} per event-loop turn. Each event is a 4-field HSET of PORT_TABLE|<port> in db 6 through the coalescing writer (one connection, one EVAL per flush of up to 2,000 keys, encoded into one reused Buffer, replies checked).`,
      `Redis writes per run (median): ${median(writes)} for ${events} events (the writer keeps only the latest value of a key not yet flushed); STATE_DB checked after every run, also after each C run.`,
      `C peer (bench/hiredisPeer.c, hiredis, one Unix-socket connection): the same ${events.toLocaleString('en-US')} 4-field HSETs, pipelined ${'path' in peer ? 'in batches of 2,000 (replies read per batch)' : ''}; sync = one redisCommand (one round trip) per event.`,
      ...(skipped ? [`C references not measured: ${skipped}.`] : []),
    ];
    const title = `portsync replay, ${events.toLocaleString('en-US')} link events (${opts.ports} ports × ${opts.rounds} rounds) per run`;
    return [
      {
        id: 'P3',
        title,
        figure,
        unit: 'events/s',
        ceiling,
        ceilingLabel: 'C hiredis, pipelined, one connection, same 4-field writes (events/s)',
        ratio: figure / ceiling,
        target: 'ratio >= 0.6',
        met: skipped ? undefined : figure / ceiling >= 0.6,
        runs: opts.runs,
        samples: { figure: fig, ceiling: ceil },
        notes,
      },
      {
        id: 'P3 peer',
        title: 'portsync replay vs portsyncd style (one synchronous round trip per event)',
        figure,
        unit: 'events/s',
        ceiling: syncRate,
        ceilingLabel: 'C hiredis, one redisCommand round trip per event (events/s)',
        ratio: figure / syncRate,
        target: 'ratio >= 1 (faster; report)',
        met: skipped ? undefined : figure / syncRate >= 1,
        runs: opts.runs,
        samples: { figure: fig, ceiling: sync },
        notes: [
          'Same runs as P3; the ratio is how many times faster the coalescing writer is than one round trip per event.',
        ],
      },
    ];
  } finally {
    check?.disconnect();
    await conn?.close();
    await redis?.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
