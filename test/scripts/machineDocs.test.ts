import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, unlinkSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generate, leadingComment, mermaidOf } from '../../scripts/gen-machine-docs.js';
import { chartOf } from '../../src/actors/observe/machineChart.js';
import { doorMachine } from './fixtures/machines/door.js';

const fixtures = resolve(import.meta.dirname, 'fixtures', 'machines');
const out = mkdtempSync(join(tmpdir(), 'machine-docs-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

/** Run the script as CI does; returns the exit code. */
function runScript(args: string[]): number {
  try {
    execFileSync(
      process.execPath,
      ['--import', 'tsx', 'scripts/gen-machine-docs.ts', '--src', fixtures, '--out', out, ...args],
      {
        cwd: resolve(import.meta.dirname, '..', '..'),
        stdio: 'pipe',
        timeout: 60_000,
      },
    );
    return 0;
  } catch (err) {
    return (err as { status: number }).status;
  }
}

describe('machine docs generator', () => {
  it('draws nested states, initial states, events, guards, after delays, always and final states', () => {
    expect(mermaidOf(chartOf(doorMachine))).toBe(
      [
        'stateDiagram-v2',
        '  [*] --> door_closed',
        '  state "closed" as door_closed {',
        '    [*] --> door_closed_unlocked',
        '    state "unlocked" as door_closed_unlocked',
        '    state "locked" as door_closed_locked',
        '    door_closed_unlocked --> door_closed_locked : LOCK',
        '    door_closed_unlocked --> door_closed_locked : after autoLock',
        '    door_closed_locked --> door_closed_unlocked : UNLOCK [hasKey]',
        '  }',
        '  state "open" as door_open',
        '  state "gone" as door_gone',
        '  door_gone --> [*]',
        '  door_closed --> door_open : OPEN [hasKey]',
        '  door_open --> door_closed : CLOSE',
        '  door_open --> door_gone : always [hasKey]',
      ].join('\n'),
    );
  });

  it('writes one page per exported machine with the leading comment and named implementations, plus an index', async () => {
    const files = await generate(fixtures, out);
    expect([...files.keys()].sort()).toEqual(['README.md', 'door.md']);
    const page = files.get('door.md')!;
    expect(page).toContain('# door\n');
    expect(page).toContain('door: a small fixture machine for the machine docs generator test.');
    expect(page).toContain('```text\n  closed ⇄ open, locked after a delay\n```');
    expect(page).toContain('```mermaid\nstateDiagram-v2\n');
    expect(page).toContain('| `closed.locked` | `UNLOCK` | `hasKey` | `closed.unlocked` | `beep` |');
    expect(page).toContain('- **guards**: `hasKey`');
    expect(page).toContain('- **delays**: `autoLock`');
    expect(page).toContain('- **actions**: `beep`');
    expect(page).toContain('- **actors**: _none_');
    expect(files.get('README.md')).toContain('| [door](door.md) | `door.ts` | door: a small fixture machine');
    expect(leadingComment('\n/**\n * Hello.\n * World\n */\nimport x;')).toBe('Hello.\nWorld');
  });

  it('--check passes after generating and fails when a page is stale, missing or extra', () => {
    expect(runScript([])).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['README.md', 'door.md']);
    expect(runScript(['--check'])).toBe(0);

    const page = join(out, 'door.md');
    const good = readFileSync(page, 'utf8');
    writeFileSync(page, good.replace('UNLOCK', 'OPEN_SESAME'));
    expect(runScript(['--check'])).toBe(1);

    unlinkSync(page);
    expect(runScript(['--check'])).toBe(1);

    writeFileSync(page, good);
    writeFileSync(join(out, 'window.md'), '# window\n');
    expect(runScript(['--check'])).toBe(1);
    unlinkSync(join(out, 'window.md'));
    expect(runScript(['--check'])).toBe(0);
  });
});
