// Configuration layering: defaults < file (JSON or YAML) < environment < flags, validated by the zod schema.
// Errors name the key, where the value came from and why it is wrong; the CLI turns them into exit code 2.
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { resolvePaths } from './paths.js';
import { configSchema, type Config } from './schema.js';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** One leaf of the schema: its dotted key, environment names, kind and description (for docs and parsing). */
export interface ConfigKey {
  key: string;
  env: string[];
  kind: 'string' | 'number' | 'boolean' | 'enum' | 'list';
  values?: readonly string[];
  defaultValue: unknown;
  description: string;
}

/** Names users already know from SONiC portsyncd and the OpenShift PTP sidecar. */
const envAliases: Record<string, string> = {
  'warmRestart.timeoutSecs': 'PORTSYNCD_EOIU_TIMEOUT_SECS',
  'stateFile.maxAgeDays': 'PORTSYNCD_STATE_MAX_AGE_DAYS',
  'ptp.profilePath': 'PTP_PROFILE_PATH',
  'ptp.nodeName': 'NODE_NAME',
};

const snake = (s: string): string => s.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();

type AnyZod = z.ZodType & { def: { type: string; innerType?: AnyZod; element?: AnyZod; entries?: object } };

function unwrap(s: AnyZod): { inner: AnyZod; description: string; defaultValue: unknown } {
  let description = s.description ?? '';
  let defaultValue: unknown;
  let cur = s;
  while (cur.def.type === 'default' || cur.def.type === 'prefault' || cur.def.type === 'optional') {
    if (cur.def.type === 'default') defaultValue = (cur.def as unknown as { defaultValue: unknown }).defaultValue;
    cur = cur.def.innerType as AnyZod;
    description ||= cur.description ?? '';
  }
  return { inner: cur, description, defaultValue };
}

function walk(schema: AnyZod, path: string[], out: ConfigKey[]): void {
  const { inner, description, defaultValue } = unwrap(schema);
  if (inner.def.type === 'object') {
    for (const [k, v] of Object.entries((inner as unknown as z.ZodObject).shape)) walk(v as AnyZod, [...path, k], out);
    return;
  }
  const key = path.join('.');
  const env = [`SYNCVISOR_${path.map(snake).join('_')}`];
  const alias = envAliases[key];
  if (alias) env.push(alias);
  const t = inner.def.type;
  const kind: ConfigKey['kind'] =
    t === 'number' ? 'number' : t === 'boolean' ? 'boolean' : t === 'enum' ? 'enum' : t === 'array' ? 'list' : 'string';
  const entry: ConfigKey = { key, env, kind, defaultValue, description };
  if (kind === 'enum') entry.values = Object.values(inner.def.entries ?? {}) as string[];
  if (kind === 'list') {
    const el = unwrap(inner.def.element as AnyZod).inner;
    if (el.def.type === 'enum') entry.values = Object.values(el.def.entries ?? {}) as string[];
  }
  out.push(entry);
}

export const configKeys: readonly ConfigKey[] = (() => {
  const out: ConfigKey[] = [];
  walk(configSchema as unknown as AnyZod, [], out);
  return out;
})();

const keyIndex = new Map(configKeys.map((k) => [k.key, k]));

/** Turns the text of an environment variable or flag into the key's type; the schema judges the result. */
function coerce(k: ConfigKey, raw: string): unknown {
  switch (k.kind) {
    case 'number': {
      const n = Number(raw.trim());
      return raw.trim() === '' || Number.isNaN(n) ? raw : n;
    }
    case 'boolean':
      if (/^(true|1|yes|on)$/i.test(raw.trim())) return true;
      if (/^(false|0|no|off)$/i.test(raw.trim())) return false;
      return raw;
    case 'list':
      return raw
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
    default:
      return raw;
  }
}

/** Keys that would reach Object.prototype through a plain object: never followed or set. */
const forbidden = new Set(['__proto__', 'constructor', 'prototype']);

