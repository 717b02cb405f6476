import { Redis } from 'ioredis';
import { mkdtemp } from 'node:fs/promises';
import { startEmbeddedRedis } from '/work/wt/perf/src/io/redis/embedded.js';
import { sendBatch } from '/work/wt/perf/src/io/redis/respBatch.js';
const dir = await mkdtemp('/tmp/perfscratch/r-');
const redis = await startEmbeddedRedis({ runtimeDir: dir });
const c = new Redis({ path: redis.socket, db: 6, enableOfflineQueue: false, maxRetriesPerRequest: 0 });
await new Promise(r => c.once('ready', r));
const N = 32768, B = 2000;
const f = (i: number) => ({ admin_status: 'up', mtu: '9100', netdev_oper_status: i % 2 ? 'up' : 'down', state: 'ok' });
async function pipe() { const t = performance.now(); for (let s=0;s<N;s+=B){ const p=c.pipeline(); for (let i=s;i<Math.min(N,s+B);i++) p.hset(`PORT_TABLE|Ethernet${i%4096*4}`, ...Object.entries(f(i)).flat()); await p.exec(); } return N/(performance.now()-t)*1000; }
async function batch() { const t = performance.now(); for (let s=0;s<N;s+=B){ const cmds: string[][]=[]; for (let i=s;i<Math.min(N,s+B);i++) cmds.push(['hset', `PORT_TABLE|Ethernet${i%4096*4}`, ...Object.entries(f(i)).flat()]); const r = await sendBatch(c, cmds); if (r.length !== cmds.length || r.some(x=>x[0])) throw new Error('bad'); } return N/(performance.now()-t)*1000; }
for (let k=0;k<4;k++) console.log('pipeline', (await pipe()).toFixed(0), 'batch', (await batch()).toFixed(0));
const bad = await sendBatch(c, [['hset','x','a','1'], ['lpush','x','y'], ['hget','x','a']]); console.log(bad.map(r => [r[0]?.message, r[1]]));
c.disconnect(); await redis.stop();
