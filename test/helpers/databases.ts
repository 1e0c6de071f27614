import { randomBytes } from 'node:crypto';
import pg from 'pg';
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
 */
export async function createTestDatabase(dialect: Dialect, pool: { poolSize?: number; poolTimeoutMs?: number } = {}): Promise<TestDatabase> {
  if (dialect === 'sqlite') {
    const handle = createDatabase({ dialect: 'sqlite', path: ':memory:' });
    await handle.migrateToLatest();
    return { ...handle, destroy: () => handle.close() };
  }
  const url = process.env.TEST_DATABASE_URL!;
  const schema = `t_${randomBytes(6).toString('hex')}`;
  // Kysely's migrator lists the tables of every schema; a schema dropped by a parallel test file
  // at that moment makes it fail. One advisory lock serialises creating and dropping schemas.
  const handle = await underSchemaLock(url, async (admin) => {
    await admin.query(`create schema ${schema}`);
    const created = createDatabase({ dialect: 'postgres', url }, { pgSchema: schema, poolSize: 5, ...pool });
    await created.migrateToLatest();
    return created;
  });
  return {
    ...handle,
    destroy: async () => {
      await handle.close();
      await underSchemaLock(url, (admin) => admin.query(`drop schema ${schema} cascade`));
    },
  };
}

const SCHEMA_LOCK = 727_001;

/** Runs `work` (e.g. a migration) while no other test file creates or drops a schema. SQLite needs no lock. */
export async function withSchemaLock<T>(dialect: Dialect, work: () => Promise<T>): Promise<T> {
  return dialect === 'postgres' ? underSchemaLock(process.env.TEST_DATABASE_URL!, work) : work();
}

async function underSchemaLock<T>(url: string, work: (admin: pg.Client) => Promise<T>): Promise<T> {
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    await admin.query('select pg_advisory_lock($1)', [SCHEMA_LOCK]);
    return await work(admin);
  } finally {
    await admin.end();
  }
}
