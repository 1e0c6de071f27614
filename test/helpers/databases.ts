import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import pg from 'pg';
import { inject } from 'vitest';
import { createDatabase, type DatabaseHandle, type Dialect } from '../../src/db/database.js';

/**
 * SQLite always; PostgreSQL whenever TEST_DATABASE_URL is set (CI sets it). With
 * REQUIRE_POSTGRES_TESTS set (CI), a missing TEST_DATABASE_URL is an error instead of a skip.
 */
export const testDialects: Dialect[] = postgresWanted() ? ['sqlite', 'postgres'] : ['sqlite'];

function postgresWanted(): boolean {
  if (process.env.TEST_DATABASE_URL) return true;
  if (process.env.REQUIRE_POSTGRES_TESTS) throw new Error('TEST_DATABASE_URL is not set, and REQUIRE_POSTGRES_TESTS is set: the storage suites must run on PostgreSQL');
  return false;
}

// Said once per run, by test/global-setup.ts (each test file runs in its own process).

export interface TestDatabase extends DatabaseHandle {
  /** Drops everything this test database created. */
  destroy(): Promise<void>;
}

/**
 * A fresh, migrated database. PostgreSQL tests each get their own schema, so parallel test
 * files never see each other's rows; SQLite ones an in-memory database.
 *
 * Migrating a PostgreSQL schema costs about a second on a busy machine, under a lock every test
 * file shares. So a schema is migrated once and then reused by the worker process's later tests
 * (files share a worker: vitest.config.ts sets isolate false): `destroy` empties its tables and
 * keeps it, unless the test moved its migrations (migrateDown, migrateTo), in which case it is
 * dropped. The run's global teardown drops the schemas kept at the end (test/global-setup.ts).
 */
export async function createTestDatabase(
  dialect: Dialect,
  pool: { poolSize?: number; poolTimeoutMs?: number; onStatement?: (sql: string) => void } = {},
): Promise<TestDatabase> {
  if (dialect === 'sqlite') {
    const handle = await createDatabase({ dialect: 'sqlite', path: ':memory:' }, pool.onStatement ? { onStatement: pool.onStatement } : {});
    await handle.migrateToLatest();
    return { ...handle, destroy: () => handle.close() };
  }
  const url = process.env.TEST_DATABASE_URL!;
  const options = { poolSize: 5, ...pool };
  const spare = spareSchemas.pop();
  const schema = spare ?? `${schemaPrefix()}${randomBytes(6).toString('hex')}`;
  const handle = spare
    ? await createDatabase({ dialect: 'postgres', url }, { pgSchema: schema, ...options })
    : // Kysely's migrator lists the tables of every schema; a schema dropped by a parallel test file
      // at that moment makes it fail. One advisory lock serialises creating and dropping schemas.
      await underSchemaLock(url, async (admin) => {
        await admin.query(`create schema ${schema}`);
        const created = await createDatabase({ dialect: 'postgres', url }, { pgSchema: schema, ...options });
        await created.migrateToLatest();
        return created;
      });
  let reusable = true;
  return {
    ...handle,
    migrateDown: () => {
      reusable = false;
      return handle.migrateDown();
    },
    migrateTo: (name) => {
      reusable = false;
      return handle.migrateTo(name);
    },
    destroy: async () => {
      if (reusable) reusable = await emptyTables(handle, schema);
      await handle.close();
      if (reusable) spareSchemas.push(schema);
      else await underSchemaLock(url, (admin) => admin.query(`drop schema ${schema} cascade`));
    },
  };
}

/** Migrated PostgreSQL schemas this worker's tests have finished with, emptied, ready for the next. */
const spareSchemas: string[] = [];

/** Every schema of this `vitest run` starts with this, so its global teardown can drop what is left. */
export function schemaPrefix(runToken: string = inject('runToken')): string {
  return `t_${runToken}_`;
}

/** Empties every table but the migrator's own; false when that failed (the schema is then dropped). */
async function emptyTables(handle: DatabaseHandle, schema: string): Promise<boolean> {
  try {
    const { rows } = await sql<{ table_name: string }>`
      select table_name from information_schema.tables
      where table_schema = ${schema} and table_type = 'BASE TABLE' and table_name not like 'kysely_migration%'`.execute(handle.db);
    if (rows.length > 0) await sql.raw(`truncate ${rows.map((row) => `"${schema}"."${row.table_name}"`).join(', ')} restart identity cascade`).execute(handle.db);
    return true;
  } catch {
    return false;
  }
}

const SCHEMA_LOCK = 727_001;

/** Runs `work` (e.g. a migration) while no other test file creates or drops a schema. SQLite needs no lock. */
export async function withSchemaLock<T>(dialect: Dialect, work: () => Promise<T>): Promise<T> {
  return dialect === 'postgres' ? underSchemaLock(process.env.TEST_DATABASE_URL!, work) : work();
}

export async function underSchemaLock<T>(url: string, work: (admin: pg.Client) => Promise<T>): Promise<T> {
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    await admin.query('select pg_advisory_lock($1)', [SCHEMA_LOCK]);
    return await work(admin);
  } finally {
    await admin.end();
  }
}
