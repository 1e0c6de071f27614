import { sql, type Insertable } from 'kysely';
import { jsonObjectFrom } from 'kysely/helpers/postgres';
import type { Db } from '../db/executor.js';
import type { ConnectionEventTable, ConnectSessionRow } from '../db/schema.js';

/** An event that names no connection, with what decides whether appending it is all it does. */
export interface QuietEvent {
  /** Its log row (no connection). */
  row: Insertable<ConnectionEventTable> & { connection_id: null };
  /** Standard Webhooks `webhook-id`, remembered with it: one already remembered is a redelivery. */
  webhookId: string | undefined;
  receivedAt: string;
  /** The session it is for, which must be `userId`'s, and the statuses in which the event leaves it as it is. */
  session: { id: string; userId: string; unmovedStatuses: readonly string[] } | undefined;
}

export type QuietOutcome =
  /** Appended; the session (if any) as it stands, unchanged by the event. */
  | { kind: 'appended'; session: ConnectSessionRow | undefined }
  /** The webhook id was remembered already: nothing was written. */
  | { kind: 'redelivered' }
  /** This exact event was in the log already: nothing stays written. */
  | { kind: 'duplicate' }
  /**
   * The session is missing or another user's (`session` undefined), or in a status the event
   * moves: nothing was written; apply the event in full (from `session` as read).
   */
  | { kind: 'not_quiet'; session: ConnectSessionRow | undefined };

/**
 * PostgreSQL: records a quiet event in ONE statement (one round trip, no BEGIN/COMMIT), where the
 * general path takes five: data-modifying CTEs read the session, remember the webhook id only
 * while the session is the user's and in a status the event leaves alone, and append the log row
 * only when the id was new. The statement is atomic on its own. It reads `connect_sessions`
 * directly because a statement cannot call the sessions' service.
 */
export async function appendQuietEvent(db: Db, event: QuietEvent): Promise<QuietOutcome> {
  const { session, webhookId } = event;
  const result = await db
    .with('session', (qb) => {
      const rows = qb.selectFrom('connect_sessions').selectAll();
      return session ? rows.where('id', '=', session.id).where('user_id', '=', session.userId) : rows.where(sql<boolean>`false`);
    })
    .with('quiet', (qb) =>
      session
        ? qb.selectFrom('session').select(sql<number>`1`.as('one')).where('status', 'in', session.unmovedStatuses as ConnectSessionRow['status'][])
        : qb.selectFrom(sql<{ one: number }>`(select 1 as one)`.as('one')).select('one'),
    )
    .with('hook', (qb) =>
      qb
        .insertInto('inbound_webhooks')
        .columns(['webhook_id', 'received_at'])
        // Without a webhook id there is nothing to remember: the CTE inserts no row.
        .expression((eb) => eb.selectFrom('quiet').select([eb.val(webhookId ?? '').as('webhook_id'), eb.val(event.receivedAt).as('received_at')]).where(sql.lit(webhookId !== undefined)))
        .onConflict((oc) => oc.column('webhook_id').doNothing())
        .returning('webhook_id'),
    )
    .with('appended', (qb) =>
      qb
        .insertInto('connection_events')
        .columns(['dedupe_key', 'user_id', 'session_id', 'connection_id', 'type', 'source', 'status_code', 'metadata', 'created_at'])
        .expression((eb) => {
          const { row } = event;
          const values = [
            eb.val(row.dedupe_key).as('dedupe_key'),
            eb.val(row.user_id).as('user_id'),
            eb.val(row.session_id ?? null).as('session_id'),
            eb.val(null).as('connection_id'),
            eb.val(row.type).as('type'),
            eb.val(row.source).as('source'),
            eb.val(row.status_code ?? null).as('status_code'),
            eb.val(row.metadata).as('metadata'),
            eb.val(row.created_at).as('created_at'),
          ];
          // With a webhook id, only after remembering it (a redelivery appends nothing).
          return webhookId === undefined ? eb.selectFrom('quiet').select(values) : eb.selectFrom('hook').select(values);
        })
        .onConflict((oc) => oc.column('dedupe_key').doNothing())
        .returning('seq'),
    )
    .selectNoFrom((eb) => [
      eb.exists(eb.selectFrom('quiet').select('one')).as('quiet'),
      eb.exists(eb.selectFrom('hook').select('webhook_id')).as('remembered'),
      eb.exists(eb.selectFrom('appended').select('seq')).as('appended'),
      jsonObjectFrom(eb.selectFrom('session').selectAll()).as('session'),
    ])
    .executeTakeFirstOrThrow();

  if (!result.quiet) return { kind: 'not_quiet', session: result.session ?? undefined };
  if (webhookId !== undefined && !result.remembered) return { kind: 'redelivered' };
  if (!result.appended) {
    // Another delivery recorded this exact event first: forget the id again, as the general
    // path's rollback would (a redelivery of it then finds the event, not the id: the same answer).
    if (webhookId !== undefined) await db.deleteFrom('inbound_webhooks').where('webhook_id', '=', webhookId).execute();
    return { kind: 'duplicate' };
  }
  return { kind: 'appended', session: result.session ?? undefined };
}
