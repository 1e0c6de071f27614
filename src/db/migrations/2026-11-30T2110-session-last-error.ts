import type { Kysely } from 'kysely';

/**
 * A `memberError` no longer ends a session (the real widget keeps its form live): the session
 * remembers the latest error instead, shown as `lastError` and deciding `failed` vs `expired`
 * at expiry. Status `cancelled` needs no DDL (status is text).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('connect_sessions').addColumn('last_error_code', 'integer').execute();
  await db.schema.alterTable('connect_sessions').addColumn('last_error_at', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('connect_sessions').dropColumn('last_error_at').execute();
  await db.schema.alterTable('connect_sessions').dropColumn('last_error_code').execute();
}
