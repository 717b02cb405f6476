// The PTP profile ConfigMap: <profilePath>/<nodeName>, a JSON array of profiles (a single object is accepted too).
import { join } from 'node:path';
import { readGuardedSync, type GuardedReadError } from '../fs/guardedRead.js';
import { thresholdsFrom, type Thresholds } from './thresholds.js';

export interface PtpProfile {
  name: string;
  interface: string;
  thresholds: Thresholds;
  /** The raw entry, for options we do not interpret (ptp4lOpts, ptpSettings, …). */
  raw: Record<string, unknown>;
}

export interface ConfigMapResult {
  profiles: PtpProfile[];
  /** Human-readable problems: a malformed file or entry (each one is also counted by the caller). */
  errors: string[];
}

const maxBytes = 4 * 1024 * 1024;

/** Parses ConfigMap text. Never throws: malformed input yields errors and the entries that were usable. */
export function parseConfigMap(text: string, source = 'ConfigMap'): ConfigMapResult {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    return { profiles: [], errors: [`${source}: not JSON (${(err as Error).message})`] };
  }
  const entries = Array.isArray(data) ? data : [data];
  const profiles: PtpProfile[] = [];
  const errors: string[] = [];
  entries.forEach((e, i) => {
    if (e === null || typeof e !== 'object' || Array.isArray(e)) {
      errors.push(`${source}: entry ${i} is not an object`);
      return;
    }
    const raw = e as Record<string, unknown>;
    if (typeof raw['name'] !== 'string' || raw['name'] === '') {
      errors.push(`${source}: entry ${i} has no name`);
      return;
    }
    profiles.push({
      name: raw['name'],
      interface: typeof raw['interface'] === 'string' ? raw['interface'] : '',
      thresholds: thresholdsFrom(raw['ptpClockThreshold']),
      raw,
    });
  });
  return { profiles, errors };
}

/** Reads <profilePath>/<nodeName>. A missing file (or no node name) is an empty ConfigMap, not an error. */
export async function loadConfigMap(profilePath: string, nodeName: string): Promise<ConfigMapResult> {
  if (nodeName === '' || nodeName.includes('/') || nodeName === '.' || nodeName === '..') {
    return {
      profiles: [],
      errors: nodeName === '' ? [] : [`node name ${JSON.stringify(nodeName)} is not a file name`],
    };
  }
  const path = join(profilePath, nodeName);
  let text: string;
  try {
    // Kubernetes mounts a ConfigMap key as a symlink into ..data/: follow it, but read only a regular file (fstat),
    // non-blocking (a FIFO never hangs the load) and at most maxBytes (a symlink to /dev/zero is refused, not read).
    // Synchronous, like the INI files after it: one small local file, whose thread-pool round trips (open, fstat,
    // read, close) would cost a restart more than the read.
    text = readGuardedSync(path, { maxBytes, followSymlinks: true }).data.toString('utf8');
  } catch (err) {
    if ((err as GuardedReadError).reason === 'missing') return { profiles: [], errors: [] };
    return { profiles: [], errors: [(err as Error).message] };
  }
  return parseConfigMap(text, path);
}
