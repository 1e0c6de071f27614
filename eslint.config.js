// ESLint flat config: typescript-eslint's recommended rules over all TypeScript in the repo
// (server, browser code, tests, benchmarks, scripts, examples). `npm run lint`; .ci/run runs it
// after the type-check. Type-aware rules are left out: on 2 cores they cost more than tsc itself.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default defineConfig(
  {
    ignores: [
      'dist/',
      'src/generated/', // written by npm run build:browser
      'examples/client/api-types.ts', // written by npm run openapi:types
    ],
  },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    rules: {
      // A leading underscore marks a parameter or binding that is there on purpose (Express's
      // four-argument error handlers, properties dropped from a rest object).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true }],
      // connect.d.ts is a global script declaration (window.UcwConnect), so it is referenced by path.
      '@typescript-eslint/triple-slash-reference': ['error', { path: 'always', types: 'prefer-import', lib: 'always' }],
      // Validators match control characters on purpose, to reject them.
      'no-control-regex': 'off',
    },
  },
  {
    files: ['**/*.{js,mjs}'],
    languageOptions: { globals: globals.node },
  },
  {
    // Browser code runs in a page: browser globals only (its tsconfig has no Node types either).
    files: ['src/browser/**'],
    languageOptions: { globals: globals.browser },
  },
  {
    // Tests read JSON bodies (supertest's are `any` already) and the test pages' own window globals.
    files: ['test/**'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
);
