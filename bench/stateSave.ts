// P7: atomic state save of 4,096 ports (encode, write .tmp, fsync, rotate to .backup, rename, fsync the directory)
// vs the durable minimum for the same bytes in the same directory: write tmp, fsync, rename, fsync the directory
// (bytes already encoded, written as a Buffer). The save is the daemon's: one StateFileEncoder across saves (as the
// stateFile store keeps it), and before each save one port changed (a new object for it, as the stateFile machine's
// persistent port table holds after one upsert; every other port keeps its object). The cold encode (a fresh
// encoder: the first save, or a save after every port changed), the save's parts and one fs.writeFile (no fsync) are
// measured as context.
import { mkdtemp, open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeStateFileSimple, decodeStateFile, type PersistedPort } from '../src/io/warmRestart/stateFileCodec.js';
import { StateFileEncoder } from '../src/io/warmRestart/stateFileEncoder.js';
import { saveStateFile, tmpPathOf, backupPathOf } from '../src/io/warmRestart/stateFileStore.js';
import { writeFileAtomic } from '../src/io/fs/atomicWrite.js';
import { fmt, median, now, type Figure } from './measure.js';

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

/** The durable minimum: bytes to tmp, fsync, rename over the file, fsync the directory. */
async function durableMinimum(dir: string, path: string, bytes: Uint8Array): Promise<void> {
  const tmp = `${path}.tmp`;
  const fh = await open(tmp, 'w', 0o644);
  try {
    await fh.writeFile(bytes);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
  const dh = await open(dir, 'r');
  try {
    await dh.sync();
  } finally {
    await dh.close();
  }
}

const timeOf = (f: () => unknown, n: number): number => {
  const xs: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = now();
    f();
    xs.push(now() - t);
  }
  return median(xs);
};

/** The port `i` flapped: a new object with operState and flags toggled (the others keep theirs). */
function flap(ports: Record<string, PersistedPort>, i: number): void {
  const names = Object.keys(ports);
  const name = names[i % names.length]!;
  const p = ports[name]!;
  const up = p.operState === 'up';
  ports[name] = { ...p, operState: up ? 'down' : 'up', flags: up ? 0x1003 : 0x11043 };
}

export async function benchStateSave(opts: { runs: number; ports: number; dir?: string }): Promise<Figure> {
  const dir = await mkdtemp(join(opts.dir ?? tmpdir(), 'syncvisor-bench-p7-'));
  try {
    const ports = benchPorts(opts.ports);
    const path = join(dir, 'portsyncd.json');
    const plain = join(dir, 'plain.json');
    const minimum = join(dir, 'minimum.json');
    const parts = join(dir, 'parts.json');
    const savedAt = Date.now();
    const encoder = new StateFileEncoder();
    // Warm-up: first file creation and JIT.
    await saveStateFile(path, ports, { now: savedAt, encoder });
    let bytes = new StateFileEncoder().encode(ports, savedAt);
    await durableMinimum(dir, minimum, bytes);
    await writeFile(plain, bytes);
    const save: number[] = [];
    const floor: number[] = [];
    const write: number[] = [];
    const encodeOne: number[] = [];
    const fileWork: number[] = [];
    let reused = 0;
    for (let i = 0; i < opts.runs; i++) {
      flap(ports, i * 7);
      let t = now();
      await saveStateFile(path, ports, { now: savedAt + i, encoder });
      save.push(now() - t);
      reused = encoder.lastReused;
      // The same bytes for the reference (encoded outside its timing).
      bytes = new StateFileEncoder().encode(ports, savedAt + i);
      t = now();
      await durableMinimum(dir, minimum, bytes);
      floor.push(now() - t);
      t = now();
      await writeFile(plain, bytes);
      write.push(now() - t);
      // The save's two parts on their own: the encode after one change, the file work on those bytes.
      flap(ports, i * 7 + 3);
      t = now();
      const data = encoder.encode(ports, savedAt + i);
      encodeOne.push(now() - t);
      t = now();
      await writeFileAtomic(parts, data, { tmpPath: tmpPathOf(parts), backupPath: backupPathOf(parts) });
      fileWork.push(now() - t);
      encoder.done(data);
    }
    const saved = await readFile(path);
    const check = decodeStateFile(saved.toString('utf8'));
    if (!check.ok || Object.keys(check.value.ports).length !== opts.ports)
      throw new Error('P7: the saved state file does not load back');
    const last = savedAt + opts.runs - 1;
    flap(ports, 0);
    if (!encoder.encode(ports, last).equals(Buffer.from(encodeStateFileSimple(ports, last))))
      throw new Error('P7: the encoder does not write the bytes of the simple one');
    const coldMs = timeOf(() => new StateFileEncoder().encode(ports, savedAt), 9);
    const simpleMs = timeOf(() => encodeStateFileSimple(ports, savedAt), 9);
    const figure = median(save);
    const ceiling = median(floor);
    const ratio = figure / ceiling;
    return {
      id: 'P7',
      title: `Atomic state save, ${opts.ports} ports (${(bytes.length / 1024).toFixed(0)} KiB), one port changed`,
      figure,
      unit: 'ms',
      ceiling,
      ceilingLabel: 'the durable minimum for the same bytes: write tmp, fsync, rename, fsync dir (ms)',
      ratio,
      target: 'ratio <= 2',
      met: ratio <= 2,
      runs: opts.runs,
      samples: { figure: save, ceiling: floor },
      notes: [
        `What is saved: the daemon's save after one link flap. One StateFileEncoder across saves (as the stateFile store keeps it); before each save one port is a new object with operState and flags toggled, the other ${opts.ports - 1} keep their objects (as the stateFile machine's persistent port table holds them), so the encoder reuses ${reused} ports' texts and encodes one. The save encodes (sorted names, the member text of each changed port, the kept texts joined into one Buffer, sha256 over its ports bytes) and does the file work as one thread-pool job (native writeFileAtomic: open the directory, openat .tmp O_EXCL|O_NOFOLLOW, one write, fsync, close, rename current to .backup, rename .tmp to current, fsync the directory); the durable minimum does open, write, fsync, close, rename, open dir, fsync, close through node:fs/promises on a Buffer already encoded (same bytes), without the .backup rotation.`,
        `Parts (medians): the encode after one change ${fmt(median(encodeOne))} ms, the file work alone (writeFileAtomic with the rotation) ${fmt(median(fileWork))} ms. A cold encode (fresh encoder: the first save, or every port changed) ${fmt(coldMs)} ms; the simple encoder (generic canonical walk, same bytes, checked in this run) ${fmt(simpleMs)} ms. Context: one fs.writeFile of the bytes (no fsync): ${fmt(median(write))} ms.`,
      ],
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
