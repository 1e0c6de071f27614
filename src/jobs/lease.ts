/**
 * The lease protocol of the durable work tables (`outbox`, `jobs`), in one place for the outbox
 * dispatcher and the job runner: claim, heartbeat, record outcome.
 *
 * A claim is a lease: `claimed_until = now + leaseMs`, and that value is the worker's fencing
 * token. The worker does its slow work (an HTTP call) outside any transaction, may extend the
 * lease while it works (heartbeat), then writes the outcome fenced on the token it holds, so a
 * worker whose lease ran out cannot overwrite the row another worker re-claimed. A process that
 * dies mid-work simply lets the lease lapse; the row is claimable again after it.
 */
import { iso, type Db } from '../db/executor.js';
import type { DatabaseHandle } from '../db/database.js';
import type { JobRow, OutboxRow } from '../db/schema.js';

export type WorkTable = 'outbox' | 'jobs';

interface WorkRows {
  outbox: OutboxRow;
  jobs: JobRow;
}

/** The column saying when a pending row is next due. */
export const dueColumn = { outbox: 'next_attempt_at', jobs: 'run_at' } as const;

/** A claimed row as far as the protocol cares: which row, and the fencing token. */
export interface Lease {
  id: string;
  claimed_until: string | null;
}

interface FinalStatus {
  outbox: { succeeded: 'delivered'; gaveUp: 'dead' };
  jobs: { succeeded: 'done'; gaveUp: 'failed' };
}

/** What one attempt writes: finished, given up (with the reason), or pending again at `retryAt`. */
export type LeaseOutcome<T extends WorkTable> =
  | { status: FinalStatus[T]['succeeded']; attempts: number }
  | { status: FinalStatus[T]['gaveUp']; attempts: number; lastError: string }
  | { status: 'pending'; attempts: number; retryAt: Date; lastError: string };

/** The lease columns of a row being enqueued: pending, never attempted, not claimed. Add the due column. */
export function unclaimed(now: Date) {
  return { status: 'pending', attempts: 0, claimed_until: null, last_error: null, created_at: iso(now), updated_at: iso(now) } as const;
}

// Both tables share the lease columns; typing the queries against one of them keeps Kysely's
// column checks without writing each query twice.
const asOne = (table: WorkTable) => table as 'outbox';

/**
 * Claims up to `limit` due rows (`status = 'pending'`, due, lease absent or lapsed), oldest first.
 * PostgreSQL: `FOR UPDATE SKIP LOCKED` in the claiming transaction, so concurrent processes
 * never claim the same row (each skips the rows another is claiming). SQLite has one writer,
 * so the same select-then-update transaction is already exclusive there.
 * Returned rows carry the new `claimed_until`: they are the leases to renew and record with.
 */
export async function claimDue<T extends WorkTable>(
  database: DatabaseHandle,
  table: T,
  options: { now: Date; leaseMs: number; limit: number },
): Promise<WorkRows[T][]> {
  const now = iso(options.now);
  const claimedUntil = iso(new Date(options.now.getTime() + options.leaseMs));
  const name = asOne(table);
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

/**
 * Heartbeat: extends a lease this worker still holds to `now + leaseMs`. Returns the renewed
 * lease (its new token is what the outcome must be fenced on), or undefined when the lease was
 * lost: it lapsed and another worker claimed the row, or the row is no longer pending.
 */
export async function renewLease(db: Db, table: WorkTable, lease: Lease, options: { now: Date; leaseMs: number }): Promise<Lease | undefined> {
  if (lease.claimed_until === null) return undefined;
  const claimedUntil = iso(new Date(options.now.getTime() + options.leaseMs));
  const result = await db
    .updateTable(asOne(table))
    .set({ claimed_until: claimedUntil })
    .where('id', '=', lease.id)
    .where('status', '=', 'pending')
    .where('claimed_until', '=', lease.claimed_until)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1 ? { id: lease.id, claimed_until: claimedUntil } : undefined;
}

/**
 * Writes an attempt's outcome and releases the lease, fenced on the token in `lease`.
 * Returns false when the lease was lost (another worker re-claimed the row after it lapsed):
 * nothing is written then, so a stale worker never overwrites the current owner's work.
 */
export async function recordOutcome<T extends WorkTable>(db: Db, table: T, lease: Lease, outcome: LeaseOutcome<T>, now: Date): Promise<boolean> {
  if (lease.claimed_until === null) return false;
  const result = await db
    .updateTable(asOne(table))
    .set({
      status: outcome.status as OutboxRow['status'],
      attempts: outcome.attempts,
      claimed_until: null,
      updated_at: iso(now),
      last_error: 'lastError' in outcome ? outcome.lastError : null,
      ...('retryAt' in outcome ? { [dueColumn[table]]: iso(outcome.retryAt) } : {}),
    })
    .where('id', '=', lease.id)
    .where('status', '=', 'pending')
    .where('claimed_until', '=', lease.claimed_until)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export interface HeldLease {
  /** Stops the heartbeat and resolves with the lease as last renewed: record the outcome with it. */
  release(): Promise<Lease>;
}

/**
 * Renews `lease` every `leaseMs / 3` until released, so work longer than one lease keeps its row.
 * A failed renewal (database unavailable) is reported and retried at the next beat; a lost lease
 * stops the heartbeat, and the outcome write then finds the fence moved and writes nothing.
 */
export function holdLease(
  database: DatabaseHandle,
  table: WorkTable,
  lease: Lease,
  options: { leaseMs: number; clock: () => Date; onError: (error: unknown) => void },
): HeldLease {
  let current = lease;
  let renewing: Promise<void> | undefined;
  const beat = () => {
    if (renewing) return;
    renewing = renewLease(database.db, table, current, { now: options.clock(), leaseMs: options.leaseMs })
      .then((renewed) => {
        if (renewed) current = renewed;
        else clearInterval(timer);
      }, options.onError)
      .finally(() => {
        renewing = undefined;
      });
  };
  const timer = setInterval(beat, Math.max(1, Math.floor(options.leaseMs / 3)));
  // Work in progress keeps the process alive, not its heartbeat.
  timer.unref();
  return {
    async release() {
      clearInterval(timer);
      // A renewal in flight moves the fence: wait for it so the outcome is fenced on the newest token.
      await renewing;
      return current;
    },
  };
}
