// The daemon-written INI files in the config dir: ptp4l.N.config, phc2sys.N.config, ts2phc.N.config,
// synce4l.N.config, chronyd.N.config. Found by listing the directory; a path is never built from outside input.
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { readGuarded, type GuardedReadError } from '../fs/guardedRead.js';

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

/** Lists `dir` and reads every matching regular file (symlinks are skipped). A missing dir = no files. */
export async function loadConfigFiles(dir: string): Promise<ConfigFilesResult> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { files: [], errors: [] };
    return { files: [], errors: [`${dir}: ${(err as Error).message}`] };
  }
  const files: PtpConfigFile[] = [];
  const errors: string[] = [];
  for (const name of names.filter((n) => configFileName.test(n)).sort(order)) {
    const path = join(dir, name);
    try {
      // Without following a symlink, judged by fstat of the opened file (src/io/fs/guardedRead.ts): a name swapped for
      // a symlink between the listing and the read cannot make us read outside the directory; a FIFO never blocks.
      let text: string;
      try {
        text = (await readGuarded(path, { maxBytes })).data.toString('utf8');
      } catch (err) {
        const reason = (err as GuardedReadError).reason;
        if (reason === 'missing') continue; // removed between listing and reading
        if (reason === 'symlink') errors.push(`${path}: a symbolic link, skipped`);
        else if (reason === 'not-regular') errors.push(`${path}: not a regular file, skipped`);
        else if (reason === 'too-large') errors.push(`${path}: larger than ${maxBytes} bytes, skipped`);
        else errors.push((err as Error).message);
        continue;
      }
      const parsed = parseConfigFile(name, text);
      if (typeof parsed === 'string') errors.push(`${dir}/${parsed}`);
      else files.push(parsed);
    } catch (err) {
      errors.push(`${path}: ${(err as Error).message}`);
    }
  }
  return { files, errors };
}
