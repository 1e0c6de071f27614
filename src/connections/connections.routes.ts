import { Router, type RequestHandler } from 'express';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import type { Database, ConnectionRow } from '../db/schema.js';
import { iso } from '../db/executor.js';
import type { ConnectionChangeHook } from '../events/connection-change.js';
import { AppError } from '../http/errors.js';
import { parseOr400 } from '../http/validate.js';
import { looksLikeId } from '../ids.js';
import type { Logger } from '../logger.js';
import type { ConnectionRef, UcwClient } from '../ucw/index.js';
import { findOwnedConnection, listOwnedConnections, updateConnection } from './connection.repository.js';
import { toConnection } from './connection.view.js';
import type { SecretBox } from './secret-box.js';

export interface ConnectionRoutesDeps {
  db: Kysely<Database>;
  ucw: UcwClient;
  secretBox: SecretBox;
  ucwUserId: (platformUserId: string) => string;
  clock: () => Date;
  logger: Logger;
  authenticated: RequestHandler;
  onChange: ConnectionChangeHook;
  deleteEnabled: boolean;
  dataEndpoints: boolean;
  /** Per-user limit on the routes that call the UCW for data. */
  dataRateLimit: RequestHandler;
}

const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be YYYY-MM-DD');
const transactionsQuery = z.strictObject({
  accountId: z.string().min(1).max(256),
  startDate: isoDate.optional(),
  endDate: isoDate.optional(),
});

export function connectionRoutes(deps: ConnectionRoutesDeps): Router {
  const router = Router();

  /** The user's own connection or a 404 that says nothing about anyone else's. */
  async function owned(userId: string, id: string, options: { allowDeleted: boolean }): Promise<ConnectionRow> {
    const row = looksLikeId('conn', id) ? await findOwnedConnection(deps.db, userId, id) : undefined;
    if (!row || (!options.allowDeleted && row.status === 'deleted')) throw new AppError('not_found', 'No such connection.');
    return row;
  }

  const ucwRef = (userId: string, row: ConnectionRow): ConnectionRef => ({
    aggregator: row.aggregator,
    userId: deps.ucwUserId(userId),
    connectionId: deps.secretBox.open(row.aggregator_connection_id, row.encryption_key_id),
  });

  router.get('/connections', deps.authenticated, async (req, res) => {
    const rows = await listOwnedConnections(deps.db, req.user!.id);
    res.setHeader('Cache-Control', 'no-store').json({ connections: rows.map(toConnection) });
  });

  router.get('/connections/:id', deps.authenticated, async (req, res) => {
    const row = await owned(req.user!.id, String(req.params.id), { allowDeleted: true });
    res.setHeader('Cache-Control', 'no-store').json(toConnection(row));
  });

  router.delete('/connections/:id', deps.authenticated, async (req, res) => {
    const userId = req.user!.id;
    const row = await owned(userId, String(req.params.id), { allowDeleted: false });
    if (deps.deleteEnabled) {
      try {
        await deps.ucw.deleteConnection(ucwRef(userId, row));
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
    res.status(204).end();
  });

  const requireData: RequestHandler = (_req, _res, next) => {
    if (!deps.dataEndpoints) throw new AppError('not_found', 'Data retrieval is not enabled (UCW_DATA_ENDPOINTS=false).');
    next();
  };

  router.get('/connections/:id/accounts', deps.authenticated, requireData, deps.dataRateLimit, async (req, res) => {
    const row = await owned(req.user!.id, String(req.params.id), { allowDeleted: false });
    res.setHeader('Cache-Control', 'no-store').json(await deps.ucw.getAccounts(ucwRef(req.user!.id, row)));
  });

  router.get('/connections/:id/identity', deps.authenticated, requireData, deps.dataRateLimit, async (req, res) => {
    const row = await owned(req.user!.id, String(req.params.id), { allowDeleted: false });
    res.setHeader('Cache-Control', 'no-store').json(await deps.ucw.getIdentity(ucwRef(req.user!.id, row)));
  });

  router.get('/connections/:id/transactions', deps.authenticated, requireData, deps.dataRateLimit, async (req, res) => {
    const query = parseOr400(transactionsQuery, req.query, 'query');
    const row = await owned(req.user!.id, String(req.params.id), { allowDeleted: false });
    res.setHeader('Cache-Control', 'no-store').json(await deps.ucw.getTransactions(ucwRef(req.user!.id, row), query));
  });

  return router;
}
