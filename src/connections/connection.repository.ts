import type { ConnectionRow, ConnectionUpdate, NewConnection } from '../db/schema.js';
import type { Db } from '../db/executor.js';

/** Every read is scoped by user: there is no way to fetch another user's connection by id. */
export function findOwnedConnection(db: Db, userId: string, id: string): Promise<ConnectionRow | undefined> {
  return db.selectFrom('connections').selectAll().where('id', '=', id).where('user_id', '=', userId).executeTakeFirst();
}

export function listOwnedConnections(db: Db, userId: string): Promise<ConnectionRow[]> {
  return db
    .selectFrom('connections')
    .selectAll()
    .where('user_id', '=', userId)
    .where('status', '!=', 'deleted')
    .orderBy('created_at', 'desc')
    .orderBy('id')
    .execute();
}

/** The row holding any of `lookupKeys` (the blind index under each key of the ring; see SecretBox.lookupKeys). */
export function findConnectionByLookupKey(db: Db, lookupKeys: readonly string[]): Promise<ConnectionRow | undefined> {
  return db.selectFrom('connections').selectAll().where('lookup_key', 'in', lookupKeys).orderBy('created_at').orderBy('id').executeTakeFirst();
}

/** The user's other live connection at the same aggregator and institution, if any (duplicate detection). */
export function findLiveConnectionAt(
  db: Db,
  userId: string,
  where: { aggregator?: string; institutionId: string; excludeId?: string },
): Promise<ConnectionRow | undefined> {
  let query = db
    .selectFrom('connections')
    .selectAll()
    .where('user_id', '=', userId)
    .where('institution_id', '=', where.institutionId)
    .where('status', 'not in', ['deleted', 'disconnected'])
    .where('duplicate_of', 'is', null);
  if (where.aggregator) query = query.where('aggregator', '=', where.aggregator);
  if (where.excludeId) query = query.where('id', '!=', where.excludeId);
  return query.orderBy('created_at').orderBy('id').limit(1).executeTakeFirst();
}

/**
 * Inserts unless another row already holds the lookup key (false then). On PostgreSQL a
 * concurrent uncommitted insert of the same key makes this wait for that transaction, so a
 * re-read afterwards sees the winner instead of the loser failing on the unique index.
 */
export async function insertConnectionUnlessTaken(db: Db, row: NewConnection): Promise<boolean> {
  const result = await db
    .insertInto('connections')
    .values(row)
    .onConflict((oc) => oc.column('lookup_key').doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0n) > 0;
}

export async function updateConnection(db: Db, id: string, changes: ConnectionUpdate): Promise<void> {
  await db.updateTable('connections').set(changes).where('id', '=', id).execute();
}
