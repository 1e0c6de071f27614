import type { Kysely } from 'kysely';
import type { ConnectionChange } from '../events/connection-change.js';
import type { EventService } from '../events/event.service.js';
import { iso } from '../db/executor.js';
import type { ConnectionRow, Database } from '../db/schema.js';
import { AppError } from '../http/errors.js';
import type { JobHandler } from '../jobs/job-runner.js';
import type { Logger } from '../logger.js';
import type { UcwClient } from '../ucw/index.js';
import { toConnection } from './connection.view.js';
import type { SecretBox } from './secret-box.js';

export interface VerificationDeps {
  db: Kysely<Database>;
  ucw: UcwClient;
  secretBox: SecretBox;
  ucwUserId: (platformUserId: string) => string;
  clock: () => Date;
  logger: Logger;
  events: EventService;
  publish: (sessionId: string) => Promise<void>;
}

/**
 * Server-side confirmation of a relayed connection (SPEC §7): a browser can forge
 * `memberConnected`, and the real one arrives before aggregation finishes. The connection is
 * `verified` and `dataReady` only once the UCW returns its accounts for this user and aggregator.
 */
export function verificationHandler(deps: VerificationDeps): JobHandler {
  const load = (id: string) => deps.db.selectFrom('connections').selectAll().where('id', '=', id).executeTakeFirst();
  /** The session that produced the connection, whose SSE stream wants to hear about it. */
  const sessionOf = async (connection: ConnectionRow) =>
    (
      await deps.db
        .selectFrom('connect_sessions')
        .select('id')
        .where('connection_id', '=', connection.id)
        .where('user_id', '=', connection.user_id)
        .orderBy('updated_at', 'desc')
        .executeTakeFirst()
    )?.id ?? null;

  /**
   * Applies `changes` and announces them, only while `still` holds for the row. Two runs of one job
   * can overlap (a run that outlives its lease); the row lock makes the second wait for the first to
   * commit, and its re-checked condition then fails, so nothing is announced twice.
   */
  async function commit(
    connection: ConnectionRow,
    changes: ConnectionRow,
    kinds: ConnectionChange['kind'][],
    sessionEvents: Array<{ type: string; data: unknown }>,
    still: 'unconfirmed' | 'unverified-and-not-failed',
  ) {
    const now = deps.clock();
    const sessionId = await sessionOf(connection);
    const applied = await deps.db.transaction().execute(async (trx) => {
      let update = trx
        .updateTable('connections')
        .set({ status: changes.status, verified: changes.verified, data_ready: changes.data_ready, verification_error: changes.verification_error, updated_at: iso(now) })
        .where('id', '=', connection.id)
        .where('status', '!=', 'deleted');
      update =
        still === 'unconfirmed'
          ? update.where((eb) => eb.or([eb('verified', '=', 0), eb('data_ready', '=', 0)]))
          : update.where('verified', '=', 0).where('verification_error', 'is', null);
      const result = await update.executeTakeFirst();
      if (Number(result.numUpdatedRows) === 0) return false;
      const row = { ...changes, updated_at: iso(now) };
      await deps.events.announce(
        trx,
        kinds.map((kind) => ({ kind, userId: connection.user_id, sessionId, connection: row })),
        sessionId ? sessionEvents.map((e) => ({ ...e, sessionId, userId: connection.user_id, data: { ...(e.data as object), connection: toConnection(row) } })) : [],
        now,
      );
      return true;
    });
    if (applied && sessionId) await deps.publish(sessionId).catch(() => undefined);
  }

  return {
    async run(job) {
      const connection = await load(job.subject_id);
      if (!connection || connection.status === 'deleted') return { done: true };
      // Already confirmed since its latest aggregation (a new one resets the flags): this is a rerun of
      // a job whose worker died after committing, before recording the job done. Announcing again would
      // send every platform webhook twice.
      if (connection.verified === 1 && connection.data_ready === 1) return { done: true };
      let accounts: unknown;
      try {
        accounts = await deps.ucw.getAccounts({
          aggregator: connection.aggregator,
          userId: deps.ucwUserId(connection.user_id),
          connectionId: deps.secretBox.open(connection.aggregator_connection_id, connection.encryption_key_id),
        });
      } catch (error) {
        // The UCW may not know the connection yet, or be briefly down: both are worth a retry.
        return { retry: true, reason: error instanceof AppError ? `${error.code}: ${error.message}` : 'UCW call failed' };
      }
      const list = (accounts as { accounts?: unknown }).accounts;
      if (!Array.isArray(list) || list.length === 0) return { retry: true, reason: 'the UCW returned no accounts yet' };
      await commit(connection, { ...connection, verified: 1, data_ready: 1, verification_error: null }, ['verified', 'data_ready'], [
        { type: 'verified', data: {} },
        { type: 'dataReady', data: {} },
      ], 'unconfirmed');
      deps.logger.info({ connection: connection.id }, 'connection verified: data is ready');
      return { done: true };
    },

    async onDeadline(job, lastReason) {
      const connection = await load(job.subject_id);
      if (!connection || connection.status === 'deleted' || connection.verified === 1) return;
      const reason = `not confirmed by the UCW: ${lastReason}`.slice(0, 500);
      await commit(connection, { ...connection, status: 'needs_attention', verification_error: reason }, ['needs_attention'], [
        { type: 'verificationFailed', data: { reason } },
      ], 'unverified-and-not-failed');
      deps.logger.warn({ connection: connection.id, reason }, 'connection could not be verified');
    },
  };
}
