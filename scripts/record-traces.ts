// Records the traces in test/traces/ from real runs of the daemon, with their live final snapshots
// (FILE.snapshot.json). Run: `npx tsx scripts/record-traces.ts [name…]` after `npm run build`. The replay tests
// (test/traces/replay.test.ts, test/traces/modelChecks.test.ts) re-run them on a simulated clock.
//   ptp-*                  the real daemon over the real Unix socket (no root needed): restart under load,
//                          holdover expiry, a synce4l device and a phc2sys discipline loss
//   portsync-inproc        portsync in-process with a scripted netlink source and a real redis-server on a private
//                          socket: the warm-restart logic, no kernel involved, so no root needed
//   portsync               the real daemon with real netlink in a network namespace (root): the kernel paths
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const bin = join(root, 'bin/syncvisor.js');
const out = join(root, 'test/traces');
const examples = join(root, 'deploy/demo');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Daemon {
  proc: ChildProcess;
  stderr: () => string;
  stop(): Promise<number | null>;
}

function startDaemon(args: string[], env: Record<string, string> = {}): Daemon {
  const proc = spawn(process.execPath, [bin, 'run', '--http', '127.0.0.1:0', '--log-level', 'info', ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  return {
    proc,
    stderr: () => err,
    stop: () =>
      new Promise((resolve) => {
        proc.once('exit', resolve);
        proc.kill('SIGTERM');
      }),
  };
}

async function waitFor(what: string, check: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

function ptpDirs(): { dir: string; sock: string; args: string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'syncvisor-trace-'));
  mkdirSync(join(dir, 'profiles'));
  mkdirSync(join(dir, 'cfg'));
  copyFileSync(join(examples, 'node1.json'), join(dir, 'profiles/node1'));
  copyFileSync(join(examples, 'ptp4l.0.config'), join(dir, 'cfg/ptp4l.0.config'));
  copyFileSync(join(examples, 'ptp4l.1.config'), join(dir, 'cfg/ptp4l.1.config'));
  const sock = join(dir, 'events.sock');
  const args = ['--services', 'ptp', '--set', `ptp.socketPath=${sock}`, '--set', `ptp.configDir=${join(dir, 'cfg')}`];
  args.push('--set', `ptp.profilePath=${join(dir, 'profiles')}`, '--set', 'ptp.nodeName=node1');
  // No linuxptp-daemon here: without its calls a load takes milliseconds, as on a node where the daemon answers.
  args.push('--set', 'ptp.emitLogsUrl=', '--set', 'ptp.portAliasesUrl=');
  return { dir, sock, args };
}

function client(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const c = connect(path, () => resolve(c));
    c.on('error', reject);
  });
}

const offset = (i: number, ns: number) =>
  `ptp4l[${1000 + i}.000]: [ptp4l.0.config] master offset ${ns} s2 freq +500 path delay 89\n`;

/** ptp restart under load: one connection streams offsets while a second sends CMD RESTART twice. */
async function ptpRestartUnderLoad(name: string): Promise<void> {
  const { dir, sock, args } = ptpDirs();
  const d = startDaemon([...args, '--trace', join(out, `${name}.jsonl`)]);
  await waitFor('the socket', () => d.stderr().includes('"serving"') || d.stderr().includes('http listening'));
  await sleep(300);
  const stream = await client(sock);
  for (let i = 0; i < 400; i++) {
    stream.write(offset(i, i % 50 === 0 ? 400 : (i % 7) - 3));
    if (i === 150 || i === 300) {
      const ctl = await client(sock);
      ctl.end('CMD RESTART\n');
    }
    if (i % 25 === 0) await sleep(5);
  }
  stream.write(readFileSync(join(examples, 'lines.txt')));
  await sleep(300);
  stream.end();
  await sleep(100);
  console.log(`${name}: exit ${await d.stop()}`);
  rmSync(dir, { recursive: true, force: true });
}

