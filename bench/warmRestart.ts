// P4: warm restart with 4,096 ports. A private network namespace holds 2,048 veth pairs (4,096 ends named Ethernet0,
// Ethernet4, …, created once with `ip -n NS -batch`), CONFIG_DB holds a PORT entry per end, and a cold first run of
// the daemon (bench/warmRestartChild.ts, in-process daemon under `ip netns exec`) writes the state file and APP_DB.
// SONiC decides warm or cold (authority `sonic`): the cold run leaves restore_count "0", the benchmark then sets
// STATE_DB WARM_RESTART_ENABLE_TABLE|system enable=true, so every later start is warm (asserted: warmRestart decided
// warm, the initial sync ended by EOIU, restore_count counts the warm starts). Each measured run changes, while the
// daemon is down, the MTU of some links and the CONFIG_DB speed of the same ports, and starts the daemon again.
// Figure: from the netlink dump done (the one completing portsync's tracked dump) to the HSET
// WARM_RESTART_TABLE|portsyncd state=reconciled as Redis MONITOR saw it.
// Writes = the true diff, under portsyncd's warm APP_DB contract: a warm start copies nothing from CONFIG_DB and never
// deletes a port, so the gate holds nothing during the initial sync, the reconciliation (read APP_DB, diff) writes
// what the held writes differ in (none), and PortInitDone passes the open gate afterwards. The benchmark computes
// that diff itself and checks MONITOR's APP_DB writes against it, and APP_DB after the run against APP_DB before.
// Reference: the same reconciliation done by hand with ioredis (SCAN + pipelined HGETALL of PORT_TABLE:* and
// _PORT_TABLE:*, the key and del sets, the diff of the held writes, the state HSET).
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { startEmbeddedRedis, type EmbeddedRedis } from '../src/io/redis/embedded.js';
import { scanHashes } from '../src/io/redis/scanHashes.js';
import { median, now, type Figure } from './measure.js';

const APPL_DB = 0;
const CONFIG_DB = 4;
const STATE_DB = 6;

interface ChildResult {
  startedAt: number;
  firstLinkAt?: number;
  dumpDoneAt?: number;
  dumpProcessedAt?: number;
  stateFileAt?: number;
  initialStateAt?: number;
  eoiuAt?: number;
  gateOpenAt?: number;
  readyAt: number;
  mode: string;
  /** warmRestart.decided's mode and warmRestart.synced, as portsync received them. */
  decided?: string;
  synced?: { mode: string; reason: string; set: number; del: number };
  linkEvents: number;
}

interface RunResult {
  child: ChildResult;
  reconciledAt: number;
  appWrites: string[];
  /** What the contract makes portsync write: the reconciliation's diff, then PortInitDone. */
  trueDiff: string[];
  /** The reconciliation's part of it (what the gate held and APP_DB lacked). */
  reconcileDiff: string[];
}

const portName = (i: number): string => `Ethernet${i * 4}`;
const sortedJson = (o: Record<string, string>): string => JSON.stringify(Object.entries(o).sort());

function ip(ns: string, args: string[], input?: string): string {
  return execFileSync('ip', ['-n', ns, ...args], { encoding: 'utf8', input, timeout: 120_000, maxBuffer: 64 << 20 });
}

/** APP_DB PORT_TABLE as a consumer would see it now: the consumed table with the pending producer writes over it. */
async function appDbContent(app: Redis): Promise<Map<string, Record<string, string>>> {
  const [consumed, keySet, delSet] = await Promise.all([
    scanHashes(app, 'PORT_TABLE:'),
    app.smembers('PORT_TABLE_KEY_SET'),
    app.smembers('PORT_TABLE_DEL_SET'),
  ]);
  const out = new Map<string, Record<string, string>>(consumed);
  for (const key of delSet) out.delete(key);
  const pipe = app.pipeline();
  for (const key of keySet) pipe.hgetall(`_PORT_TABLE:${key}`);
  const pending = (await pipe.exec()) ?? [];
  keySet.forEach((key, i) => {
    const fields = pending[i]?.[1] as Record<string, string> | undefined;
    if (fields && Object.keys(fields).length > 0) out.set(key, { ...out.get(key), ...fields });
  });
  return out;
}

/** What APP_DB PORT_TABLE holds after a cold start: the CONFIG_DB PORT entries, PortConfigDone {count}, PortInitDone. */
async function coldAppDb(config: Redis): Promise<Map<string, Record<string, string>>> {
  const ports = await scanHashes(config, 'PORT|');
  const out = new Map(ports);
  out.set('PortConfigDone', { count: String(ports.size) });
  out.set('PortInitDone', { lanes: '0' });
  return out;
}

