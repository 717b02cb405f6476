// The PTP config dir (src/io/ptp/configFiles.ts) is written by another daemon: names matching the config pattern
// must not make syncvisor read anything outside the directory, nor block on special files.
import { execFileSync, spawn } from 'node:child_process';
import { linkSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfigFiles } from '../../src/io/ptp/configFiles.js';

const base = mkdtempSync(join(tmpdir(), 'syncvisor-cfgdir-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));

const inside = (iface: string) => `#profile: p\n[global]\n[${iface}]\nmasterOnly 0\n`;

describe('config dir patterns cannot escape the directory', () => {
  it('skips symlinks (to files, dirs, devices), directories and FIFOs named like configs; ignores ".." look-alikes', async () => {
    const dir = join(base, 'cfg');
    const outside = join(base, 'outside');
    mkdirSync(dir);
    mkdirSync(outside);
    writeFileSync(join(outside, 'ptp4l.0.config'), inside('OUTSIDE'));
    writeFileSync(join(dir, 'ptp4l.9.config'), inside('ens1'));
    symlinkSync(join(outside, 'ptp4l.0.config'), join(dir, 'ptp4l.0.config'));
    symlinkSync('../outside/ptp4l.0.config', join(dir, 'ptp4l.1.config'));
    symlinkSync(outside, join(dir, 'ptp4l.2.config'));
    symlinkSync('/dev/zero', join(dir, 'ptp4l.3.config'));
    mkdirSync(join(dir, 'ptp4l.4.config'));
    execFileSync('mkfifo', [join(dir, 'ptp4l.5.config')]);
    for (const n of ['..ptp4l.6.config', 'ptp4l.6.config..', 'ptp4l..config', '.ptp4l.7.config', 'ptp4l.7.config.bak'])
      writeFileSync(join(dir, n), inside('LOOKALIKE'));

    const r = await loadConfigFiles(dir);
    expect(r.files.map((f) => [f.name, f.interfaces.map((s) => s.name)])).toEqual([['ptp4l.9.config', ['ens1']]]);
    expect(r.errors.sort()).toEqual(
      [0, 1, 2, 3, 4, 5]
        .map((i) => `${join(dir, `ptp4l.${i}.config`)}: ${i < 4 ? 'a symbolic link' : 'not a regular file'}, skipped`)
        .sort(),
    );
  });

  it('a hard link is an ordinary file of the directory and is read (kernel protected_hardlinks is the guard)', async () => {
    const dir = join(base, 'hard');
    mkdirSync(dir);
    const target = join(base, 'hard-target.config');
    writeFileSync(target, inside('HARDLINKED'));
    linkSync(target, join(dir, 'ptp4l.0.config'));
    const r = await loadConfigFiles(dir);
    expect(r.files[0]?.interfaces[0]?.name).toBe('HARDLINKED');
  });

  // Was a bug found by this test: lstat() then readFile() followed a symlink swapped in between. loadConfigFiles now
  // opens with O_NOFOLLOW | O_NONBLOCK and judges fstat() of the opened file.
  it('a file swapped for a symlink between lstat and read is never read outside the dir', async () => {
    const dir = join(base, 'race');
    mkdirSync(dir);
    writeFileSync(join(base, 'race-outside'), inside('OUTSIDE'));
    writeFileSync(join(dir, 'ptp4l.0.config'), inside('ens1'));
    // A separate process swaps ptp4l.0.config between a regular file and a symlink pointing outside, atomically.
    const swapper = spawn(
      process.execPath,
      [
        '-e',
        `const fs = require('node:fs'); const d = ${JSON.stringify(dir)}; const end = Date.now() + 3000;
         while (Date.now() < end) {
           try { fs.symlinkSync(${JSON.stringify(join(base, 'race-outside'))}, d + '/s.tmp'); } catch {}
           fs.renameSync(d + '/s.tmp', d + '/ptp4l.0.config');
           fs.writeFileSync(d + '/r.tmp', ${JSON.stringify(inside('ens1'))});
           fs.renameSync(d + '/r.tmp', d + '/ptp4l.0.config');
         }`,
      ],
      { stdio: 'ignore' },
    );
    const exited = new Promise((r) => swapper.once('exit', r));
    let escaped = 0;
    let loads = 0;
    try {
      while (swapper.exitCode === null && loads < 20_000) {
        const r = await loadConfigFiles(dir);
        loads++;
        if (r.files.some((f) => f.interfaces.some((s) => s.name === 'OUTSIDE'))) escaped++;
      }
    } finally {
      swapper.kill('SIGKILL');
      await exited;
    }
    console.log(`config dir lstat/read race: ${escaped} of ${loads} loads read the symlink target outside the dir`);
    expect(loads).toBeGreaterThan(100);
    expect(escaped).toBe(0);
  }, 20_000);
});