/** holdover expiry: a SLAVE port goes FAULTY (HOLDOVER), the profile's 1 s holdover runs out (FREERUN). */
async function ptpHoldoverExpiry(name: string): Promise<void> {
  const { dir, sock, args } = ptpDirs();
  const cm = JSON.parse(readFileSync(join(dir, 'profiles/node1'), 'utf8')) as Array<{
    ptpClockThreshold: { holdOverTimeout: number };
  }>;
  for (const p of cm) p.ptpClockThreshold.holdOverTimeout = 1;
  writeFileSync(join(dir, 'profiles/node1'), JSON.stringify(cm));
  const d = startDaemon([...args, '--trace', join(out, `${name}.jsonl`)]);
  await waitFor('the listener', () => d.stderr().includes('http listening'));
  await sleep(300);
  const c = await client(sock);
  c.write('ptp4l[1.0]: [ptp4l.1.config:5] port 1 (ens1f0): UNCALIBRATED to SLAVE on MASTER_CLOCK_SELECTED\n');
  c.write('ptp4l[1.1]: [ptp4l.0.config] master offset -5 s2 freq +500 path delay 89\n');
  await sleep(100);
  c.write('ptp4l[2.0]: [ptp4l.1.config:5] port 1 (ens1f0): SLAVE to FAULTY on FAULT_DETECTED (FT_UNSPECIFIED)\n');
  await sleep(1_500); // the 1 s holdover expires in the daemon
  c.end();
  await sleep(100);
  console.log(`${name}: exit ${await d.stop()}`);
  rmSync(dir, { recursive: true, force: true });
}

/**
 * synce4l and phc2sys: a synce4l device (synce1, ports ens7f0 and ens7f1) goes LOCKED → HOLDOVER → FREERUN by its
 * ports' EEC states (the synceDevice chart), and phc2sys (`-a -r`) of a boundary clock reconfigures, selects its NIC
 * but never CLOCK_REALTIME: after the settle time the osClockDiscipline chart says undisciplined and the profile's OS
 * clock is FREERUN, until a CLOCK_REALTIME sample proves discipline again.
 */
async function ptpSynceDiscipline(name: string): Promise<void> {
  const { dir, sock, args } = ptpDirs();
  const threshold = { holdOverTimeout: 60, maxOffsetThreshold: 100, minOffsetThreshold: -100 };
  const profiles = [
    { name: 'synce', synce4lOpts: '-f /etc/synce4l.conf', ptpClockThreshold: threshold },
    { name: 'bc-os', interface: 'ens5f0', ptp4lOpts: '-2 -s', phc2sysOpts: '-a -r', ptpClockThreshold: threshold },
  ];
  writeFileSync(join(dir, 'profiles/node1'), JSON.stringify(profiles));
  rmSync(join(dir, 'cfg'), { recursive: true, force: true });
  mkdirSync(join(dir, 'cfg'));
  writeFileSync(
    join(dir, 'cfg/synce4l.0.config'),
    '#profile: synce\n[global]\n[<synce1>]\nnetwork_option 2\n[ens7f0]\n[ens7f1]\n',
  );
  writeFileSync(join(dir, 'cfg/ptp4l.0.config'), '#profile: bc-os\n[global]\n[ens5f0]\n');
  const d = startDaemon([...args, '--trace', join(out, `${name}.jsonl`)]);
  await waitFor('the listener', () => d.stderr().includes('http listening'));
  await sleep(300);
  const c = await client(sock);
  const send = async (...lines: string[]) => {
    c.write(lines.map((l) => `${l}\n`).join(''));
    await sleep(100);
  };
  const eec = (port: string, state: string, s: string) =>
    `synce4l[1722456110]:[synce4l.0.config] ${port} device synce1 eec_state ${state} network_option 2 ${s}`;
  await send(eec('ens7f0', 'EEC_LOCKED', 's2'));
  await send(eec('ens7f1', 'EEC_FREERUN', 's0')); // another port FREERUN: the device follows the LOCKED one
  await send(eec('ens7f0', 'EEC_HOLDOVER', 's1'));
  await send(eec('ens7f0', 'EEC_FREERUN', 's0'));
  // The boundary clock's ptp4l and phc2sys lock, so the OS clock of bc-os is LOCKED.
  await send(
    'ptp4l[3263.000]: [ptp4l.0.config] master offset 5 s2 freq +1 path delay 10',
    'phc2sys[3263.065]: [ptp4l.0.config] CLOCK_REALTIME phc offset 3 s2 freq -20217 delay 536',
  );
  await send(
    'phc2sys[3264.000]: [ptp4l.0.config] reconfiguring after port state change',
    'phc2sys[3264.000]: [ptp4l.0.config] selecting ens5f0 for synchronization',
  );
  await sleep(400); // the 200 ms settle time runs out in the daemon: undisciplined
  await send('phc2sys[3265.065]: [ptp4l.0.config] CLOCK_REALTIME phc offset 2 s2 freq -20217 delay 536');
  c.end();
  await sleep(100);
  console.log(`${name}: exit ${await d.stop()}`);
  rmSync(dir, { recursive: true, force: true });
}

