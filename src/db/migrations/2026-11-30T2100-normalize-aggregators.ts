import type { Kysely } from 'kysely';
import type { MigrationContext } from '../migration-context.js';

/**
 * Aggregators are now stored trimmed and lower-cased (`MX` and `mx` are one aggregator), and the
 * blind index covers that spelling. Rows stored before are re-spelled and re-indexed here.
 *
 * The rule is copied, not imported: a migration must keep doing what it did when it shipped.
 * A row whose normalized key another row already holds is a conflict: both rows stay as they
 * are (the older spelling keeps its old index) and the conflict is logged for an operator;
 * merging would hand one user's connection to another.
 */
const normalized = (aggregator: string) => {
  const trimmed = aggregator.trim();
  return /^[A-Za-z0-9_-]{1,64}$/.test(trimmed) ? trimmed.toLowerCase() : undefined;
};

interface Row {
  id: string;
  user_id: string;
  aggregator: string;
  aggregator_connection_id: string;
  encryption_key_id: string | null;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a migration is typed by its own rows, not today's schema (Kysely's advice)
export async function up(db: Kysely<any>, context: MigrationContext): Promise<void> {
  const rows = (await db
    .selectFrom('connections')
    .select(['id', 'user_id', 'aggregator', 'aggregator_connection_id', 'encryption_key_id'])
    .orderBy('created_at')
    .orderBy('id')
    .execute()) as Row[];
  const pending = rows.filter((row) => normalized(row.aggregator) !== row.aggregator);
  if (pending.length === 0) return;
  const { keys, log } = context;
  if (!keys) {
    throw new Error(`${pending.length} connection(s) need their aggregator re-indexed, which needs the data encryption key: run this migration from the service or npm run rekey`);
  }
  for (const row of pending) {
    const aggregator = normalized(row.aggregator);
    if (aggregator === undefined) {
      log.warn({ event: 'aggregator_not_normalized', connection: row.id }, 'a stored aggregator is not a valid name; the row is left as it is');
      continue;
    }
    let lookupKey: string;
    try {
      lookupKey = keys.lookupKey(aggregator, keys.open(row.aggregator_connection_id, row.encryption_key_id));
    } catch {
      log.warn({ event: 'aggregator_not_normalized', connection: row.id, keyId: row.encryption_key_id }, 'a stored connection cannot be opened with the configured keys; the row is left as it is');
      continue;
    }
    const holder = await db.selectFrom('connections').select(['id', 'user_id']).where('lookup_key', '=', lookupKey).executeTakeFirst();
    if (holder && holder.id !== row.id) {
      log.warn(
        { security: true, event: 'aggregator_normalization_conflict', connection: row.id, conflictsWith: holder.id, sameUser: holder.user_id === row.user_id },
        'two stored connections are the same aggregator connection once the aggregator is normalized; both are kept, resolve by hand',
      );
      continue;
    }
    await db.updateTable('connections').set({ aggregator, lookup_key: lookupKey }).where('id', '=', row.id).execute();
  }
}

/** The original spellings are not kept: there is nothing to restore. */
export async function down(): Promise<void> {}
