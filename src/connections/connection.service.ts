import type { Kysely } from 'kysely';
import type { Database, ConnectionRow } from '../db/schema.js';
import { iso } from '../db/executor.js';
import { AppError } from '../http/errors.js';
import { looksLikeId } from '../ids.js';
import type { Logger } from '../logger.js';
import type { ConnectionRef, TransactionsQuery, UcwClient } from '../ucw/index.js';
import type { ConnectionChangeHook } from './connection-change.js';
import {
  findConnection,
  findConnectionByLookupKey,
  findLiveConnectionAt,
  findOwnedConnection,
  insertConnectionUnlessTaken,
  listOwnedConnections,
  updateConnection,
  updateConnectionVerification,
} from './connection.repository.js';
import { toConnection, type Connection } from './connection.view.js';
import type { SecretBox } from './secret-box.js';

export interface ConnectionServiceDeps {
  db: Kysely<Database>;
  ucw: UcwClient;
  secretBox: SecretBox;
  ucwUserId: (platformUserId: string) => string;
  clock: () => Date;
  logger: Logger;
  /** Runs inside the transaction of a change this service makes (a delete). */
  onChange: ConnectionChangeHook;
  /** UCW_DELETE_ENABLED: a delete also removes the connection at the UCW. */
  deleteEnabled: boolean;
}

export type ConnectionService = ReturnType<typeof createConnectionService>;

/**
 * The connections API's use cases, and the connection queries other features need (they take the
 * caller's transaction first, like the repository underneath, so a change commits with theirs).
 */
export function createConnectionService(deps: ConnectionServiceDeps) {
  /** The user's own connection or a 404 that says nothing about anyone else's. */
  async function owned(userId: string, id: string, options: { allowDeleted: boolean }): Promise<ConnectionRow> {
    const row = looksLikeId('conn', id) ? await findOwnedConnection(deps.db, userId, id) : undefined;
    if (!row || (!options.allowDeleted && row.status === 'deleted')) throw new AppError('not_found', 'No such connection.');
    return row;
  }

  /** How the UCW names one of the user's connections (the aggregator's id, opened). */
  const ucwRef = (row: ConnectionRow): ConnectionRef => ({
    aggregator: row.aggregator,
    userId: deps.ucwUserId(row.user_id),
    connectionId: deps.secretBox.open(row.aggregator_connection_id, row.encryption_key_id),
  });

  return {
    async list(userId: string): Promise<Connection[]> {
      return (await listOwnedConnections(deps.db, userId)).map(toConnection);
    },

    /** `GET /connections/:id`: a deleted connection is still shown (with status `deleted`). */
    async get(userId: string, id: string): Promise<Connection> {
      return toConnection(await owned(userId, id, { allowDeleted: true }));
    },

    /** Marks the connection deleted (after removing it at the UCW when enabled) and announces it. */
    async delete(userId: string, id: string): Promise<void> {
      const row = await owned(userId, id, { allowDeleted: false });
      if (deps.deleteEnabled) {
        try {
          await deps.ucw.deleteConnection(ucwRef(row));
        } catch (error) {
          // Already gone at the UCW is the outcome we wanted.
          if (!(error instanceof AppError && error.code === 'not_found')) throw error;
        }
      }
      const now = iso(deps.clock());
      await deps.db.transaction().execute(async (trx) => {
        await updateConnection(trx, row.id, { status: 'deleted', updated_at: now, data_ready: 0 });
        await deps.onChange(trx, { kind: 'deleted', userId, sessionId: null, connection: { ...row, status: 'deleted', updated_at: now, data_ready: 0 } });
      });
      deps.logger.info({ connection: row.id, ucwDeleted: deps.deleteEnabled }, 'connection deleted');
    },

    async accounts(userId: string, id: string): Promise<unknown> {
      return deps.ucw.getAccounts(ucwRef(await owned(userId, id, { allowDeleted: false })));
    },

    async identity(userId: string, id: string): Promise<unknown> {
      return deps.ucw.getIdentity(ucwRef(await owned(userId, id, { allowDeleted: false })));
    },

    async transactions(userId: string, id: string, query: TransactionsQuery): Promise<unknown> {
      return deps.ucw.getTransactions(ucwRef(await owned(userId, id, { allowDeleted: false })), query);
    },

    ucwRef,

    // For other features' use cases: the repository's queries, taking the caller's database or transaction first.
    findOwnedConnection,
    findConnection,
    findConnectionByLookupKey,
    findLiveConnectionAt,
    insertConnectionUnlessTaken,
    updateConnection,
    updateConnectionVerification,
  };
}
