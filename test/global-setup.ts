import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A directory private to this `vitest run`: where test/helpers/production-build.ts coordinates its one build. */
    runDir: string;
  }
}

/** Runs once per `vitest run`, before any test file: what every file would otherwise repeat. */
export default function setup(project: TestProject): () => void {
  if (!process.env.TEST_DATABASE_URL) {
    if (process.env.REQUIRE_POSTGRES_TESTS) throw new Error('TEST_DATABASE_URL is not set, and REQUIRE_POSTGRES_TESTS is set: the storage suites must run on PostgreSQL');
    console.warn('TEST_DATABASE_URL is not set: storage tests run on SQLite only.');
  }
  const runDir = mkdtempSync(join(tmpdir(), 'ucw-bff-test-run-'));
  project.provide('runDir', runDir);
  return () => rmSync(runDir, { recursive: true, force: true });
}
