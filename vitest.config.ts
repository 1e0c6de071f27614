import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    pool: 'forks',
    // Test files share a worker's module cache (src has no module-level state): each file would
    // otherwise import and transform the whole app again, about a second of a busy core per file.
    isolate: false,
    testTimeout: 20_000,
    hookTimeout: 30_000,
    // Browser suites start Chromium; two cores do not take more than two at a time.
    maxWorkers: 2,
    reporters: ['default'],
    globalSetup: ['test/global-setup.ts'],
  },
});