function setPath(obj: Record<string, unknown>, key: string, value: unknown): void {
  const parts = key.split('.');
  if (parts.some((p) => forbidden.has(p))) throw new ConfigError(`config key "${key}": not a configuration key`);
  let cur = obj;
  for (const p of parts.slice(0, -1)) {
    const next = cur[p];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) cur[p] = {};
    cur = cur[p] as Record<string, unknown>;
  }
  cur[parts[parts.length - 1]!] = value;
}

/** Accepts both nested objects and dotted keys at any level (`{"ptp.socketPath": …}`). */
function normalize(obj: unknown): unknown {
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) return obj;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) {
    if (forbidden.has(k)) throw new ConfigError(`config key "${k}": not a configuration key`);
    if (k.includes('.')) setPath(out, k, normalize(v));
    else if (typeof out[k] === 'object' && out[k] !== null && typeof v === 'object' && v !== null)
      Object.assign(out[k] as object, normalize(v));
    else out[k] = normalize(v);
  }
  return out;
}

export interface LoadOptions {
  /** Path of a JSON or YAML file. */
  file?: string;
  env?: NodeJS.ProcessEnv;
  /** Dotted key → raw text, from command-line flags. */
  flags?: Record<string, string>;
  /** Effective user id for paths.mode=auto (default: the process's). */
  uid?: number;
}

function hasPath(obj: Record<string, unknown>, key: string): boolean {
  let cur: unknown = obj;
  for (const p of key.split('.')) {
    if (typeof cur !== 'object' || cur === null || !Object.hasOwn(cur, p)) return false;
    cur = (cur as Record<string, unknown>)[p];
  }
  return true;
}

export function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`config file ${file}: cannot read it (${(err as NodeJS.ErrnoException).code ?? err})`);
  }
  let data: unknown;
  try {
    data = /\.json$/i.test(file) ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new ConfigError(
      `config file ${file}: not valid ${/\.json$/i.test(file) ? 'JSON' : 'YAML'}: ${(err as Error).message.split('\n')[0]}`,
    );
  }
  if (data == null) return {};
  if (typeof data !== 'object' || Array.isArray(data))
    throw new ConfigError(`config file ${file}: the top level must be a mapping of keys`);
  return normalize(data) as Record<string, unknown>;
}

export function loadConfig(opts: LoadOptions = {}): Config {
  const origin = new Map<string, string>();
  let merged: Record<string, unknown> = {};
  if (opts.file) {
    merged = readConfigFile(opts.file);
    for (const k of configKeys) origin.set(k.key, `file ${opts.file}`);
  }
  const env = opts.env ?? {};
  for (const k of configKeys) {
    // SYNCVISOR_* wins over the legacy alias when both are set.
    for (const name of [...k.env].reverse()) {
      const raw = env[name];
      if (raw === undefined || (raw === '' && name !== k.env[0])) continue;
      setPath(merged, k.key, coerce(k, raw));
      origin.set(k.key, `environment ${name}`);
    }
  }
  for (const [key, raw] of Object.entries(opts.flags ?? {})) {
    const k = keyIndex.get(key);
    if (!k) throw new ConfigError(`config key "${key}": unknown key (see docs/configuration.md)`);
    setPath(merged, key, coerce(k, raw));
    origin.set(key, 'command line');
  }
  const result = configSchema.safeParse(merged);
  if (result.success) return resolvePaths(result.data, (key) => hasPath(merged, key), env, opts.uid);
  const lines = result.error.issues.map((issue) => {
    const path = issue.path.join('.');
    if (issue.code === 'unrecognized_keys') {
      const keys = issue.keys.map((k) => (path ? `${path}.${k}` : k));
      return `config key "${keys.join('", "')}": unknown key (see docs/configuration.md)`;
    }
    const leaf = configKeys.find((k) => path === k.key || path.startsWith(`${k.key}.`));
    const from = leaf ? origin.get(leaf.key) : undefined;
    return `config key "${leaf?.key ?? path}"${from ? ` (from ${from})` : ''}: ${issue.message}`;
  });
  throw new ConfigError(lines.join('\n'));
}

/** Stable hash of the effective configuration (the trace header carries it). */
export function configDefaults(): Config {
  return configSchema.parse({});
}
