// Child process of the memory test (run with --expose-gc): feeds every fuzzed parser the same kind of input as the
// fuzz tests, in rounds, and reports heapUsed after a full GC following a warm-up round and after the last round.
import { mkdtempSync, copyFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { decodeDatagram } from '../../../src/io/netlink/decode.js';
import { parseConfigFile } from '../../../src/io/ptp/configFiles.js';
import { parseConfigMap } from '../../../src/io/ptp/configMap.js';
import { loadPtpGeneration } from '../../../src/io/ptp/generation.js';
import { decodeStateFile } from '../../../src/io/warmRestart/stateFileCodec.js';
import { encodeStateFile } from '../../../src/io/warmRestart/stateFileEncoder.js';
import { ptpLine, ptpNoise } from './ptpArbitraries.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');
const rounds = Number(process.argv[2] ?? 6);
const perRound = Number(process.argv[3] ?? 20_000);

// The bundle runs from a temporary directory: the fixtures' path is passed in.
const examples = join(process.argv[4] ?? '.', 'examples');
const dir = mkdtempSync(join(tmpdir(), 'syncvisor-mem-'));
copyFileSync(join(examples, 'ptp4l.0.config'), join(dir, 'ptp4l.0.config'));
copyFileSync(join(examples, 'ptp4l.1.config'), join(dir, 'ptp4l.1.config'));
copyFileSync(join(examples, 'node1.json'), join(dir, 'node1'));
const g = await loadPtpGeneration({ profilePath: dir, configDir: dir, nodeName: 'node1' });
rmSync(dir, { recursive: true, force: true });

// Inputs are generated once (pools), so the measurement is of the parsers, not of fast-check.
const lines = fc.sample(fc.oneof(ptpLine, ptpNoise), 5000);
const bytes = fc.sample(fc.uint8Array({ maxLength: 512 }), 2000);
const texts = fc.sample(fc.string({ unit: 'binary', maxLength: 300 }), 2000);
const good = encodeStateFile(
  { Ethernet0: { name: 'Ethernet0', adminState: 'up', operState: 'up', flags: 4099, mtu: 9100, ifindex: 2 } },
  1,
);

function round(): void {
  for (let i = 0; i < perRound; i++) {
    g.ingest([lines[i % lines.length]!, lines[(i * 7) % lines.length]!]);
    decodeDatagram(bytes[i % bytes.length]!);
    const t = texts[i % texts.length]!;
    decodeStateFile(i % 2 ? t : good.slice(0, i % good.length));
    parseConfigMap(t);
    parseConfigFile('ptp4l.0.config', t);
  }
}

const heap = (): number => {
  gc!();
  gc!();
  return process.memoryUsage().heapUsed;
};
round();
const before = heap();
for (let r = 1; r < rounds; r++) round();
const after = heap();
process.stdout.write(`${JSON.stringify({ before, after, rounds, perRound, lines: g.parser.stats })}\n`);
