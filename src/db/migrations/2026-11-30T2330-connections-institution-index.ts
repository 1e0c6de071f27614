import { sql, type Kysely } from 'kysely';

/**
 * Duplicate detection (findLiveConnectionAt) runs on every new connection and looks up the
 * user's original (not a duplicate) connection at one institution. With only (user_id,
 * created_at) indexed, that read every connection the user ever had, duplicates included: a cost
 * growing with the user's history on the hot path. Partial, so it holds only originals (the
 * query's `duplicate_of is null` matches the index's condition on both dialects).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createIndex('connections_user_institution_idx')
    .on('connections')
    .columns(['user_id', 'institution_id', 'created_at'])
    .where(sql.ref('duplicate_of'), 'is', null)
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('connections_user_institution_idx').execute();
}
