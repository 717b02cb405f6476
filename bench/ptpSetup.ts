// PTP inputs for the benchmarks: the shared example configuration and log lines, and a generated configuration of
// N profiles × M interfaces (ConfigMap + ptp4l.N.config INI files) in a temporary directory.
import { copyFile, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The PTP inputs kept in the repository: sample lines as linuxptp-daemon forwards them, example configuration. */
export const sharedPtp = fileURLToPath(new URL('../test/fixtures/ptp', import.meta.url));

export interface PtpDirs {
  profilePath: string;
  configDir: string;
  nodeName: string;
}

/** The example ConfigMap (node1) and INI files of test/fixtures/ptp/examples. */
export async function writeExampleConfig(root: string): Promise<PtpDirs> {
  const profilePath = join(root, 'profiles');
  const configDir = join(root, 'conf');
  await mkdir(profilePath, { recursive: true });
  await mkdir(configDir, { recursive: true });
  await copyFile(join(sharedPtp, 'examples', 'node1.json'), join(profilePath, 'node1'));
  for (const f of ['ptp4l.0.config', 'ptp4l.1.config'])
    await copyFile(join(sharedPtp, 'examples', f), join(configDir, f));
  return { profilePath, configDir, nodeName: 'node1' };
}

/**
 * Lines of test/fixtures/ptp/lines.txt that, repeated, change no clock state: offsets in range and locked, rms, clock class,
 * chronyd's selected source. What a running linuxptp mostly writes.
 */
const steadyLines = [0, 1, 3, 4, 5, 7, 12];

/**
 * `count` lines cycling through test/fixtures/ptp/lines.txt (blank lines left out), newline-terminated. `cycled` uses every
 * line (each cycle flips clocks between FREERUN, LOCKED and HOLDOVER: ~6 state edges per 14 lines), `steady` only
 * the lines that change no state once applied.
 */
export async function exampleLines(count: number, mix: 'cycled' | 'steady'): Promise<Buffer> {
  const all = (await readFile(join(sharedPtp, 'lines.txt'), 'utf8')).split('\n').filter((l) => l.trim() !== '');
  const lines = mix === 'cycled' ? all : steadyLines.map((i) => all[i]!);
  const out: string[] = [];
  for (let i = 0; i < count; i++) out.push(lines[i % lines.length]!);
  return Buffer.from(`${out.join('\n')}\n`);
}

export interface ScaleConfig extends PtpDirs {
  profiles: number;
  interfaces: number;
  /** Rewrites the ConfigMap with every profile's holdOverTimeout set to `seconds` (to prove a restart re-reads it). */
  setHoldOver(seconds: number): Promise<void>;
}

/** `profiles` profiles, each a ptp4l.N.config with `perProfile` interfaces (the first a slave, the rest masters). */
export async function writeScaleConfig(root: string, profiles: number, perProfile: number): Promise<ScaleConfig> {
  const profilePath = join(root, 'profiles');
  const configDir = join(root, 'conf');
  await mkdir(profilePath, { recursive: true });
  await mkdir(configDir, { recursive: true });
  const nodeName = 'benchnode';
  const setHoldOver = async (seconds: number): Promise<void> => {
    const cm = Array.from({ length: profiles }, (_, p) => ({
      name: `profile${p}`,
      interface: `ens${p}f0`,
      ptp4lOpts: '-2 -s',
      phc2sysOpts: '-a -r -n 24',
      ptpClockThreshold: { holdOverTimeout: seconds, maxOffsetThreshold: 100, minOffsetThreshold: -100 },
    }));
    const tmp = join(profilePath, `.${nodeName}.tmp`);
    await writeFile(tmp, JSON.stringify(cm, null, 2));
    await rename(tmp, join(profilePath, nodeName));
  };
  await setHoldOver(30);
  for (let p = 0; p < profiles; p++) {
    const sections = Array.from(
      { length: perProfile },
      (_, i) => `[ens${p}f${i}]\nmasterOnly ${i === 0 ? 0 : 1}\ndelay_mechanism E2E\n`,
    );
    const text =
      `#profile: profile${p}\n\n[global]\ntwoStepFlag 1\nslaveOnly 0\ndomainNumber 24\n` +
      `message_tag [ptp4l.${p}.config:{level}]\nnetwork_transport L2\ntime_stamping hardware\n` +
      sections.join('');
    await writeFile(join(configDir, `ptp4l.${p}.config`), text);
  }
  return { profilePath, configDir, nodeName, profiles, interfaces: profiles * perProfile, setHoldOver };
}

/** Offset lines for the generated configuration: one per profile in turn, locked and in range. */
export function scaleLines(profiles: number, count: number): Buffer {
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const p = i % profiles;
    out.push(`ptp4l[${1000 + i}.100]: [ptp4l.${p}.config] master offset ${(i % 50) - 25} s2 freq -3972 path delay 89`);
  }
  return Buffer.from(`${out.join('\n')}\n`);
}
