// Child process of the kill -9 test (bundled by esbuild so that a start costs ~0.1 s): loads the state file through
// the real load chain, reports what it got, then saves continuously through the real saveStateFile, reporting each
// completed save on stdout (a pipe: synchronous on Linux, so a reported save has really completed).
import { loadStateFileChain, saveStateFile } from '../../../src/io/warmRestart/stateFileStore.js';
import { digest, portsFor } from './statePorts.js';

async function saveLoop(path: string): Promise<void> {
  let gen = 0;
  try {
    const r = await loadStateFileChain(path);
    gen = r.content.savedAt;
    process.stdout.write(
      `${JSON.stringify({ loaded: gen, slot: r.slot, digest: digest(r.content.ports), currentError: r.currentError?.reason })}\n`,
    );
  } catch (err) {
    const e = err as { reason?: string; cause?: { reason?: string } };
    process.stdout.write(`${JSON.stringify({ loaded: null, reason: e.reason, currentReason: e.cause?.reason })}\n`);
  }
  for (;;) {
    gen++;
    await saveStateFile(path, portsFor(gen), { now: gen });
    process.stdout.write(`saved ${gen}\n`);
  }
}

void saveLoop(process.argv[2] ?? 'portsyncd.json');
