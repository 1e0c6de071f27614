import { SqliteAdapter, type Kysely } from 'kysely';
import type { Database } from './schema.js';

/** Rows one statement carries at most (its text varies with the count). */
export const MAX_BATCH = 32;

export interface BatchedWriteOptions<I, O> {
  /** Writes every item in one statement; the outcomes in item order. */
  write: (db: Kysely<Database>, items: I[]) => Promise<O[]>;
  /** Whether `item` may share a statement with `batch` (e.g. never two updates of one row). Default: always. */
  canJoin?: (item: I, batch: readonly I[]) => boolean;
}

interface Pending<I, O> {
  item: I;
  resolve: (outcome: O) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit for one hot write: while its statement is in flight, further calls queue, and the
 * next statement carries all of them (up to `MAX_BATCH`). On PostgreSQL each statement costs the
 * server a round trip, a transaction and a WAL flush whatever its row count, so under load the
 * per-row cost falls several-fold; with nothing in flight a call goes out at once, alone, so an
 * idle service waits no longer than before. A batch that one of its rows may have failed (a
 * constraint or data error) is retried row by row, so each call gets its own outcome (a failed
 * statement changed nothing); any other failure (no connection, pool timeout) is every call's.
 *
 * Only on the database itself, never in a transaction: a queued write must not outlive the
 * transaction it was meant for. One queue per database handle.
 */
export function batchedWrite<I, O>(options: BatchedWriteOptions<I, O>): (db: Kysely<Database>, item: I) => Promise<O> {
  const queues = new WeakMap<Kysely<Database>, (item: I) => Promise<O>>();
  return (db, item) => {
    let enqueue = queues.get(db);
    if (!enqueue) {
      // SQLite writes in this process, synchronously: there is no round trip to share, and a call
      // completes before the next request is even read, so every batch would hold one row.
      enqueue = db.getExecutor().adapter instanceof SqliteAdapter ? (one) => options.write(db, [one]).then((outcomes) => outcomes[0]!) : writeQueue(db, options);
      queues.set(db, enqueue);
    }
    return enqueue(item);
  };
}

function writeQueue<I, O>(db: Kysely<Database>, { write, canJoin }: BatchedWriteOptions<I, O>): (item: I) => Promise<O> {
  let queue: Array<Pending<I, O>> = [];
  let writing = false;

  const take = (): Array<Pending<I, O>> => {
    if (queue.length <= MAX_BATCH && !canJoin) {
      const batch = queue;
      queue = [];
      return batch;
    }
    const batch: Array<Pending<I, O>> = [];
    const items: I[] = [];
    const rest: Array<Pending<I, O>> = [];
    for (const pending of queue) {
      if (batch.length < MAX_BATCH && (items.length === 0 || !canJoin || canJoin(pending.item, items))) {
        batch.push(pending);
        items.push(pending.item);
      } else {
        rest.push(pending);
      }
    }
    queue = rest;
    return batch;
  };

  const settle = async (batch: Array<Pending<I, O>>): Promise<void> => {
    try {
      const outcomes = await write(
        db,
        batch.map((pending) => pending.item),
      );
      batch.forEach((pending, i) => pending.resolve(outcomes[i]!));
    } catch (error) {
      if (batch.length === 1 || !couldBeOneRows(error)) {
        for (const pending of batch) pending.reject(error);
        return;
      }
      await Promise.all(batch.map((pending) => settle([pending])));
    }
  };

  const pump = () => {
    if (writing || queue.length === 0) return;
    writing = true;
    void settle(take()).finally(() => {
      writing = false;
      pump();
    });
  };

  return (item) =>
    new Promise<O>((resolve, reject) => {
      queue.push({ item, resolve, reject });
      pump();
    });
}

/** PostgreSQL SQLSTATE classes 22 (data exception) and 23 (integrity constraint); SQLite's constraint and type errors. */
function couldBeOneRows(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (/^2[23][0-9A-Z]{3}$/.test(code) || /^SQLITE_(CONSTRAINT|MISMATCH|TOOBIG|RANGE)/.test(code));
}
