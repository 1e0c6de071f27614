import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestDatabase, testDialects, withSchemaLock, type TestDatabase } from '../helpers/databases.js';

const now = '2026-11-26T06:00:00.000Z';
const connection = (overrides: Record<string, unknown> = {}) => ({
  id: 'conn_1',
  user_id: 'user-1',
  aggregator: 'mx',
  aggregator_connection_id: 'MBR-1',
  aggregator_user_id: null,
  encryption_key_id: null,
  lookup_key: 'lk-1',
  institution_id: 'inst',
  job_types: '["transactions"]',
  status: 'pending' as const,
  status_code: null,
  verification_error: null,
  duplicate_of: null,
  created_at: now,
  updated_at: now,
  last_connected_at: null,
  ...overrides,
});

async function indexNames(database: TestDatabase, table: string): Promise<string[]> {
  const query =
    database.dialect === 'sqlite'
      ? sql<{ name: string }>`select name from sqlite_master where type = 'index' and tbl_name = ${table}`
      : sql<{ name: string }>`select indexname as name from pg_indexes where tablename = ${table} and schemaname = current_schema()`;
  return (await query.execute(database.db)).rows.map((row) => row.name);
}

describe.each(testDialects)('storage on %s', (dialect) => {
  let database: TestDatabase;
  afterEach(() => database?.destroy());

  it('when migrated, then every table exists and answers', async () => {
    database = await createTestDatabase(dialect);
    for (const table of ['connect_sessions', 'connections', 'connection_events', 'inbound_webhooks', 'outbox', 'jobs'] as const) {
      const rows = await database.db.selectFrom(table).selectAll().execute();
      expect(rows).toEqual([]);
    }
    await expect(database.ping()).resolves.toBeUndefined();
  });

  it('when one aggregator connection is inserted twice, then the lookup key stops the second', async () => {
    database = await createTestDatabase(dialect);
    await database.db.insertInto('connections').values(connection()).execute();
    await expect(
      database.db.insertInto('connections').values(connection({ id: 'conn_2', user_id: 'user-2' })).execute(),
    ).rejects.toThrow(/unique|UNIQUE/);
    const rows = await database.db.selectFrom('connections').select(['id', 'user_id', 'verified', 'data_ready']).execute();
    expect(rows).toEqual([{ id: 'conn_1', user_id: 'user-1', verified: 0, data_ready: 0 }]);
  });

  it('when an event is appended twice with one dedupe key, then only the first is kept and seq increases', async () => {
    database = await createTestDatabase(dialect);
    const event = { user_id: 'u', session_id: 's', connection_id: null, type: 'connect/loaded', source: 'relay' as const, status_code: null, metadata: '{}', created_at: now };
    await database.db.insertInto('connection_events').values({ ...event, dedupe_key: 'a' }).execute();
    await database.db.insertInto('connection_events').values({ ...event, dedupe_key: 'b' }).execute();
    await expect(database.db.insertInto('connection_events').values({ ...event, dedupe_key: 'a' }).execute()).rejects.toThrow();
    const seqs = await database.db.selectFrom('connection_events').select(['seq', 'dedupe_key']).orderBy('seq').execute();
    expect(seqs.map((r) => r.dedupe_key)).toEqual(['a', 'b']);
    expect(typeof seqs[0]!.seq).toBe('number');
    expect(seqs[1]!.seq).toBeGreaterThan(seqs[0]!.seq);
  });

  it('when migrated down one step, then the latest columns are gone and up again restores them', async () => {
    database = await createTestDatabase(dialect);
    // One step at a time, newest first: the connections' institution index, the shared rate-limit
    // counters, then the sessions' last error.
    await withSchemaLock(dialect, () => database.migrateDown());
    expect(await indexNames(database, 'connections')).not.toContain('connections_user_institution_idx');
    await withSchemaLock(dialect, () => database.migrateDown());
    await expect(sql`select count(*) from rate_limit_buckets`.execute(database.db)).rejects.toThrow();
    expect(await database.db.selectFrom('connections').selectAll().execute()).toEqual([]);
    await withSchemaLock(dialect, () => database.migrateDown());
    await expect(sql`select last_error_code from connect_sessions`.execute(database.db)).rejects.toThrow();
    await withSchemaLock(dialect, () => database.migrateToLatest());
    expect(await database.db.selectFrom('connect_sessions').select(['last_error_code', 'last_error_at']).execute()).toEqual([]);
    expect(await indexNames(database, 'connections')).toContain('connections_user_institution_idx');
  });

  it('when migrated all the way down, then the tables are gone and up again restores them', async () => {
    database = await createTestDatabase(dialect);
    // Each step undoes one migration; past the first, there is nothing left to undo.
    for (let step = 0; step < 20; step += 1) await withSchemaLock(dialect, () => database.migrateDown());
    await expect(sql`select count(*) from connections`.execute(database.db)).rejects.toThrow();
    await withSchemaLock(dialect, () => database.migrateToLatest());
    const rows = await database.db.selectFrom('connections').selectAll().execute();
    expect(rows).toEqual([]);
    expect(await database.db.selectFrom('rate_limit_buckets').selectAll().execute()).toEqual([]);
  });

  it('when a transaction fails half-way, then nothing it wrote remains', async () => {
    database = await createTestDatabase(dialect);
    await expect(
      database.db.transaction().execute(async (trx) => {
        await trx.insertInto('connections').values(connection()).execute();
        await trx.insertInto('connections').values(connection({ id: 'conn_dup' })).execute();
      }),
    ).rejects.toThrow();
    expect(await database.db.selectFrom('connections').selectAll().execute()).toEqual([]);
  });
});