/** Every difference between two APP_DB contents (set = missing or other fields, del = present only in `current`). */
function diffOf(current: Map<string, Record<string, string>>, desired: Map<string, Record<string, string>>): string[] {
  const out: string[] = [];
  for (const [key, fields] of desired) {
    const have = current.get(key);
    if (!have || sortedJson(have) !== sortedJson(fields)) out.push(`set ${key}`);
  }
  for (const key of current.keys()) if (!desired.has(key)) out.push(`del ${key}`);
  return out.sort();
}

/**
 * The reconciliation's diff as the contract defines it: a set for every held key whose fields are missing or differ
 * (extra fields do not count), a del for a held del of a present key; keys not held are kept (never deleted).
 */
function heldDiff(
  current: Map<string, Record<string, string>>,
  held: Map<string, Record<string, string> | null>,
): string[] {
  const out: string[] = [];
  for (const [key, fields] of held) {
    const have = current.get(key);
    if (fields === null) {
      if (have) out.push(`del ${key}`);
    } else if (!have || Object.entries(fields).some(([f, v]) => have[f] !== v)) out.push(`set ${key}`);
  }
  return out.sort();
}

/**
 * What portsync holds at the gate during a warm initial sync under portsyncd's contract: nothing (no CONFIG_DB copy,
 * no PortConfigDone; PortInitDone is sent after the initial sync, through the open gate).
 */
const warmHeld = (): Map<string, Record<string, string> | null> => new Map();
/** What a warm start writes after the gate opened. */
const warmAfterSync = ['set PortInitDone'];

