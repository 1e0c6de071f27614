import type { Db } from '../db/executor.js';
import { fixedStatement } from '../db/prepared-statements.js';

const insertWebhookId = fixedStatement((db, row: { webhook_id: string; received_at: string }) =>
  db
    .insertInto('inbound_webhooks')
    .values(row)
    .onConflict((oc) => oc.column('webhook_id').doNothing()),
);

/** Remembers a Standard Webhooks `webhook-id`; false when it was already there (a redelivery). */
export async function rememberWebhookId(db: Db, webhookId: string, receivedAtIso: string): Promise<boolean> {
  const first = await insertWebhookId(db, { webhook_id: webhookId, received_at: receivedAtIso });
  return Number(first.numAffectedRows ?? 0n) > 0;
}

/** Forgets webhook ids received before the cutoff; returns how many. */
export async function pruneWebhookIds(db: Db, beforeIso: string): Promise<number> {
  const pruned = await db.deleteFrom('inbound_webhooks').where('received_at', '<', beforeIso).executeTakeFirst();
  return Number(pruned.numDeletedRows);
}
