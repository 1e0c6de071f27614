/**
 * Row claiming for the durable work tables (`outbox`, `jobs`): one implementation shared by the
 * outbox dispatcher and the job runner.
 *
 * A claim is a lease: `claimed_until = now + leaseMs`. The worker does its slow work (an HTTP
 * call) outside any transaction, then writes the outcome fenced on that same `claimed_until`
 * value, so a worker whose lease ran out cannot overwrite the row another worker re-claimed.
 * A process that dies mid-work simply lets the lease lapse; the row is claimable again after it.
 */
import { iso } from '../db/executor.js';
import type { DatabaseHandle } from '../db/database.js';
import type { JobRow, OutboxRow } from '../db/schema.js';

export type WorkTable = 'outbox' | 'jobs';

interface WorkRows {
  outbox: OutboxRow;
  jobs: JobRow;
}

/** The column saying when a pending row is next due. */
export const dueColumn = { outbox: 'next_attempt_at', jobs: 'run_at' } as const;

/**
 * Claims up to `limit` due rows (`status = 'pending'`, due, lease absent or lapsed), oldest first.
 * PostgreSQL: `FOR UPDATE SKIP LOCKED` in the claiming transaction, so concurrent processes
 * never claim the same row (each skips the rows another is claiming). SQLite has one writer,
 * so the same select-then-update transaction is already exclusive there.
 * Returned rows carry the new `claimed_until`: pass it to `leaseHeld` when writing the outcome.
 */
export async function claimDue<T extends WorkTable>(
  database: DatabaseHandle,
  table: T,
  options: { now: Date; leaseMs: number; limit: number },
): Promise<WorkRows[T][]> {
  const now = iso(options.now);
  const claimedUntil = iso(new Date(options.now.getTime() + options.leaseMs));
  // Both tables share the claim columns; typing the query against one of them keeps Kysely's
  // column checks without writing the query twice.
  const name = table as 'outbox';
  const due = dueColumn[table] as 'next_attempt_at';
  return database.db.transaction().execute(async (trx) => {
    let query = trx
      .selectFrom(name)
      .select('id')
      .where('status', '=', 'pending')
      .where(due, '<=', now)
      .where((eb) => eb.or([eb('claimed_until', 'is', null), eb('claimed_until', '<', now)]))
      .orderBy(due)
      .limit(options.limit);
    if (database.dialect === 'postgres') query = query.forUpdate().skipLocked();
    const ids = (await query.execute()).map((row) => row.id);
    if (ids.length === 0) return [];
    const rows = await trx.updateTable(name).set({ claimed_until: claimedUntil }).where('id', 'in', ids).returningAll().execute();
    return rows.sort((a, b) => (a[due] < b[due] ? -1 : a[due] > b[due] ? 1 : 0)) as unknown as WorkRows[T][];
  });
}
