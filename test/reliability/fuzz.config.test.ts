// Fuzzing of the configuration loader (src/config/load.ts): random file bytes as JSON and YAML, random values for
// every known key from the file, the environment and flags. The only error that may escape is ConfigError.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, configKeys, loadConfig, readConfigFile } from '../../src/config/load.js';

const dir = mkdtempSync(join(tmpdir(), 'syncvisor-fuzz-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs f; a thrown value must be a ConfigError with a message naming something. */
function onlyConfigError(f: () => unknown): 'ok' | 'configError' {
  try {
    f();
    return 'ok';
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message.length).toBeGreaterThan(0);
    return 'configError';
  }
}

const rawValue = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string({ maxLength: 5 }), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.integer(), { maxKeys: 2 }),
);
const keyName = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...configKeys.map((k) => k.key)) },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }).filter((k) => !k.includes('__proto__')) },
);

describe('config loader under fuzzing', () => {
  it('random bytes as a .json or .yaml file: a mapping or a ConfigError, never another throw', () => {
    const results = { ok: 0, configError: 0 };
    // The yaml package reports odd tags and directives as process warnings: silence them for the run only.
    const emitWarning = process.emitWarning;
    process.emitWarning = () => undefined;
    try {
      fc.assert(
        fc.property(
          fc.constantFrom('json', 'yaml'),
          fc.oneof(
            fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
            fc.jsonValue({ maxDepth: 3 }).map((v) => Buffer.from(JSON.stringify(v))),
            fc
              .array(fc.tuple(keyName, fc.string({ maxLength: 10 })), { maxLength: 6 })
              .map((kv) => Buffer.from(kv.map(([k, v]) => `${JSON.stringify(k)}: ${v}`).join('\n'))),
          ),
          (ext, bytes) => {
            const file = join(dir, `c.${ext}`);
            writeFileSync(file, bytes);
            results[onlyConfigError(() => readConfigFile(file))]++;
            onlyConfigError(() => loadConfig({ file, env: {} }));
          },
        ),
        { numRuns: 1000 },
      );
    } finally {
      process.emitWarning = emitWarning;
    }
    expect(results.ok).toBeGreaterThan(0);
    expect(results.configError).toBeGreaterThan(0);
  });

  it('random values for known keys from a file, the environment and flags: a Config or a ConfigError', () => {
    let ok = 0;
    fc.assert(
      fc.property(
        fc.dictionary(keyName, rawValue, { maxKeys: 5 }),
        fc.dictionary(fc.constantFrom(...configKeys.flatMap((k) => k.env)), fc.string({ maxLength: 12 }), {
          maxKeys: 3,
        }),
        fc.dictionary(keyName, fc.string({ maxLength: 12 }), { maxKeys: 3 }),
        (fileContent, env, flags) => {
          const file = join(dir, 'k.json');
          writeFileSync(file, JSON.stringify(fileContent));
          if (onlyConfigError(() => loadConfig({ file, env, flags })) === 'ok') ok++;
        },
      ),
      { numRuns: 1000 },
    );
    expect(ok).toBeGreaterThan(0);
  });

  it('a YAML alias bomb is refused with a ConfigError, not expanded', () => {
    const file = join(dir, 'bomb.yaml');
    const levels = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 12; i++)
      levels.push(
        `l${i}: &l${i} [${Array(9)
          .fill(i === 1 ? '*a' : `*l${i - 1}`)
          .join(',')}]`,
      );
    writeFileSync(file, levels.join('\n'));
    expect(onlyConfigError(() => readConfigFile(file))).toBe('configError');
  });

  // Was a bug found by this test: normalize()/setPath() followed "__proto__" in a dotted key and wrote to
  // Object.prototype before validation. Such keys are now refused with a ConfigError.
  it('a "__proto__.x" key in a config file does not reach Object.prototype', () => {
    const file = join(dir, 'proto.json');
    writeFileSync(file, JSON.stringify({ '__proto__.svPolluted': 'yes' }));
    try {
      expect(onlyConfigError(() => loadConfig({ file, env: {} }))).toBe('configError');
      expect((Object.prototype as Record<string, unknown>)['svPolluted']).toBeUndefined();
    } finally {
      delete (Object.prototype as Record<string, unknown>)['svPolluted'];
    }
  });
});
