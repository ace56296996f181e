/**
 * `npm run lint`: typescript-eslint's recommended rules, and the layers as import rules.
 * Typed rules (no-floating-promises and its kin) catch a Promise nobody awaits.
 *
 * The layers (README, "Architecture"): `core/` imports no other project folder; `workflows/`
 * imports only `core/`, plus `import type` of the `Activities` type from
 * `activities/index.ts`; `adapters/` imports only `core/`; `config/` imports only `core/` and
 * `codec/`; `console/` (the review console, its own process) imports `core/`, `adapters/`,
 * `config/` and `client/`; nothing imports `bench/`, `test/` or `console/`, except themselves
 * (and `test/` may import anything but `bench/`).
 *
 * `no-restricted-imports` matches the import's text, not the file it resolves to, so the
 * rules are written per folder and per depth: from `core/drift/x.ts`, `../../` is the project
 * root, and `../../ml/` is the folder `ml/`.
 */
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import globals from 'globals';
import { readdirSync } from 'node:fs';
import tseslint from 'typescript-eslint';

/** For each folder with an allow-list: the other folders it may import. */
const ALLOWED = {
  core: [],
  workflows: ['core'],
  adapters: ['core'],
  config: ['core', 'codec'],
  console: ['core', 'adapters', 'config', 'client'],
};
/** For every other folder: the folders it may not import. */
const FORBIDDEN = { bench: ['test', 'console'], test: ['bench'] };
const FORBIDDEN_ELSEWHERE = ['bench', 'test', 'console'];
const IGNORED = ['node_modules/', '.venv/', '.data/', '.scratch/', 'bench/results/', 'test/replay/histories/', 'test/fixtures/'];
/** Every project folder, so that a new one gets the "nothing imports bench/ or test/" rule. */
const FOLDERS = readdirSync(import.meta.dirname, { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && !entry.name.startsWith('.') && entry.name !== 'node_modules')
  .map((entry) => entry.name);
/** Folders nest at most two deep today (`core/drift/`, `stack/chaos/`); four leaves room. */
const MAX_DEPTH = 4;

const SOURCES = '*.{ts,mts,cts,js,mjs,cjs}';
const escapeRegex = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The `no-restricted-imports` patterns for a file `depth` folders below the project root, in `folder`. */
function layerPatterns(folder, depth) {
  const root = `^(?:\\.\\./){${depth}}`;
  const allowed = ALLOWED[folder];
  if (allowed) {
    // Back up to the root and into the folder itself (`../../core/` from `core/drift/`) is allowed too.
    const exceptions = [folder, ...allowed].map((name) => `${escapeRegex(name)}/`);
    if (folder === 'workflows') exceptions.push('activities/index\\.ts$');
    const patterns = [
      {
        regex: `${root}(?!${exceptions.join('|')})`,
        caseSensitive: true,
        message: `${folder}/ imports ${allowed.length ? `only ${allowed.map((name) => `${name}/`).join(' and ')}` : 'no other project folder'} (layers: see eslint.config.js).`,
      },
    ];
    if (folder === 'workflows') {
      patterns.push({
        regex: `${root}activities/index\\.ts$`,
        caseSensitive: true,
        allowTypeImports: true,
        message: 'workflows/ may only `import type` from activities/index.ts: the workflow bundle must not load activity code.',
      });
    }
    return patterns;
  }
  const forbidden = FORBIDDEN[folder] ?? FORBIDDEN_ELSEWHERE;
  return [
    {
      regex: `${root}(?:${forbidden.map(escapeRegex).join('|')})/`,
      caseSensitive: true,
      message: `${forbidden.map((name) => `${name}/`).join(' and ')} ${forbidden.length > 1 ? 'are' : 'is'} not imported from ${folder}/ (layers: see eslint.config.js).`,
    },
  ];
}

const layerRules = FOLDERS.flatMap((folder) =>
  Array.from({ length: MAX_DEPTH }, (_, i) => ({
    name: `perennial/layers/${folder}/depth-${i + 1}`,
    files: [`${folder}/${'*/'.repeat(i)}${SOURCES}`],
    rules: { '@typescript-eslint/no-restricted-imports': ['error', { patterns: layerPatterns(folder, i + 1) }] },
  })),
);

export default defineConfig(
  { name: 'perennial/ignores', ignores: IGNORED },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    name: 'perennial/base',
    languageOptions: { ecmaVersion: 2022, sourceType: 'module', globals: globals.node },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // `_`-prefixed names are deliberately unused (a callback's position, a destructured rest).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
      // Series coefficients (core/stats.ts) are written with the digits of their source; that
      // a double keeps only ~17 of them is known and intended.
      'no-loss-of-precision': 'off',
    },
  },
  {
    // Typed rules: a store call (or any Promise) that nobody awaits would let its error or its
    // ordering slip away silently; a Promise in a condition is always true.
    name: 'perennial/promises',
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        // node:test's describe/it return Promises that the runner itself awaits.
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite'] }] },
      ],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
    },
  },
  {
    name: 'perennial/tests',
    files: ['test/**'],
    rules: {
      // Tests read error bodies as loose JSON and send deliberately ill-typed input: `any` is the honest type there.
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
  ...layerRules,
);
