// Lint rules, including the layer rules of docs/architecture.md: imports point down only.
import tseslint from 'typescript-eslint';

const nodeBuiltins = ['node:*', 'fs', 'path', 'os', 'net', 'http', 'child_process', 'crypto', 'events', 'timers'];

export default tseslint.config(
  { ignores: ['dist/**', 'build/**', 'node_modules/**', 'coverage/**', 'src/io/observe/inspector/assets/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    // The launcher is a CommonJS script (bin/package.json): an ES module entry point costs the start Node's ES loader.
    files: ['bin/**/*.js'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['src/machines/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: nodeBuiltins, message: 'src/machines is pure: no node:* imports.' },
            {
              group: ['**/io/**', '**/io', '../io/*'],
              message: 'src/machines must not import src/io.',
            },
            { group: ['**/actors/**', '../actors/*'], message: 'src/machines must not import src/actors.' },
          ],
        },
      ],
      'no-restricted-properties': [
        'error',
        { object: 'Date', property: 'now', message: 'Machines take time from the clock, not Date.now().' },
      ],
      'no-restricted-globals': ['error', { name: 'process', message: 'Machines never touch process.' }],
    },
  },
  {
    files: ['src/io/**/*.ts'],
    rules: {
      // The typescript-eslint form of the rule: `import type` of a concern's contract types (e.g.
      // src/machines/portsync/events.ts) crosses the wall; any runtime import of machines or actors does not.
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['xstate', 'xstate/*', '@statelyai/*'],
              message: 'src/io knows nothing about XState.',
            },
            {
              group: ['**/machines/**', '../machines/*'],
              message: 'src/io must not import machines at run time (import type of contract types only).',
              allowTypeImports: true,
            },
            { group: ['**/actors/**'], message: 'src/io must not import actors.' },
          ],
        },
      ],
    },
  },
);