export async function benchWarmRestart(opts: {
  runs: number;
  ports: number;
  changed: number;
  /** The absolute bound of the figure (the issue's 100 ms at 4,096 ports); other sizes are held to the ratio only. */
  boundMs?: number;
  log: (s: string) => void;
}): Promise<Figure> {
  const dir = await mkdtemp(join(tmpdir(), 'syncvisor-bench-p4-'));
  const ns = `syncvisor-bench-p4-${process.pid}`;
  let redis: EmbeddedRedis | undefined;
  const clients: Redis[] = [];
  execFileSync('ip', ['netns', 'add', ns]);
  try {
    redis = await startEmbeddedRedis({ runtimeDir: join(dir, 'redis') });
    const socket = redis.socket;
    const client = (db: number): Redis => {
      const c = new Redis({ path: socket, db, lazyConnect: false });
      clients.push(c);
      return c;
    };
    const app = client(APPL_DB);
    const config = client(CONFIG_DB);
    const state = client(STATE_DB);

    // The links, once: 2,048 veth pairs, every end up.
    let t = now();
    const batch: string[] = [];
    for (let i = 0; i < opts.ports; i += 2)
      batch.push(`link add ${portName(i)} type veth peer name ${portName(i + 1)}`);
    for (let i = 0; i < opts.ports; i++) batch.push(`link set ${portName(i)} up`);
    await writeFile(join(dir, 'links.batch'), `${batch.join('\n')}\n`);
    ip(ns, ['-batch', join(dir, 'links.batch')]);
    const linkSetupMs = now() - t;
    opts.log(`bench: P4: ${opts.ports} veth ends in ${ns} in ${(linkSetupMs / 1000).toFixed(1)} s`);

    const pipe = config.pipeline();
    for (let i = 0; i < opts.ports; i++) {
      pipe.hset(`PORT|${portName(i)}`, {
        lanes: `${i * 4},${i * 4 + 1},${i * 4 + 2},${i * 4 + 3}`,
        speed: '100000',
        alias: `etp${i + 1}`,
        admin_status: 'up',
      });
    }
    await pipe.exec();

    const statePath = join(dir, 'portsyncd.json');
    const flagsPath = join(dir, 'flags.json');
    await writeFile(
      flagsPath,
      JSON.stringify({
        services: 'portsync',
        'log.level': 'silent',
        'http.listen': '127.0.0.1:0',
        'redis.url': socket,
        'stateFile.path': statePath,
        // Long: the warm start must end by EOIU, never by the guard.
        'warmRestart.timeoutSecs': '60',
      }),
    );
    // Asynchronous: the MONITOR connection must be read while the child runs.
    const runChild = async (): Promise<ChildResult> => {
      const { stdout, stderr } = await promisify(execFile)(
        'ip',
        [
          'netns',
          'exec',
          ns,
          process.execPath,
          // BENCH_CPU_PROF=DIR: a --cpu-prof profile of every daemon run, for finding the hot path.
          ...(process.env['BENCH_CPU_PROF']
            ? [
                '--cpu-prof',
                '--cpu-prof-interval',
                process.env['BENCH_CPU_PROF_INTERVAL'] ?? '1000',
                '--cpu-prof-dir',
                process.env['BENCH_CPU_PROF'],
              ]
            : []),
          '--import',
          'tsx',
          'bench/warmRestartChild.ts',
          flagsPath,
        ],
        { encoding: 'utf8', timeout: 180_000, maxBuffer: 16 << 20 },
      );
      if (stderr.trim()) opts.log(stderr.trim());
      return JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as ChildResult;
    };

    // Cold first run: APP_DB from CONFIG_DB, STATE_DB and the state file from the kernel.
    t = now();
    const cold = await runChild();
    if (cold.mode !== 'disabled') throw new Error(`P4: the first run was not cold (${cold.mode})`);
    const saved = JSON.parse(await readFile(statePath, 'utf8')) as { ports: Record<string, unknown> };
    if (Object.keys(saved.ports).length !== opts.ports)
      throw new Error(`P4: the state file holds ${Object.keys(saved.ports).length} ports, expected ${opts.ports}`);
    const coldDiff = diffOf(await appDbContent(app), await coldAppDb(config));
    if (coldDiff.length > 0)
      throw new Error(
        `P4: after the cold run APP_DB differs from CONFIG_DB in ${coldDiff.length} keys (${coldDiff.slice(0, 3).join(', ')}…)`,
      );
    const coldDumpToOpen = (cold.gateOpenAt ?? Number.NaN) - (cold.dumpDoneAt ?? Number.NaN);
    const coldDumpMs = (cold.dumpDoneAt ?? Number.NaN) - (cold.firstLinkAt ?? Number.NaN);
    opts.log(`bench: P4: cold run ${((now() - t) / 1000).toFixed(1)} s (dump ${coldDumpMs.toFixed(0)} ms)`);
    // SONiC's cold start leaves restore_count "0"; with the enable flag every later start is warm.
    if ((await state.hget('WARM_RESTART_TABLE|portsyncd', 'restore_count')) !== '0')
      throw new Error('P4: the cold run did not set WARM_RESTART_TABLE|portsyncd restore_count to "0"');
    await state.hset('WARM_RESTART_ENABLE_TABLE|system', 'enable', 'true');

    const warmRun = async (r: number): Promise<RunResult> => {
      // While the daemon is down: MTU and CONFIG_DB speed of `changed` ports (another set, new values each run).
      const changed = Array.from({ length: opts.changed }, (_, k) => (r * 997 + k * 61) % opts.ports);
      ip(ns, ['-batch', '-'], `${changed.map((p) => `link set ${portName(p)} mtu ${2000 + r}`).join('\n')}\n`);
      const cp = config.pipeline();
      for (const p of changed) cp.hset(`PORT|${portName(p)}`, 'speed', String(40_000 + r));
      await cp.exec();
      const before = await appDbContent(app);
      const reconcileDiff = heldDiff(before, warmHeld());
      const trueDiff = [...reconcileDiff, ...warmAfterSync].sort();
      // The previous run's final state would end the child's wait at once.
      await state.hdel('WARM_RESTART_TABLE|portsyncd', 'state');

      const appWrites: string[] = [];
      let reconciledAt = Number.NaN;
      const monitor = await client(APPL_DB).monitor();
      monitor.on('monitor', (time: string, args: string[], source: string, database: string) => {
        const cmd = args[0]?.toLowerCase();
        if (Number(database) === APPL_DB && source !== 'lua' && (cmd === 'evalsha' || cmd === 'eval')) {
          // The ProducerStateTable scripts: EVALSHA sha numkeys KEYS… ARGV…; the del script has 4 keys, set 3.
          appWrites.push(`${args[2] === '4' ? 'del' : 'set'} ${args[args.indexOf('G') + 1]}`);
        } else if (
          Number(database) === APPL_DB &&
          source !== 'lua' &&
          /^(hset|hmset|hdel|del|sadd|srem|set)$/.test(cmd ?? '')
        )
          appWrites.push(`raw ${args.join(' ')}`);
        if (args.includes('WARM_RESTART_TABLE|portsyncd') && args.includes('reconciled') && Number.isNaN(reconciledAt))
          reconciledAt = Number(time) * 1000;
      });
      const child = await runChild();
      // What MONITOR has sent up to now (the child is gone): one round trip on another connection lets it arrive.
      await app.ping();
      await new Promise((r) => setTimeout(r, 50));
      monitor.disconnect();
      if (child.mode !== 'reconciled' || child.decided !== 'warm' || child.synced?.mode !== 'warm')
        throw new Error(
          `P4: run ${r} was not a warm start (WARM_RESTART_TABLE state ${child.mode}, decided ${child.decided ?? 'nothing'})`,
        );
      if (child.eoiuAt === undefined || child.synced.reason !== 'eoiu')
        throw new Error(`P4: run ${r} ended without EOIU (${child.synced.reason}: by the timeout guard?)`);
      if (child.synced.set + child.synced.del !== reconcileDiff.length)
        throw new Error(
          `P4: run ${r}: the reconciliation wrote ${child.synced.set} sets and ${child.synced.del} dels, the diff has ${reconcileDiff.length}`,
        );
      const restoreCount = await state.hget('WARM_RESTART_TABLE|portsyncd', 'restore_count');
      if (restoreCount !== String(r + 1))
        throw new Error(`P4: run ${r}: restore_count ${restoreCount ?? 'missing'}, expected ${r + 1} warm starts`);
      // STATE_DB follows the kernel: every port, the changed MTUs.
      const rows = await scanHashes(state, 'PORT_TABLE|');
      if (rows.size !== opts.ports) throw new Error(`P4: ${rows.size} STATE_DB ports, expected ${opts.ports}`);
      for (const p of changed)
        if (rows.get(portName(p))?.['mtu'] !== String(2000 + r))
          throw new Error(`P4: STATE_DB ${portName(p)} does not hold the MTU set while the daemon was down`);
      // The contract: nothing copied from CONFIG_DB (the speed changed while down is not portsync's to write at a
      // warm start), nothing deleted; PortInitDone rewritten with the same value.
      const after = diffOf(await appDbContent(app), before);
      if (after.length > 0)
        throw new Error(`P4: the warm start changed APP_DB beyond the contract: ${after.join(', ')}`);
      return { child, reconciledAt, appWrites: appWrites.sort(), trueDiff, reconcileDiff };
    };

    /**
     * The reference: the same reconciliation by hand — read APP_DB as the gate reads it (SCAN + pipelined HGETALL of
     * PORT_TABLE:* and _PORT_TABLE:*, the key and del sets), diff the held writes, write the diff and the state HSET
     * (to a key of its own, so the next run's MONITOR sees only the daemon's).
     */
    const byHand = async (): Promise<number> => {
      const held = warmHeld();
      const t0 = now();
      const [consumed, pending, keySet, delSet] = await Promise.all([
        scanHashes(app, 'PORT_TABLE:'),
        scanHashes(app, '_PORT_TABLE:'),
        app.smembers('PORT_TABLE_KEY_SET'),
        app.smembers('PORT_TABLE_DEL_SET'),
      ]);
      const current = new Map(consumed);
      for (const key of delSet) current.delete(key);
      for (const key of keySet) {
        const fields = pending.get(key);
        if (fields && Object.keys(fields).length > 0) current.set(key, { ...current.get(key), ...fields });
      }
      const p = app.pipeline();
      for (const w of heldDiff(current, held)) {
        const key = w.slice(4);
        const fields = held.get(key);
        if (fields) p.hset(`_PORT_TABLE:${key}`, fields);
        else p.del(`_PORT_TABLE:${key}`);
      }
      await Promise.all([p.exec(), state.hset('WARM_RESTART_TABLE|bench-reference', 'state', 'reconciled')]);
      return now() - t0;
    };

    const fig: number[] = [];
    const open: number[] = [];
    const ceil: number[] = [];
    const details: string[] = [];
    let writesMatch = true;
    for (let r = 0; r < opts.runs; r++) {
      const res = await warmRun(r);
      const dumpDone = res.child.dumpDoneAt ?? Number.NaN;
      fig.push(res.reconciledAt - dumpDone);
      open.push((res.child.gateOpenAt ?? Number.NaN) - dumpDone);
      const match = JSON.stringify(res.appWrites) === JSON.stringify(res.trueDiff);
      writesMatch &&= match;
      details.push(
        `run ${r + 1}: dump ${(dumpDone - (res.child.firstLinkAt ?? Number.NaN)).toFixed(0)} ms for ${res.child.linkEvents} link events, dump done → processed by portsync ${((res.child.dumpProcessedAt ?? Number.NaN) - dumpDone).toFixed(1)} ms; state file answered ${((res.child.stateFileAt ?? Number.NaN) - dumpDone).toFixed(0)} ms, CONFIG_DB/STATE_DB read ${((res.child.initialStateAt ?? Number.NaN) - dumpDone).toFixed(0)} ms (relative to dump done); → EOIU ${((res.child.eoiuAt ?? Number.NaN) - dumpDone).toFixed(1)} ms → gate open ${(open.at(-1) ?? 0).toFixed(1)} ms → reconciled ${(fig.at(-1) ?? 0).toFixed(1)} ms; APP_DB writes ${res.appWrites.length}, true diff ${res.trueDiff.length}${match ? ' (same keys)' : ` (DIFFERENT: wrote ${res.appWrites.slice(0, 5).join(', ')}…)`}`,
      );
      ceil.push(await byHand());
      opts.log(`bench: P4: ${details.at(-1)}`);
    }
    const figure = median(fig);
    const ceiling = median(ceil);
    return {
      id: `P4/${opts.ports}`,
      title: `Warm restart with ${opts.ports.toLocaleString('en-US')} ports: dump done → reconciled (${opts.changed} ports changed while down)`,
      figure,
      unit: 'ms',
      ceiling,
      ceilingLabel:
        'the same reconciliation by hand with ioredis: SCAN + pipelined HGETALL of APPL_DB, diff, write it and the state (ms)',
      ratio: figure / ceiling,
      target: `${opts.boundMs === undefined ? '' : `<= ${opts.boundMs} ms and `}ratio <= 2, Redis writes = true diff`,
      met: (opts.boundMs === undefined || figure <= opts.boundMs) && figure / ceiling <= 2 && writesMatch,
      runs: opts.runs,
      samples: { figure: fig, ceiling: ceil },
      notes: [
        `${opts.ports} veth ends (${opts.ports / 2} pairs) in a private namespace, created once per benchmark with \`ip -n NS -batch\` (${(linkSetupMs / 1000).toFixed(1)} s); CONFIG_DB holds a PORT entry per end. A cold first run wrote APP_DB, STATE_DB and the state file (its dump: ${coldDumpMs.toFixed(0)} ms; dump done → gate open ${coldDumpToOpen.toFixed(1)} ms).`,
        `Each run: while the daemon is down, ${opts.changed} links get a new MTU and the same ${opts.changed} CONFIG_DB ports a new speed; then the daemon (in-process in a child under \`ip netns exec\`, portsync only, this benchmark's redis-server) starts warm. The figure runs from the netlink dumpDone that completes portsync's tracked dump (inspection event, wall clock) to the HSET of WARM_RESTART_TABLE|portsyncd state=reconciled as Redis MONITOR timed it; in between: EOIU, pruning against the dump, the gate's read (the early read of APP_DB's ${opts.ports + 2} keys, taken when warm was decided, checked with one round trip), the diff and its writes, the gate opening (the state file's replace follows the reconciliation; no save runs before it).`,
        `Warm for real: SONiC's authority (WARM_RESTART_ENABLE_TABLE|system enable=true, set after the cold run left restore_count "0"); every run checks that warmRestart decided warm, that the initial sync ended by EOIU (not the timeout guard) and that restore_count counts the warm starts.`,
        `Writes = the true diff under portsyncd's warm APP_DB contract (docs/warm-restart.md): a warm start copies nothing from CONFIG_DB and deletes no port, so the gate holds nothing during the initial sync, the reconciliation reads APP_DB (${opts.ports + 2} keys) and finds nothing to write, and PortInitDone passes the open gate afterwards. The benchmark computes that diff from APP_DB before the start and compares it with the client EVALSHA calls of the ProducerStateTable scripts on db 0 (MONITOR) and with what the reconciliation reported: equal in every run: ${writesMatch ? 'yes' : '**no**'}. After each run STATE_DB holds every port with the new MTUs and APP_DB is unchanged (the CONFIG_DB speed changed while down is not portsync's to copy at a warm start).`,
        `Gate open (median): ${median(open).toFixed(1)} ms after dump done.`,
        `Per-run ratios (each warm run against the reference run right after it; the figure's ratio is median over median): ${fig.map((f, i) => (f / (ceil[i] ?? Number.NaN)).toFixed(2)).join(', ')}; their median ${median(fig.map((f, i) => f / (ceil[i] ?? Number.NaN))).toFixed(2)}.`,
        ...details,
      ],
    };
  } finally {
    for (const c of clients) c.disconnect();
    try {
      execFileSync('ip', ['netns', 'del', ns]);
    } catch {
      /* already gone */
    }
    await redis?.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
