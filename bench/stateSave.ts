// P7: atomic state save of 4,096 ports (encode, write .tmp, fsync, rotate to .backup, rename, fsync the directory)
// vs one fs.writeFile of the same bytes, in the same directory.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeStateFile, decodeStateFile, type PersistedPort } from '../src/io/warmRestart/stateFileCodec.js';
import { saveStateFile } from '../src/io/warmRestart/stateFileStore.js';
import { median, now, type Figure } from './measure.js';

export function benchPorts(count: number): Record<string, PersistedPort> {
  const ports: Record<string, PersistedPort> = {};
  for (let i = 0; i < count; i++) {
    const name = `Ethernet${i * 4}`;
    const up = i % 3 !== 0;
    ports[name] = {
      name,
      adminState: 'up',
      operState: up ? 'up' : 'down',
      flags: up ? 0x11043 : 0x1003,
      mtu: 9100,
      ifindex: 1000 + i,
    };
  }
  return ports;
}

export async function benchStateSave(opts: { runs: number; ports: number; dir?: string }): Promise<Figure> {
  const dir = await mkdtemp(join(opts.dir ?? tmpdir(), 'syncvisor-bench-p7-'));
  try {
    const ports = benchPorts(opts.ports);
    const path = join(dir, 'portsyncd.json');
    const plain = join(dir, 'plain.json');
    const savedAt = Date.now();
    const bytes = encodeStateFile(ports, savedAt);
    // Warm-up: first file creation and JIT.
    await saveStateFile(path, ports, { now: savedAt });
    await writeFile(plain, bytes);
    const save: number[] = [];
    const write: number[] = [];
    for (let i = 0; i < opts.runs; i++) {
      let t = now();
      await saveStateFile(path, ports, { now: savedAt });
      save.push(now() - t);
      t = now();
      await writeFile(plain, bytes);
      write.push(now() - t);
    }
    const check = decodeStateFile(await readFile(path, 'utf8'));
    if (!check.ok || Object.keys(check.value.ports).length !== opts.ports)
      throw new Error('P7: the saved state file does not load back');
    const figure = median(save);
    const ceiling = median(write);
    const ratio = figure / ceiling;
    return {
      id: 'P7',
      title: `Atomic state save, ${opts.ports} ports (${(bytes.length / 1024).toFixed(0)} KiB)`,
      figure,
      unit: 'ms',
      ceiling,
      ceilingLabel: 'one fs.writeFile of the same bytes (ms)',
      ratio,
      target: 'ratio <= 3',
      met: ratio <= 3,
      runs: opts.runs,
      samples: { figure: save, ceiling: write },
      notes: [
        'The save encodes (canonical JSON + sha256), writes .tmp, fsyncs it, renames current to .backup and .tmp to current, and fsyncs the directory; writeFile does none of the fsyncs.',
      ],
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
