// The docs name only flags, configuration keys and environment variables that exist. Every `syncvisor <command>`
// line in README.md, docs/ and deploy/ is checked against that command's --help (the real binary), every dotted
// configuration key in backticks and every SYNCVISOR_* name against the schema.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configKeys } from '../../src/config/load.js';
import { binPath, repoRoot } from '../support/spawnDaemon.js';

function files(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) files(p, out);
    else if (/\.(md|service|conf|yaml)$|Dockerfile$/.test(name)) out.push(p);
  }
  return out;
}
// docs/machines/ is generated from the machine definitions (its names are events and states, checked by docs:check).
const docs = [
  join(repoRoot, 'README.md'),
  ...files(join(repoRoot, 'docs')).filter((f) => !f.includes('/docs/machines/')),
  ...files(join(repoRoot, 'deploy')),
];

function srcFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) srcFiles(p, out);
    else if (name.endsWith('.ts')) out.push(p);
  }
  return out;
}
/** Quoted dotted names in the sources (event types such as `supervisor.exit`): dotted like keys, but not keys. */
const eventTypes = new Set<string>();
for (const f of srcFiles(join(repoRoot, 'src')))
  for (const m of readFileSync(f, 'utf8').matchAll(/['"`]([a-z][A-Za-z]*(?:\.[A-Za-z*]+)+)['"`]/g))
    eventTypes.add(m[1]!);

const help = (cmd: string[]): string => {
  const r = spawnSync(process.execPath, [binPath, ...cmd, '--help'], { encoding: 'utf8', timeout: 20_000 });
  expect(r.status, `syncvisor ${cmd.join(' ')} --help`).toBe(0);
  return r.stdout;
};
const helps: Record<string, string> = {
  run: help(['run']),
  ctl: help(['ctl']),
  replay: help(['replay']),
  '': help([]),
};
const flagsOf = (text: string): Set<string> => new Set(text.match(/--[a-z][a-z-]*/g) ?? []);
const known: Record<string, Set<string>> = Object.fromEntries(
  Object.entries(helps).map(([k, v]) => [k, new Set([...flagsOf(v), '--help'])]),
);
const keys = new Set(configKeys.map((k) => k.key));
const groups = new Set(configKeys.map((k) => k.key.split('.')[0]!));
// Configuration keys' variables, and the few the launcher itself reads (bin/syncvisor.js, found in its code).
const launcherEnv = readFileSync(binPath, 'utf8').match(/\bSYNCVISOR_[A-Z_]+[A-Z]\b/g) ?? [];
const envNames = new Set([...configKeys.flatMap((k) => k.env), ...launcherEnv]);
const isKeyOrGroup = (k: string): boolean => keys.has(k) || configKeys.some((c) => c.key.startsWith(`${k}.`));

interface Finding {
  file: string;
  line: number;
  what: string;
}

function scan(): { flags: Finding[]; keys: Finding[]; env: Finding[]; checked: number } {
  const bad = { flags: [] as Finding[], keys: [] as Finding[], env: [] as Finding[], checked: 0 };
  for (const file of docs) {
    const rel = relative(repoRoot, file);
    readFileSync(file, 'utf8')
      .split('\n')
      .forEach((text, i) => {
        const at = { file: rel, line: i + 1 };
        // `syncvisor run …` / `npm start -- …`: the flags up to the end of the command (a backtick, a comment, a pipe).
        const commands = [
          ...text.matchAll(/(?<![\w/.:-])syncvisor (run|ctl|replay)\b((?:[^`#|)]|\|(?=[a-z]))*)/g),
          // bare `syncvisor --version`: only where a command starts (not `useradd … syncvisor --home-dir`)
          ...text.matchAll(/(?<=^\s*|`|npx |\$ )syncvisor()((?: --?[a-z-]+)+)/g),
          ...text.matchAll(/npm start --()((?:[^`#|)]|\|(?=[a-z]))*)/g),
        ];
        for (const m of commands) {
          const cmd = m[0].startsWith('npm start') ? 'run' : (m[1] ?? '');
          for (const f of flagsOf(m[2] ?? '')) {
            bad.checked++;
            if (!known[cmd]!.has(f)) bad.flags.push({ ...at, what: `syncvisor ${cmd} ${f}` });
          }
          for (const s of (m[2] ?? '').matchAll(/--set ([A-Za-z.]+)=/g)) {
            bad.checked++;
            if (!keys.has(s[1]!)) bad.keys.push({ ...at, what: `--set ${s[1]}` });
          }
        }
        // `ptp.socketPath`, `paths.mode: user`, `redis.url`: dotted names whose first part is a configuration group.
        for (const m of text.matchAll(/`([a-z][A-Za-z]*(?:\.[A-Za-z]+)+)(?:[:= ][^`]*)?`/g)) {
          const k = m[1]!;
          if (!groups.has(k.split('.')[0]!) || /\.(md|ts|js|json|yaml|sock|config|service)$/.test(k)) continue;
          if (eventTypes.has(k) && !isKeyOrGroup(k)) continue;
          bad.checked++;
          if (!isKeyOrGroup(k)) bad.keys.push({ ...at, what: k });
        }
        for (const m of text.matchAll(/\bSYNCVISOR_[A-Z_]+[A-Z]\b/g)) {
          bad.checked++;
          if (!envNames.has(m[0])) bad.env.push({ ...at, what: m[0] });
        }
      });
  }
  return bad;
}

describe('docs name what exists', () => {
  const result = scan();

  it('checks a real number of names', () => {
    expect(result.checked).toBeGreaterThan(50);
  });

  it('every flag after `syncvisor <command>` is one of that command', () => {
    expect(result.flags).toEqual([]);
  });

  it('every dotted configuration key is in the schema', () => {
    expect(result.keys).toEqual([]);
  });

  it('every SYNCVISOR_* environment variable is in the schema', () => {
    expect(result.env).toEqual([]);
  });

  it('the scanner catches an invented flag and key (it can fail)', () => {
    expect(known.run!.has('--log-format')).toBe(true);
    expect(known.run!.has('--no-such-flag')).toBe(false);
    expect(isKeyOrGroup('ptp.socketPath')).toBe(true);
    expect(isKeyOrGroup('ptp.socketDir')).toBe(false);
  });
});
