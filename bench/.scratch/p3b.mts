import { Redis } from 'ioredis';
import { createConnection } from 'node:net';
import { mkdtemp } from 'node:fs/promises';
import { startEmbeddedRedis } from '/work/wt/perf/src/io/redis/embedded.js';
import { sendBatch, encodeCommand } from '/work/wt/perf/src/io/redis/respBatch.js';
const dir = await mkdtemp('/tmp/perfscratch/r-');
const redis = await startEmbeddedRedis({ runtimeDir: dir });
const c = new Redis({ path: redis.socket, db: 6, enableOfflineQueue: false, maxRetriesPerRequest: 0 });
await new Promise(r => c.once('ready', r));
const N = 32768, B = 2000;
const f = (i: number) => ({ admin_status: 'up', mtu: '9100', netdev_oper_status: i % 2 ? 'up' : 'down', state: 'ok' });
const sock = createConnection(redis.socket); await new Promise(r => sock.once('connect', r));
let got = 0; let want = 0; let wake: (() => void) | undefined;
sock.on('data', (d: Buffer) => { for (let i=0;i<d.length;i++) if (d[i]===10) got++; if (got>=want && wake) { const w=wake; wake=undefined; w(); } });
async function raw() { const t = performance.now(); for (let s=0;s<N;s+=B){ let text=''; const e=Math.min(N,s+B); for (let i=s;i<e;i++) text+=encodeCommand(['hset', `PORT_TABLE|Ethernet${i%4096*4}`, ...Object.entries(f(i)).flat()]); want += e-s; await new Promise<void>(r => { wake = r; sock.write(text); }); } return N/(performance.now()-t)*1000; }
async function encOnly() { const t = performance.now(); let n=0; for (let s=0;s<N;s+=B){ let text=''; const e=Math.min(N,s+B); for (let i=s;i<e;i++) text+=encodeCommand(['hset', `PORT_TABLE|Ethernet${i%4096*4}`, ...Object.entries(f(i)).flat()]); n+=Buffer.from(text).length; } return N/(performance.now()-t)*1000; }
async function batch() { const t = performance.now(); for (let s=0;s<N;s+=B){ const cmds: string[][]=[]; for (let i=s;i<Math.min(N,s+B);i++) cmds.push(['hset', `PORT_TABLE|Ethernet${i%4096*4}`, ...Object.entries(f(i)).flat()]); const r = await sendBatch(c, cmds); } return N/(performance.now()-t)*1000; }
for (let k=0;k<4;k++) console.log('raw', (await raw()).toFixed(0), 'batch', (await batch()).toFixed(0), 'encode only', (await encOnly()).toFixed(0));
sock.destroy(); c.disconnect(); await redis.stop();
