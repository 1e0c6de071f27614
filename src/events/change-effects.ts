import { toConnection } from '../connections/connection.view.js';
import { enqueueOutbox } from '../outbox/outbox.repository.js';
import { enqueueJob } from '../jobs/job.repository.js';
import type { ConnectionChangeHook } from '../connections/connection-change.js';
import type { SessionEndingHook } from './session-ending.js';

/** How long the BFF keeps trying to read a new connection's accounts before giving up. */
export const VERIFICATION_DEADLINE_MS = 15 * 60_000;

/**
 * What follows a connection change, written in the same transaction as the change:
 * the platform webhook (outbox) and, for a fresh aggregation, the server-side verification job.
 */
export function connectionChangeEffects(options: { platformWebhook: boolean; verification: boolean; clock: () => Date }): ConnectionChangeHook {
  return async (trx, change) => {
    const now = options.clock();
    if (options.platformWebhook) {
      await enqueueOutbox(
        trx,
        {
          type: `connection.${change.kind}`,
          data: {
            userId: change.userId,
            ...(change.sessionId ? { sessionId: change.sessionId } : {}),
            connection: toConnection(change.connection),
          },
        },
        now,
      );
    }
    if (options.verification && (change.kind === 'connected' || change.kind === 'refreshed')) {
      await enqueueJob(
        trx,
        { kind: 'verify_connection', subjectId: change.connection.id, runAt: now, deadlineAt: new Date(now.getTime() + VERIFICATION_DEADLINE_MS) },
        now,
      );
    }
  };
}

/**
 * A session that ends without connecting (cancelled, failed, expired) is a state change too: the
 * platform webhook hears it from the same outbox, in the same transaction as the ending.
 */
export function sessionEndingEffects(options: { platformWebhook: boolean; clock: () => Date }): SessionEndingHook {
  return async (trx, ending) => {
    if (!options.platformWebhook) return;
    await enqueueOutbox(
      trx,
      {
        type: `session.${ending.kind}`,
        data: {
          userId: ending.userId,
          sessionId: ending.sessionId,
          status: ending.kind,
          lastError: ending.lastError,
          connection: ending.connection ? toConnection(ending.connection) : null,
        },
      },
      options.clock(),
    );
  };
}
