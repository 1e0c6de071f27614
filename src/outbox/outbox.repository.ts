/**
 * The outbox table: platform webhooks waiting for delivery. Rows are written in the caller's
 * transaction, so a state change and its notification commit (or roll back) together.
 */
import type { Db } from '../db/executor.js';
import { iso } from '../db/executor.js';
import { newId } from '../ids.js';
import { unclaimed } from '../jobs/lease.js';

export interface OutboxMessage {
  /** e.g. `connection.verified`. */
  type: string;
  data: unknown;
}

/**
 * Queues one message and returns its id (`msg_…`), which is the `webhook-id` of every delivery
 * attempt, so the receiver can deduplicate retries. The stored payload is the exact body sent:
 * `{ type, timestamp, data }` per Standard Webhooks, serialised once so every attempt signs the same bytes.
 */
export async function enqueueOutbox(db: Db, message: OutboxMessage, now: Date): Promise<string> {
  const id = newId('msg');
  const payload = JSON.stringify({ type: message.type, timestamp: iso(now), data: message.data });
  await db
    .insertInto('outbox')
    .values({
      id,
      type: message.type,
      payload,
      next_attempt_at: iso(now),
      ...unclaimed(now),
    })
    .execute();
  return id;
}

export async function countDeadOutbox(db: Db): Promise<number> {
  const row = await db.selectFrom('outbox').select((eb) => eb.fn.countAll<number>().as('count')).where('status', '=', 'dead').executeTakeFirstOrThrow();
  return Number(row.count);
}
