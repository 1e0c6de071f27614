import type { Kysely } from 'kysely';

/**
 * Rate-limit counters shared by every instance on one PostgreSQL database (one row per limited
 * key, holding its current fixed window). Created on SQLite too, where it stays empty, so both
 * dialects have the same schema.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('rate_limit_buckets')
    .addColumn('key', 'text', (c) => c.primaryKey())
    // Epoch milliseconds: the window's start and end.
    .addColumn('window_start', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('count', 'integer', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('rate_limit_buckets_expiry_idx').on('rate_limit_buckets').column('expires_at').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('rate_limit_buckets').execute();
}