/** A private redis-server and a network namespace with veth ports, for the portsync recordings. */
async function portsyncWorld() {
  const { createNetns } = await import('../test/support/netns.js');
  const { Redis } = await import('ioredis');
  const dir = mkdtempSync(join(tmpdir(), 'syncvisor-trace-ps-'));
  const socket = join(dir, 'redis.sock');
  const redis = spawn('redis-server', ['--port', '0', '--unixsocket', socket, '--save', '', '--appendonly', 'no'], {
    stdio: 'ignore',
  });
  await waitFor('redis', () => {
    try {
      return readFileSync('/proc/net/unix', 'utf8').includes(socket);
    } catch {
      return false;
    }
  });
  const ns = createNetns('svtr');
  ns.ip(['link', 'set', 'lo', 'up']);
  ns.addVethPair('Ethernet0', 'p0');
  ns.addVethPair('Ethernet4', 'p4');
  for (const l of ['Ethernet0', 'p0', 'Ethernet4', 'p4']) ns.set(l, 'up');
  const config = new Redis({ path: socket, db: 4 });
  const state = new Redis({ path: socket, db: 6 });
  await config.hset('PORT|Ethernet0', { lanes: '1,2,3,4', speed: '100000', alias: 'etp1' });
  await config.hset('PORT|Ethernet4', { lanes: '5,6,7,8', speed: '100000', alias: 'etp2' });
  const cfgFile = (trace: string, timeoutSecs = 10) => {
    const f = join(dir, `${trace}.yaml`);
    writeFileSync(
      f,
      [
        'services: [portsync]',
        `redis: { url: ${socket} }`,
        'http: { listen: "127.0.0.1:0" }',
        `stateFile: { path: ${join(dir, 'state', 'portsyncd.json')}, debounceMs: 50 }`,
        `warmRestart: { timeoutSecs: ${timeoutSecs} }`,
        `trace: { path: ${join(out, `${trace}.jsonl`)} }`,
      ].join('\n'),
    );
    return f;
  };
  const daemon = (configFile: string) => {
    const proc = spawn('ip', ['netns', 'exec', ns.name, process.execPath, bin, 'run', '--config', configFile], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    return {
      stderr: () => err,
      stop: () =>
        new Promise<number | null>((resolve) => {
          proc.once('exit', resolve);
          proc.kill('SIGTERM');
        }),
    };
  };
  const warmState = async () => (await state.hget('WARM_RESTART_TABLE|portsyncd', 'state')) ?? '';
  return {
    ns,
    config,
    state,
    cfgFile,
    daemon,
    warmState,
    async close() {
      config.disconnect();
      state.disconnect();
      ns.destroy();
      redis.kill('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** portsync cold start, then a warm start that completes by EOIU, then one that completes by the timeout guard. */
async function portsyncRuns(): Promise<void> {
  const w = await portsyncWorld();
  try {
    // Cold: no state file. Settle, flap a port, stop (the final save writes the state file).
    let d = w.daemon(w.cfgFile('portsync-cold'));
    await waitFor('cold start', () => d.stderr().includes('http listening'), 20_000);
    const settled = async (want: string) => {
      const end = Date.now() + 20_000;
      while ((await w.warmState()) !== want) {
        if (Date.now() > end) throw new Error(`WARM_RESTART_TABLE never became ${want}: ${d.stderr().slice(-3000)}`);
        await sleep(50);
      }
    };
    await settled('disabled');
    await sleep(500);
    w.ns.set('p4', 'down');
    await sleep(300);
    w.ns.set('p4', 'up');
    await sleep(500);
    console.log(`portsync-cold: exit ${await d.stop()}`);

    // Warm with EOIU: SONiC's enable flag is set (the cold run left restore_count "0"), the state file is fresh; one MTU
    // changes while the daemon is down.
    w.ns.mtu('Ethernet4', 9100);
    await w.state.hset('WARM_RESTART_ENABLE_TABLE|swss', 'enable', 'true');
    await w.state.hdel('WARM_RESTART_TABLE|portsyncd', 'state');
    d = w.daemon(w.cfgFile('portsync-warm-eoiu'));
    await settled('reconciled');
    // A new configured port comes up: the state file will list it.
    await w.config.hset('PORT|Ethernet99', { lanes: '9', speed: '100000', alias: 'etp99' });
    w.ns.addVethPair('Ethernet99', 'p99');
    await sleep(500);
    console.log(`portsync-warm-eoiu: exit ${await d.stop()}`);

    // Warm by timeout: Ethernet99 (state file and CONFIG_DB) is deleted while the daemon is down and never comes
    // back, so EOIU cannot be seen; the 2 s guard completes the initial sync.
    w.ns.del('Ethernet99');
    await w.state.hdel('WARM_RESTART_TABLE|portsyncd', 'state');
    d = w.daemon(w.cfgFile('portsync-warm-timeout', 2));
    await settled('reconciled');
    await sleep(500);
    console.log(`portsync-warm-timeout: exit ${await d.stop()}`);
  } finally {
    await w.close();
  }
}

/**
 * A netlink source without a kernel: a table of links that answers each dump request like the real source (dump
 * started, one RTM_NEWLINK per link in the dump, done) and reports changes as notifications.
 */
async function scriptedNetlink() {
  const { fromCallback } = await import('xstate');
  type Link = { name: string; ifindex: number; up: boolean; mtu: number };
  const links = new Map<string, Link>();
  let emit: ((e: Record<string, unknown>) => void) | undefined;
  let seq = 0;
  const msg = (l: Link, inDump: boolean, dumpSeq: number, kind: 'new' | 'del' = 'new') => ({
    type: 'netlink.link',
    kind,
    name: l.name,
    ifindex: l.ifindex,
    flags: l.up ? 0x1 | 0x40 | 0x1000 | 0x2 : 0x2 | 0x1000,
    change: 0,
    mtu: l.mtu,
    operstate: l.up ? 6 : 2,
    master: 0,
    linkKind: l.name === 'lo' ? '' : 'veth',
    inDump,
    seq: inDump ? dumpSeq : 0,
  });
  const dump = (reason: 'start' | 'request') => {
    const s = ++seq;
    emit?.({ type: 'netlink.dumpStarted', seq: s, reason });
    // The answer arrives later, as from the kernel.
    setTimeout(() => {
      for (const l of links.values()) emit?.(msg(l, true, s));
      emit?.({ type: 'netlink.dumpDone', seq: s, interrupted: false });
    }, 5);
  };
  const logic = fromCallback(({ sendBack, receive }) => {
    emit = (e) => sendBack(e as never);
    dump('start');
    receive((e) => {
      if ((e as { type: string }).type === 'netlink.requestDump') dump('request');
    });
    return () => {
      emit = undefined;
    };
  });
  let next = 1;
  return {
    logic,
    add(name: string, mtu = 1500) {
      const l = { name, ifindex: next++, up: true, mtu };
      links.set(name, l);
      emit?.(msg(l, false, 0));
    },
    set(name: string, change: Partial<Pick<Link, 'up' | 'mtu'>>) {
      const l = links.get(name)!;
      Object.assign(l, change);
      emit?.(msg(l, false, 0));
    },
    del(name: string) {
      const l = links.get(name)!;
      links.delete(name);
      emit?.(msg(l, false, 0, 'del'));
    },
  };
}

/**
 * portsync in-process: the real machines and Redis I/O (a private redis-server), the real state file, the real trace
 * recorder; only the netlink source is scripted. A cold start, then a warm start that completes by EOIU.
 */
async function portsyncInProcess(): Promise<void> {
  const { Redis } = await import('ioredis');
  const { createActor } = await import('xstate');
  const { configDefaults } = await import('../src/config/load.js');
  const { silentLogger } = await import('../src/io/log.js');
  const { MetricsHub } = await import('../src/io/http/metricsHub.js');
  const { portsyncChildSpecs } = await import('../src/daemon/portsync.js');
  const { supervisorMachine } = await import('../src/machines/supervisor/supervisor.js');
  const { attachInspectors } = await import('../src/actors/observe/inspection.js');
  const dir = mkdtempSync(join(tmpdir(), 'syncvisor-trace-inproc-'));
  const socket = join(dir, 'redis.sock');
  const redis = spawn('redis-server', ['--port', '0', '--unixsocket', socket, '--save', '', '--appendonly', 'no'], {
    stdio: 'ignore',
  });
  await waitFor('redis', () => readFileSync('/proc/net/unix', 'utf8').includes(socket));
  const configDb = new Redis({ path: socket, db: 4 });
  const stateDb = new Redis({ path: socket, db: 6 });
  await configDb.hset('PORT|Ethernet0', { lanes: '1,2,3,4', speed: '100000', alias: 'etp1' });
  await configDb.hset('PORT|Ethernet4', { lanes: '5,6,7,8', speed: '100000', alias: 'etp2' });
  const warmState = async () => (await stateDb.hget('WARM_RESTART_TABLE|portsyncd', 'state')) ?? '';
  const kernel = await scriptedNetlink();
  kernel.add('lo', 65536);
  kernel.add('Ethernet0');
  kernel.add('Ethernet4');

  const run = async (name: string, script: () => Promise<void>) => {
    const base = configDefaults();
    const config = {
      ...base,
      services: ['portsync' as const],
      redis: { ...base.redis, url: socket },
      stateFile: { ...base.stateFile, path: join(dir, 'state', 'portsyncd.json'), debounceMs: 50 },
      warmRestart: { ...base.warmRestart, timeoutSecs: 10 },
      trace: { path: join(out, `${name}.jsonl`) },
    };
    const inspection = await attachInspectors(config, silentLogger);
    const specs = portsyncChildSpecs({ config, logger: silentLogger, metrics: new MetricsHub(), redisUrl: socket });
    const children = specs.map((s) => (s.id === 'netlinkSource' ? { ...s, logic: kernel.logic } : s));
    const root = createActor(supervisorMachine, {
      systemId: 'supervisor',
      input: { children, ...config.supervisor },
      inspect: (ev) => inspection.inspectors.forEach((i) => i(ev)),
    });
    const done = new Promise<void>((resolve) => root.subscribe({ complete: () => resolve(), error: () => resolve() }));
    root.start();
    inspection.started(root);
    await script();
    root.send({ type: 'shutdown' });
    await done;
    await inspection.stop();
    console.log(`${name}: recorded`);
  };
  const settled = async (want: string) => {
    const end = Date.now() + 20_000;
    while ((await warmState()) !== want) {
      if (Date.now() > end) throw new Error(`WARM_RESTART_TABLE never became ${want}`);
      await sleep(20);
    }
  };
  try {
    await run('portsync-inproc-cold', async () => {
      await settled('disabled');
      await sleep(200);
      kernel.set('Ethernet4', { up: false });
      await sleep(100);
      kernel.set('Ethernet4', { up: true });
      await sleep(300);
    });
    kernel.set('Ethernet4', { mtu: 9100 });
    // Warm as SONiC decides it: the enable flag, and the restore_count the cold start left (only `state` is reset).
    await stateDb.hset('WARM_RESTART_ENABLE_TABLE|swss', { enable: 'true' });
    await stateDb.hdel('WARM_RESTART_TABLE|portsyncd', 'state');
    await run('portsync-inproc-warm-eoiu', async () => {
      await settled('reconciled');
      await sleep(300);
    });
  } finally {
    configDb.disconnect();
    stateDb.disconnect();
    redis.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}

const recorders: Record<string, (name: string) => Promise<void>> = {
  'portsync-inproc': portsyncInProcess,
  portsync: portsyncRuns,
  'ptp-restart-under-load': ptpRestartUnderLoad,
  'ptp-holdover-expiry': ptpHoldoverExpiry,
  'ptp-synce-discipline': ptpSynceDiscipline,
};

const wanted = process.argv.slice(2);
for (const [name, record] of Object.entries(recorders)) {
  if (wanted.length > 0 && !wanted.includes(name)) continue;
  await record(name);
}
