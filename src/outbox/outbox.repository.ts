/**
 * The outbox table: platform webhooks waiting for delivery. Rows are written in the caller's
 * transaction, so a state change and its notification commit (or roll back) together.
 */
import type { Db } from '../db/executor.js';
import { iso } from '../db/executor.js';
import type { OutboxRow } from '../db/schema.js';
import { newId } from '../ids.js';

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
      status: 'pending',
      attempts: 0,
      next_attempt_at: iso(now),
      claimed_until: null,
      last_error: null,
      created_at: iso(now),
      updated_at: iso(now),
    })
    .execute();
  return id;
}

export type DeliveryResult =
  | { status: 'delivered'; attempts: number }
  | { status: 'pending'; attempts: number; nextAttemptAt: Date; lastError: string }
  | { status: 'dead'; attempts: number; lastError: string };

/**
 * Writes an attempt's outcome and releases the claim, fenced on the lease this worker holds.
 * Returns false when the lease was lost (another worker re-claimed the row after it lapsed).
 */
export async function recordDelivery(db: Db, row: OutboxRow, result: DeliveryResult, now: Date): Promise<boolean> {
  const outcome = await db
    .updateTable('outbox')
    .set({
      status: result.status,
      attempts: result.attempts,
      claimed_until: null,
      updated_at: iso(now),
      ...(result.status === 'pending' ? { next_attempt_at: iso(result.nextAttemptAt) } : {}),
      ...(result.status === 'delivered' ? { last_error: null } : { last_error: result.lastError }),
    })
    .where('id', '=', row.id)
    .where('status', '=', 'pending')
    .where('claimed_until', '=', row.claimed_until)
    .executeTakeFirst();
  return Number(outcome.numUpdatedRows) === 1;
}

export async function countDeadOutbox(db: Db): Promise<number> {
  const row = await db.selectFrom('outbox').select((eb) => eb.fn.countAll<number>().as('count')).where('status', '=', 'dead').executeTakeFirstOrThrow();
  return Number(row.count);
}
