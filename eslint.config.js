// ESLint flat config. Type-aware rules for TypeScript, plus the purity rules that keep the pure
// packages (crypto, protocol, client) free of Node and DOM APIs; the compiler enforces the same
// through lib es2022 and types [] (see tsconfig.base.json).
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const PURE_PACKAGES = ['packages/crypto/src/**/*.ts', 'packages/protocol/src/**/*.ts', 'packages/client/src/**/*.ts'];

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', 'bench/out/**', 'data/**', 'packages/protocol/src/gen/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { project: ['./tsconfig.tests.json'], tsconfigRootDir: import.meta.dirname },
      globals: { ...globals.node },
    },
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      // A leading underscore marks a parameter a signature requires but the body does not use.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      'no-restricted-syntax': [
        'error',
        { selector: 'TSEnumDeclaration', message: 'Use an `as const` object and a derived union (STYLE.md).' },
        { selector: 'TSModuleDeclaration[kind="namespace"]', message: 'No namespaces (STYLE.md).' },
      ],
    },
  },
  {
    // Package sources are linted under their own (pure) compiler settings, not the tests' ones.
    files: ['packages/*/src/**/*.ts'],
    ignores: ['**/*.test.ts', '**/*.contract.ts', '**/test-support/**'],
    languageOptions: { parserOptions: { project: ['./packages/*/tsconfig.json'] } },
  },
  {
    files: PURE_PACKAGES,
    languageOptions: { globals: {} },
    rules: {
      'no-console': 'error',
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['node:*'], message: 'Pure packages cannot import Node modules.' }] },
      ],
      'no-restricted-globals': [
        'error',
        ...['window', 'document', 'navigator', 'localStorage', 'indexedDB', 'Buffer', 'process', 'require', 'global'].map(
          (name) => ({ name, message: `Pure packages cannot use ${name}; put environment code behind an interface.` }),
        ),
      ],
    },
  },
  {
    // The client's environment code compiles under its own settings: src/node with Node types
    // (tsconfig.node.json), src/dom with the DOM (tsconfig.dom.json, tsconfig.dom-tests.json).
    files: ['packages/client/src/node/**/*.ts'],
    ignores: ['**/*.test.ts'],
    languageOptions: { parserOptions: { project: ['./packages/client/tsconfig.node.json'] } },
  },
  {
    files: ['packages/client/src/dom/**/*.ts'],
    languageOptions: { parserOptions: { project: ['./packages/client/tsconfig.dom.json'] } },
  },
  {
    files: ['packages/client/src/dom/**/*.test.ts'],
    languageOptions: { parserOptions: { project: ['./packages/client/tsconfig.dom-tests.json'] } },
  },
  {
    // src/node may use Node but not the browser; src/dom the browser but not Node.
    files: ['packages/client/src/node/**/*.ts'],
    languageOptions: { globals: { ...globals.node } },
    rules: {
      'no-restricted-imports': 'off',
      'no-restricted-globals': [
        'error',
        ...['window', 'document', 'navigator', 'localStorage', 'indexedDB'].map((name) => ({
          name,
          message: `Node code cannot use ${name}; browser code belongs in src/dom.`,
        })),
      ],
    },
  },
  {
    files: ['packages/client/src/dom/**/*.ts'],
    languageOptions: { globals: { ...globals.browser } },
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['node:*'], message: 'Browser code cannot import Node modules.' }] },
      ],
      'no-restricted-globals': [
        'error',
        ...['Buffer', 'process', 'require', 'global'].map((name) => ({
          name,
          message: `Browser code cannot use ${name}; Node code belongs in src/node.`,
        })),
      ],
    },
  },
  {
    // The web app is browser code under its own compiler settings (DOM, JSX for Preact). It talks
    // to the SDK only (ARCHITECTURE.md: apps/web imports client), never to Node.
    files: ['apps/web/src/**/*.ts', 'apps/web/src/**/*.tsx'],
    languageOptions: {
      parserOptions: { project: ['./apps/web/tsconfig.json'] },
      globals: { ...globals.browser },
    },
    rules: {
      'no-console': 'error',
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['node:*'], message: 'The web app runs in browsers: no Node modules.' },
            {
              group: ['@pairwise/*', '!@pairwise/client'],
              message: 'The web app imports @pairwise/client only (ARCHITECTURE.md).',
            },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        ...['Buffer', 'process', 'require', 'global'].map((name) => ({
          name,
          message: `The web app runs in browsers and cannot use ${name}.`,
        })),
      ],
    },
  },
  {
    files: ['**/*.test.ts', '**/test-support/**/*.ts'],
    rules: {
      // Tests may assert on values TypeScript cannot prove present (expect(x!) after a check).
      '@typescript-eslint/no-non-null-assertion': 'off',
      'no-console': 'off',
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
  },
);
