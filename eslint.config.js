// ESLint flat config: typescript-eslint's recommended type-checked rules over all TypeScript in
// the repo (server, browser code, tests, benchmarks, scripts, examples). `npm run lint`; .ci/run
// runs it after the type-check. Each file is checked against its own tsconfig (the browser code's
// is src/browser/tsconfig.json), found by the project service.
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
  {
    // A disable comment that no longer silences anything is an error, so none outlive their reason.
    linterOptions: { reportUnusedDisableDirectives: 'error' },
  },
  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // A leading underscore marks a parameter or binding that is there on purpose (Express's
      // four-argument error handlers, properties dropped from a rest object).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true }],
      // connect.d.ts is a global script declaration (window.UcwConnect), so it is referenced by path.
      '@typescript-eslint/triple-slash-reference': ['error', { path: 'always', types: 'prefer-import', lib: 'always' }],
      // Validators match control characters on purpose, to reject them.
      'no-control-regex': 'off',
      // Implementations of Promise-returning interfaces (fakes, the in-process notifier, static
      // credentials) are async without awaiting, so a throw still becomes a rejection.
      '@typescript-eslint/require-await': 'off',
      // String(value) of untrusted input is deliberate: whatever arrived is shown or compared as text.
      '@typescript-eslint/no-base-to-string': 'off',
      // Re-throwing a caught `unknown` through Promise.reject keeps the original reason.
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingUnknown: true }],
    },
  },
  {
    // Plain JavaScript (this file, bench/hello.mjs) is in no tsconfig: syntax rules only.
    files: ['**/*.{js,mjs}'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { globals: globals.node },
  },
  {
    // Browser code runs in a page: browser globals only (its tsconfig has no Node types either).
    files: ['src/browser/**'],
    languageOptions: { globals: globals.browser },
  },
  {
    // Tests assert on untyped values by design: supertest's response bodies and page.evaluate
    // results are `any`, and so are the test pages' own window globals.
    files: ['test/**'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
);
