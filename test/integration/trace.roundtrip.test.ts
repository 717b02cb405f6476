// A trace recorded by the real daemon (real Unix socket, real config files) replays on a simulated clock to the
// snapshot the daemon itself wrote just before its shutdown.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseTrace } from '../../src/io/observe/traceFormat.js';
import { replayTrace } from '../../src/actors/observe/replay.js';
import { spawnSyncvisor } from '../support/spawnDaemon.js';

const repo = join(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'syncvisor-roundtrip-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('trace round trip', () => {
  it('records a live ptp run with a restart and replays it to the same final snapshot', async () => {
    mkdirSync(join(dir, 'profiles'));
    mkdirSync(join(dir, 'cfg'));
    copyFileSync(join(repo, 'deploy/demo/node1.json'), join(dir, 'profiles/node1'));
    copyFileSync(join(repo, 'deploy/demo/ptp4l.0.config'), join(dir, 'cfg/ptp4l.0.config'));
    copyFileSync(join(repo, 'deploy/demo/ptp4l.1.config'), join(dir, 'cfg/ptp4l.1.config'));
    const sock = join(dir, 'events.sock');
    const trace = join(dir, 'run.jsonl');
    const args = ['run', '--services', 'ptp', '--http', '127.0.0.1:0', '--trace', trace];
    for (const kv of [
      `ptp.socketPath=${sock}`,
      `ptp.configDir=${dir}/cfg`,
      `ptp.profilePath=${dir}/profiles`,
      'ptp.nodeName=node1',
      // No linuxptp-daemon here: without its emit-logs call the sidecar is 'live' at once after each load.
      'ptp.emitLogsUrl=',
    ])
      args.push('--set', kv);
    const d = spawnSyncvisor(args);
    // Connect only once the socket listens (not merely HTTP): under load the two are far apart.
    await d.waitForLog('ptp socket listening', {}, 20_000);
    await d.waitForLog('trace: recording', {}, 10_000);
    const stderr = (): string => d.stderr();
    const c = await new Promise<Socket>((resolve, reject) => {
      const s = connect(sock, () => resolve(s));
      s.on('error', reject);
    });
    // Each step waits for the daemon's own log line, not a fixed pause: under load a pause may be too short.
    const seen = (text: string) =>
      stderr()
        .split('\n')
        .filter((l) => l.includes(text)).length;
    c.write(readFileSync(join(repo, 'deploy/demo/lines.txt')));
    await expect.poll(() => seen('"to":"LOCKED"'), { timeout: 10_000 }).toBeGreaterThan(0);
    c.write('CMD RESTART\n');
    await expect.poll(() => seen('"load":2'), { timeout: 10_000 }).toBeGreaterThan(0);
    const lockedBefore = seen('"clock":"ptp4l/ens5f1","profile":"profile0","from":"FREERUN","to":"LOCKED"');
    c.write('ptp4l[1.0]: [ptp4l.0.config] master offset -3 s2 freq +500 path delay 89\n');
    await expect
      .poll(() => seen('"clock":"ptp4l/ens5f1","profile":"profile0","from":"FREERUN","to":"LOCKED"'), {
        timeout: 10_000,
      })
      .toBeGreaterThan(lockedBefore);
    c.end();
    const { code } = await d.stop();
    expect(code).toBe(0);
    const live = JSON.parse(readFileSync(`${trace}.snapshot.json`, 'utf8')) as Record<string, unknown>;
    expect(live.ptp).toEqual({ serving: 'live' });
    expect(live['ptp.clock.ptp4l/ens5f1']).toBe('LOCKED');
    const { header, records } = parseTrace(readFileSync(trace, 'utf8'));
    expect(records.some((r) => r.event.type === 'socket.command')).toBe(true);
    const result = replayTrace(header, records);
    expect(result.snapshot).toEqual(live);
    // Two loads: the first and the one after CMD RESTART.
    expect(result.steps.filter((s) => s.actor === 'ptp' && s.text === '"loading"')).toHaveLength(2);
  });
});
