import type { ConnectionRow, ConnectionUpdate, NewConnection } from '../db/schema.js';
import type { Db } from '../db/executor.js';
import { columnsOf, fixedStatement } from '../db/prepared-statements.js';

const COLUMNS = columnsOf<ConnectionRow>({
  id: true,
  user_id: true,
  aggregator: true,
  aggregator_connection_id: true,
  aggregator_user_id: true,
  encryption_key_id: true,
  lookup_key: true,
  institution_id: true,
  job_types: true,
  status: true,
  status_code: true,
  verified: true,
  data_ready: true,
  verification_error: true,
  duplicate_of: true,
  created_at: true,
  updated_at: true,
  last_connected_at: true,
});

const selectOwned = fixedStatement((db, p: { id: string; userId: string }) =>
  db.selectFrom('connections').select(COLUMNS).where('id', '=', p.id).where('user_id', '=', p.userId),
);

/** Every read is scoped by user: there is no way to fetch another user's connection by id. */
export function findOwnedConnection(db: Db, userId: string, id: string): Promise<ConnectionRow | undefined> {
  return selectOwned(db, { id, userId }).then((result) => result.rows[0]);
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

const selectByLookupKeys = fixedStatement((db, p: { lookupKeys: readonly string[] }) =>
  db.selectFrom('connections').select(COLUMNS).where('lookup_key', 'in', p.lookupKeys).orderBy('created_at').orderBy('id').limit(1),
);

/** The row holding any of `lookupKeys` (the blind index under each key of the ring; see SecretBox.lookupKeys). */
export function findConnectionByLookupKey(db: Db, lookupKeys: readonly string[]): Promise<ConnectionRow | undefined> {
  return selectByLookupKeys(db, { lookupKeys }).then((result) => result.rows[0]);
}

const selectLiveAt = fixedStatement((db, p: { userId: string; institutionId: string; aggregator: string | undefined; excludeId: string | undefined }) => {
  let query = db
    .selectFrom('connections')
    .select(COLUMNS)
    .where('user_id', '=', p.userId)
    .where('institution_id', '=', p.institutionId)
    .where('status', 'not in', ['deleted', 'disconnected'])
    .where('duplicate_of', 'is', null);
  if (p.aggregator !== undefined) query = query.where('aggregator', '=', p.aggregator);
  if (p.excludeId !== undefined) query = query.where('id', '!=', p.excludeId);
  return query.orderBy('created_at').orderBy('id').limit(1);
});

/** The user's other live connection at the same aggregator and institution, if any (duplicate detection). */
export function findLiveConnectionAt(
  db: Db,
  userId: string,
  where: { aggregator?: string; institutionId: string; excludeId?: string },
): Promise<ConnectionRow | undefined> {
  // An empty aggregator or id narrows nothing, as before.
  const params = { userId, institutionId: where.institutionId, aggregator: where.aggregator || undefined, excludeId: where.excludeId || undefined };
  return selectLiveAt(db, params).then((result) => result.rows[0]);
}

const insertUnlessTaken = fixedStatement((db, row: NewConnection) =>
  db
    .insertInto('connections')
    .values(row)
    .onConflict((oc) => oc.column('lookup_key').doNothing()),
);

/**
 * Inserts unless another row already holds the lookup key (false then). On PostgreSQL a
 * concurrent uncommitted insert of the same key makes this wait for that transaction, so a
 * re-read afterwards sees the winner instead of the loser failing on the unique index.
 */
export async function insertConnectionUnlessTaken(db: Db, row: NewConnection): Promise<boolean> {
  const result = await insertUnlessTaken(db, row);
  return Number(result.numAffectedRows ?? 0n) > 0;
}

export async function updateConnection(db: Db, id: string, changes: ConnectionUpdate): Promise<void> {
  await db.updateTable('connections').set(changes).where('id', '=', id).execute();
}

/** By id alone: only for background work (the verification job), never for a request. */
export function findConnection(db: Db, id: string): Promise<ConnectionRow | undefined> {
  return db.selectFrom('connections').selectAll().where('id', '=', id).executeTakeFirst();
}

/**
 * Writes a verification outcome only while the row still is what the job expects: not deleted,
 * and `unconfirmed` (not yet verified with data ready) or `unverified-and-not-failed`. False when
 * another run got there first.
 */
export async function updateConnectionVerification(
  db: Db,
  id: string,
  changes: Pick<ConnectionUpdate, 'status' | 'verified' | 'data_ready' | 'verification_error' | 'updated_at'>,
  still: 'unconfirmed' | 'unverified-and-not-failed',
): Promise<boolean> {
  let update = db.updateTable('connections').set(changes).where('id', '=', id).where('status', '!=', 'deleted');
  update =
    still === 'unconfirmed'
      ? update.where((eb) => eb.or([eb('verified', '=', 0), eb('data_ready', '=', 0)]))
      : update.where('verified', '=', 0).where('verification_error', 'is', null);
  const result = await update.executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** The columns a re-key reads and rewrites. */
export type RekeyRow = { id: string; aggregator: string; aggregator_connection_id: string; aggregator_user_id: string | null; encryption_key_id: string | null; lookup_key: string };

const REKEY_COLUMNS = ['id', 'aggregator', 'aggregator_connection_id', 'aggregator_user_id', 'encryption_key_id', 'lookup_key'] as const;

/** Up to `limit` rows after `afterId`, in id order (a resumable walk). */
export async function listRekeyRows(db: Db, afterId: string, limit: number): Promise<RekeyRow[]> {
  return await db.selectFrom('connections').select(REKEY_COLUMNS).where('id', '>', afterId).orderBy('id').limit(limit).execute();
}

export async function findRekeyRow(db: Db, id: string): Promise<RekeyRow | undefined> {
  return await db.selectFrom('connections').select(REKEY_COLUMNS).where('id', '=', id).executeTakeFirst();
}

/** Another row already holding `lookupKey`, if any. */
export function findLookupKeyHolder(db: Db, lookupKey: string, exceptId: string): Promise<{ id: string } | undefined> {
  return db.selectFrom('connections').select('id').where('lookup_key', '=', lookupKey).where('id', '!=', exceptId).executeTakeFirst();
}

/** Replaces the sealed columns only while the row still holds what it was read with (compare-and-set). */
export async function resealConnection(
  db: Db,
  read: RekeyRow,
  sealed: Pick<RekeyRow, 'aggregator_connection_id' | 'aggregator_user_id' | 'encryption_key_id' | 'lookup_key'>,
): Promise<boolean> {
  const result = await db
    .updateTable('connections')
    .set(sealed)
    .where('id', '=', read.id)
    .where('encryption_key_id', read.encryption_key_id === null ? 'is' : '=', read.encryption_key_id)
    .where('lookup_key', '=', read.lookup_key)
    .where('aggregator_user_id', read.aggregator_user_id === null ? 'is' : '=', read.aggregator_user_id)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}
