// The daemon-written INI files in the config dir: ptp4l.N.config, phc2sys.N.config, ts2phc.N.config,
// synce4l.N.config, chronyd.N.config. Found by listing the directory; a path is never built from outside input.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { readGuardedSync, type GuardedReadError } from '../fs/guardedRead.js';

export const configFileName = /^(ptp4l|phc2sys|ts2phc|synce4l|chronyd)\.(\d+)\.config$/;

export interface IniSection {
  name: string;
  options: Map<string, string>;
}

export interface PtpConfigFile {
  /** File name, e.g. ptp4l.0.config: the config name log lines carry. */
  name: string;
  /** ptp4l, phc2sys, ts2phc, synce4l or chronyd. */
  process: string;
  /** From the `#profile: <name>` line (normally the first; found anywhere); undefined when absent. */
  profile: string | undefined;
  global: Map<string, string>;
  /** Every section except [global], in file order: the interfaces. */
  interfaces: IniSection[];
}

export interface ConfigFilesResult {
  files: PtpConfigFile[];
  errors: string[];
}

const maxBytes = 1024 * 1024;
const sectionLine = /^\[([^\]\s]+)\]$/;
const profileLine = /^#\s*profile:\s*(\S+)\s*$/;

/** Parses one INI file. Returns a string (the reason) when the file is malformed. */
export function parseConfigFile(name: string, text: string): PtpConfigFile | string {
  const m = configFileName.exec(name);
  if (!m) return `${name}: not a PTP config file name`;
  const lines = text.split('\n');
  // `#profile: <name>`: the daemon writes it first, but it is found on any line (the first one wins), as the reference
  // does.
  let profile: string | undefined;
  for (const l of lines) {
    const pm = profileLine.exec(l.trim());
    if (pm) {
      profile = pm[1];
      break;
    }
  }
  const global = new Map<string, string>();
  const interfaces: IniSection[] = [];
  let current: Map<string, string> | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] ?? '').trim();
    if (line === '' || line.startsWith('#')) continue;
    if (line.startsWith('[')) {
      const sm = sectionLine.exec(line);
      if (!sm) return `${name}:${i + 1}: malformed section header`;
      const sname = sm[1] ?? '';
      if (sname === 'global') current = global;
      else {
        current = new Map();
        interfaces.push({ name: sname, options: current });
      }
      continue;
    }
    if (!current) return `${name}:${i + 1}: option outside of any section`;
    const sp = line.search(/\s/);
    if (sp < 0) current.set(line, '');
    else current.set(line.slice(0, sp), line.slice(sp).trim());
  }
  return { name, process: m[1] ?? '', profile, global, interfaces };
}

const order = (a: string, b: string): number => {
  const ma = configFileName.exec(a);
  const mb = configFileName.exec(b);
  if (!ma || !mb) return a < b ? -1 : 1;
  if (ma[1] !== mb[1]) return (ma[1] ?? '') < (mb[1] ?? '') ? -1 : 1;
  return Number(ma[2]) - Number(mb[2]);
};

/** One listed file: the parsed file, an error, or nothing (removed between listing and reading). */
type FileOutcome = { file: PtpConfigFile } | { error: string } | undefined;

function readConfigFile(dir: string, name: string): FileOutcome {
  const path = join(dir, name);
  try {
    // Without following a symlink, judged by fstat of the opened file (src/io/fs/guardedRead.ts): a name swapped for
    // a symlink between the listing and the read cannot make us read outside the directory; a FIFO never blocks.
    let text: string;
    try {
      text = readGuardedSync(path, { maxBytes }).data.toString('utf8');
    } catch (err) {
      const reason = (err as GuardedReadError).reason;
      if (reason === 'missing') return undefined; // removed between listing and reading
      if (reason === 'symlink') return { error: `${path}: a symbolic link, skipped` };
      if (reason === 'not-regular') return { error: `${path}: not a regular file, skipped` };
      if (reason === 'too-large') return { error: `${path}: larger than ${maxBytes} bytes, skipped` };
      return { error: (err as Error).message };
    }
    const parsed = parseConfigFile(name, text);
    return typeof parsed === 'string' ? { error: `${dir}/${parsed}` } : { file: parsed };
  } catch (err) {
    return { error: `${path}: ${(err as Error).message}` };
  }
}

/**
 * Lists `dir` and reads every matching regular file (symlinks are skipped), in file order (process, then number).
 * A missing dir = no files. The listing and the reads are synchronous: the daemon writes a few small local files,
 * and a read through the thread pool costs several round trips (open, fstat, read, close) per file, which at 64
 * files made the read the largest part of a restart. The opens are non-blocking (a FIFO never blocks) and each file
 * is bounded (maxBytes).
 */
export async function loadConfigFiles(dir: string): Promise<ConfigFilesResult> {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { files: [], errors: [] };
    return { files: [], errors: [`${dir}: ${(err as Error).message}`] };
  }
  const files: PtpConfigFile[] = [];
  const errors: string[] = [];
  for (const name of names.filter((n) => configFileName.test(n)).sort(order)) {
    const o = readConfigFile(dir, name);
    if (o === undefined) continue;
    if ('file' in o) files.push(o.file);
    else errors.push(o.error);
  }
  return { files, errors };
}
