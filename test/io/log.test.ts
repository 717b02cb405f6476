// src/io/log.ts on real file descriptors: JSON lines with string levels and one `svc`, the pretty format, the
// rate limiter's "suppressed N" accounting, and the bound of the buffer behind a pipe nobody reads.
import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger, logStats, prettyLine, rateLimitedLog, resolveLogFormat } from '../../src/io/log.js';

const dir = mkdtempSync(join(tmpdir(), 'syncvisor-log-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('createLogger', () => {
  it('writes JSON lines with string level names and the service key once', () => {
    const file = join(dir, 'json.log');
    const fd = openSync(file, 'w');
    const log = createLogger({ level: 'debug', format: 'json', fd });
    log.child({ svc: 'ptp' }).warn({ n: 1 }, 'hello');
    log.info('root line');
    closeSync(fd);
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]!.match(/"svc"/g)).toHaveLength(1);
    const rec = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(rec).toMatchObject({ level: 'warn', svc: 'ptp', n: 1, msg: 'hello' });
    expect(typeof rec.time).toBe('string');
    expect(JSON.parse(lines[1]!)).not.toHaveProperty('svc');
  });

  it('bytes that are not UTF-8 (byte text, a Redis value) are written escaped, not as U+FFFD, in both formats', () => {
    const value = '\udcff\udcfeé😀'; // bytes ff fe, then text
    for (const format of ['json', 'pretty'] as const) {
      const file = join(dir, `bytes-${format}.log`);
      const fd = openSync(file, 'w');
      createLogger({ level: 'info', format, fd }).warn({ key: value, nested: { v: value } }, `rejected ${value}`);
      closeSync(fd);
      const raw = readFileSync(file);
      expect(raw.includes(Buffer.from('\ufffd'))).toBe(false);
      expect(raw.toString('utf8')).toContain('\\udcff\\udcfeé😀');
      if (format === 'json') {
        expect(JSON.parse(raw.toString('utf8'))).toMatchObject({
          key: value,
          nested: { v: value },
          msg: `rejected ${value}`,
        });
      }
    }
  });

  it('pretty: one readable line, no colour codes when not a terminal', () => {
    const line = prettyLine(
      '{"level":"warn","time":"2026-01-02T03:04:05.678Z","pid":1,"svc":"ptp","command":"FOO","msg":"unknown CMD ignored"}',
    );
    expect(line).toBe('03:04:05.678 WARN  [ptp] unknown CMD ignored command=FOO\n');
    expect(resolveLogFormat('auto', openSync(join(dir, 'x'), 'w'))).toBe('json');
  });

  it('behind a FIFO nobody reads: at most maxBufferBytes held, the rest dropped and counted, never blocking', () => {
    const path = join(dir, 'fifo');
    execFileSync('mkfifo', [path]);
    const reader = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
    const writer = openSync(path, constants.O_WRONLY);
    const log = createLogger({ level: 'info', format: 'json', fd: writer, maxBufferBytes: 64 * 1024 });
    const t0 = Date.now();
    for (let i = 0; i < 20_000; i++) log.info({ i, pad: 'x'.repeat(200) }, 'flood');
    const s = logStats(log);
    expect(Date.now() - t0).toBeLessThan(5_000); // the loop was never blocked on the pipe
    expect(s.written + s.dropped).toBe(20_000);
    expect(s.dropped).toBeGreaterThan(15_000);
    // kernel pipe (64 KiB) + our bound (64 KiB): about 500 lines of 270 bytes at most
    expect(s.written).toBeLessThan(1_000);
    closeSync(reader);
    closeSync(writer);
  });
});

describe('rateLimitedLog', () => {
  it('lets `burst` lines through per window, then counts; the next line carries suppressed: N', () => {
    const file = join(dir, 'rate.log');
    const fd = openSync(file, 'w');
    const log = createLogger({ level: 'info', format: 'json', fd });
    let now = 0;
    const warn = rateLimitedLog(log, 'warn', 'unknown CMD ignored', { burst: 3, windowMs: 1000, now: () => now });
    for (let i = 0; i < 100; i++) warn({ i });
    now = 1000;
    warn({ i: 100 });
    closeSync(fd);
    const recs = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(recs.map((r) => r.i)).toEqual([0, 1, 2, 100]);
    expect(recs[3]).toMatchObject({ suppressed: 97, level: 'warn' });
  });
});
