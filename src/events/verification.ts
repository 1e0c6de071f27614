import type { Kysely } from 'kysely';
import type { ConnectionService } from '../connections/connection.service.js';
import { toConnection } from '../connections/connection.view.js';
import type { ConnectSessionService } from '../connect-sessions/connect-session.service.js';
import { iso } from '../db/executor.js';
import type { ConnectionRow, Database } from '../db/schema.js';
import { AppError } from '../http/errors.js';
import type { JobHandler } from '../jobs/job-runner.js';
import type { Logger } from '../logger.js';
import type { UcwClient } from '../ucw/index.js';
import type { EventService } from './event.service.js';
import { verificationFailed, verificationSucceeded, type VerificationTransition } from './state-machine.js';

export interface VerificationDeps {
  db: Kysely<Database>;
  connections: ConnectionService;
  sessions: ConnectSessionService;
  ucw: UcwClient;
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
  const { db } = deps;
  const load = (id: string) => deps.connections.findConnection(db, id);

  /**
   * Applies the transition and announces it, only while its `still` condition holds for the row.
   * Two runs of one job can overlap (a run that outlives its lease); the row lock makes the second
   * wait for the first to commit, and its re-checked condition then fails, so nothing is announced twice.
   */
  async function commit(connection: ConnectionRow, transition: VerificationTransition) {
    const now = deps.clock();
    // The session that produced the connection, whose SSE stream wants to hear about it.
    const sessionId = await deps.sessions.findLatestSessionIdOfConnection(db, connection);
    const applied = await db.transaction().execute(async (trx) => {
      const { status, verified, data_ready, verification_error } = transition.next;
      const written = await deps.connections.updateConnectionVerification(
        trx,
        connection.id,
        { status, verified, data_ready, verification_error, updated_at: iso(now) },
        transition.still,
      );
      if (!written) return false;
      const row: ConnectionRow = { ...connection, ...transition.next, updated_at: iso(now) };
      await deps.events.announce(
        trx,
        transition.changes.map((kind) => ({ kind, userId: connection.user_id, sessionId, connection: row })),
        sessionId
          ? transition.sessionEvents.map(({ type, ...data }) => ({ type, sessionId, userId: connection.user_id, data: { ...data, connection: toConnection(row) } }))
          : [],
        now,
      );
      return true;
    });
    if (applied && sessionId) await deps.publish(sessionId).catch(() => undefined);
  }

  return {
    async run(job) {
      const connection = await load(job.subject_id);
      // Gone, deleted, or already confirmed since its latest aggregation: this is a rerun of a job whose
      // worker died after committing, before recording the job done. Announcing again would send every
      // platform webhook twice.
      const transition = connection && verificationSucceeded(connection);
      if (!connection || !transition) return { done: true };
      let accounts: unknown;
      try {
        accounts = await deps.ucw.getAccounts(deps.connections.ucwRef(connection));
      } catch (error) {
        // The UCW may not know the connection yet, or be briefly down: both are worth a retry.
        return { retry: true, reason: error instanceof AppError ? `${error.code}: ${error.message}` : 'UCW call failed' };
      }
      const list = (accounts as { accounts?: unknown }).accounts;
      if (!Array.isArray(list) || list.length === 0) return { retry: true, reason: 'the UCW returned no accounts yet' };
      await commit(connection, transition);
      deps.logger.info({ connection: connection.id }, 'connection verified: data is ready');
      return { done: true };
    },

    async onDeadline(job, lastReason) {
      const connection = await load(job.subject_id);
      const transition = connection && verificationFailed(connection, lastReason);
      if (!connection || !transition) return;
      await commit(connection, transition);
      deps.logger.warn({ connection: connection.id, reason: transition.next.verification_error }, 'connection could not be verified');
    },
  };
}
