import { sql, type Insertable } from 'kysely';
import type { Db } from '../db/executor.js';
import { PREPARED } from '../db/prepared-statements.js';
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
  /** The webhook id was remembered already: nothing was written. The session as it stands. */
  | { kind: 'redelivered'; session: ConnectSessionRow | undefined }
  /** This exact event was in the log already: nothing stays written. The session as it stands. */
  | { kind: 'duplicate'; session: ConnectSessionRow | undefined }
  /**
   * The session is missing or another user's (`session` undefined), or in a status the event
   * moves: nothing was written; apply the event in full (from `session` as read).
   */
  | { kind: 'not_quiet'; session: ConnectSessionRow | undefined };

/**
 * PostgreSQL: records a quiet event in ONE statement (one round trip, no BEGIN/COMMIT), where the
 * general path takes five: data-modifying CTEs read the session, remember the webhook id only
 * while the session is the user's and in a status the event leaves alone and the event is not in
 * the log yet, and append the log row only when the id was new. A redelivery or a duplicate
 * (the same event under another webhook id, e.g. once by relay and once by webhook) is answered
 * by the same statement too. The statement is atomic on its own. It reads `connect_sessions`
 * directly because a statement cannot call the sessions' service.
 *
 * One fixed text for every case (absent values are nulls), prepared once per connection: planning
 * these CTEs anew cost the server more than running them. Its result columns stay the same
 * whatever a migration adds to the tables (the session travels as JSON), as a prepared plan needs.
 */
export async function appendQuietEvent(db: Db, event: QuietEvent): Promise<QuietOutcome> {
  const { row, webhookId = null } = event;
  const sessionId = event.session?.id ?? null;
  const result = await sql<{ quiet: boolean; known: boolean; remembered: boolean; appended: boolean; session: ConnectSessionRow | null }>`${sql.raw(PREPARED)}
    with session as (
      select * from connect_sessions where id = ${sessionId} and user_id = ${event.session?.userId ?? null}
    ), quiet as (
      select 1 as one
      where ${sessionId}::text is null or exists (select 1 from session where status = any(${event.session?.unmovedStatuses ?? []}::text[]))
    ), known as (
      select 1 as one from connection_events where dedupe_key = ${row.dedupe_key}
    ), hook as (
      insert into inbound_webhooks (webhook_id, received_at)
      select ${webhookId}, ${event.receivedAt} from quiet
      where ${webhookId}::text is not null and not exists (select 1 from known)
      on conflict (webhook_id) do nothing
      returning webhook_id
    ), appended as (
      insert into connection_events (dedupe_key, user_id, session_id, connection_id, type, source, status_code, metadata, created_at)
      select ${row.dedupe_key}, ${row.user_id}, ${row.session_id ?? null}, null, ${row.type}, ${row.source}, ${row.status_code ?? null}, ${row.metadata}, ${row.created_at}
      from quiet
      -- With a webhook id, only once it is remembered: a redelivery appends nothing.
      where not exists (select 1 from known) and (${webhookId}::text is null or exists (select 1 from hook))
      on conflict (dedupe_key) do nothing
      returning seq
    )
    select
      exists (select 1 from quiet) as quiet,
      exists (select 1 from known) as known,
      exists (select 1 from hook) as remembered,
      exists (select 1 from appended) as appended,
      (select to_json(session) from session) as session`.execute(db);
  const outcome = result.rows[0]!;
  const session = outcome.session ?? undefined;

  if (!outcome.quiet) return { kind: 'not_quiet', session };
  if (outcome.known) return { kind: 'duplicate', session };
  if (webhookId !== null && !outcome.remembered) return { kind: 'redelivered', session };
  if (!outcome.appended) {
    // A delivery of this exact event raced this one and was recorded first: forget the id again,
    // as the general path's rollback would (a redelivery of it then finds the event: the same answer).
    if (webhookId !== null) await db.deleteFrom('inbound_webhooks').where('webhook_id', '=', webhookId).execute();
    return { kind: 'duplicate', session };
  }
  return { kind: 'appended', session };
}
