import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { schemaPrefix, underSchemaLock } from './helpers/databases.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A directory private to this `vitest run`: where test/helpers/production-build.ts coordinates its one build. */
    runDir: string;
    /** Names this run's PostgreSQL schemas (test/helpers/databases.ts), so teardown drops exactly those. */
    runToken: string;
  }
}

/** Runs once per `vitest run`, before any test file: what every file would otherwise repeat. */
export default function setup(project: TestProject): () => Promise<void> {
  if (!process.env.TEST_DATABASE_URL) {
    if (process.env.REQUIRE_POSTGRES_TESTS) throw new Error('TEST_DATABASE_URL is not set, and REQUIRE_POSTGRES_TESTS is set: the storage suites must run on PostgreSQL');
    console.warn('TEST_DATABASE_URL is not set: storage tests run on SQLite only.');
  }
  const runDir = mkdtempSync(join(tmpdir(), 'ucw-bff-test-run-'));
  project.provide('runDir', runDir);
  const runToken = randomBytes(4).toString('hex');
  project.provide('runToken', runToken);
  return async () => {
    rmSync(runDir, { recursive: true, force: true });
    await dropSchemas(schemaPrefix(runToken));
  };
}

/** Drops the schemas test files kept for reuse (and any a crashed file left behind). */
async function dropSchemas(prefix: string): Promise<void> {
  const url = process.env.TEST_DATABASE_URL;
  if (!url) return;
  await underSchemaLock(url, async (admin) => {
    const { rows } = await admin.query<{ nspname: string }>('select nspname from pg_namespace where starts_with(nspname, $1)', [prefix]);
    for (const { nspname } of rows) await admin.query(`drop schema "${nspname}" cascade`);
  });
}
