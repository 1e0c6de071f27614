import type { Kysely } from 'kysely';

/**
 * Duplicate detection (findLiveConnectionAt) runs on every connection change and looks up the
 * user's live connection at one institution. With only (user_id, created_at) indexed, that read
 * every connection the user ever had: a cost growing with the user's history on the hot path.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createIndex('connections_user_institution_idx').on('connections').columns(['user_id', 'institution_id', 'created_at']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('connections_user_institution_idx').execute();
}
