import { Router, type RequestHandler } from 'express';
import { AppError } from '../http/errors.js';
import { parseOr400 } from '../http/validate.js';
import { transactionsQuery } from './connection.schemas.js';
import type { ConnectionService } from './connection.service.js';

export interface ConnectionRoutesDeps {
  service: ConnectionService;
  authenticated: RequestHandler;
  dataEndpoints: boolean;
  /** Per-user limit on the routes that call the UCW for data. */
  dataRateLimit: RequestHandler;
}

export function connectionRoutes(deps: ConnectionRoutesDeps): Router {
  const router = Router();
  const { service } = deps;

  router.get('/connections', deps.authenticated, async (req, res) => {
    res.setHeader('Cache-Control', 'no-store').json({ connections: await service.list(req.user!.id) });
  });

  router.get('/connections/:id', deps.authenticated, async (req, res) => {
    res.setHeader('Cache-Control', 'no-store').json(await service.get(req.user!.id, String(req.params.id)));
  });

  router.delete('/connections/:id', deps.authenticated, async (req, res) => {
    await service.delete(req.user!.id, String(req.params.id));
    res.status(204).end();
  });

  const requireData: RequestHandler = (_req, _res, next) => {
    if (!deps.dataEndpoints) throw new AppError('not_found', 'Data retrieval is not enabled (UCW_DATA_ENDPOINTS=false).');
    next();
  };

  router.get('/connections/:id/accounts', deps.authenticated, requireData, deps.dataRateLimit, async (req, res) => {
    res.setHeader('Cache-Control', 'no-store').json(await service.accounts(req.user!.id, String(req.params.id)));
  });

  router.get('/connections/:id/identity', deps.authenticated, requireData, deps.dataRateLimit, async (req, res) => {
    res.setHeader('Cache-Control', 'no-store').json(await service.identity(req.user!.id, String(req.params.id)));
  });

  router.get('/connections/:id/transactions', deps.authenticated, requireData, deps.dataRateLimit, async (req, res) => {
    const query = parseOr400(transactionsQuery, req.query, 'query');
    res.setHeader('Cache-Control', 'no-store').json(await service.transactions(req.user!.id, String(req.params.id), query));
  });

  return router;
}
