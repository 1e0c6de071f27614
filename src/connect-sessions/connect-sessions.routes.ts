import { Router, type RequestHandler } from 'express';
import { AppError } from '../http/errors.js';
import { jsonBody } from '../http/json-body.js';
import { parseOr400 } from '../http/validate.js';
import type { ConnectSessionRow, ConnectSessionService } from './connect-session.service.js';
import { connectUrlBody } from './connect-url.schemas.js';

export interface ConnectSessionRoutesDeps {
  service: ConnectSessionService;
  authenticated: RequestHandler;
  connectUrlRateLimit: RequestHandler;
  bodyLimitBytes: number;
  /** Ends an open session past its expiry (recorded and announced like any change). */
  expireIfDue: (session: ConnectSessionRow) => Promise<ConnectSessionRow>;
}

const USER_ID_FROM_AUTH = 'userId is not accepted: the user comes from authentication.';

export function connectSessionRoutes(deps: ConnectSessionRoutesDeps): Router {
  const router = Router();

  router.post('/connect-url', deps.authenticated, deps.connectUrlRateLimit, ...jsonBody(deps.bodyLimitBytes), async (req, res) => {
    const body: unknown = req.body ?? {};
    if (body && typeof body === 'object' && Object.hasOwn(body, 'userId')) {
      throw new AppError('validation_failed', USER_ID_FROM_AUTH, { fields: [{ field: 'userId', message: USER_ID_FROM_AUTH }] });
    }
    const input = parseOr400(connectUrlBody, body);
    const result = await deps.service.create(req.user!.id, input, req.get('origin'));
    res.status(201).setHeader('Cache-Control', 'no-store').json(result);
  });

  router.get('/connect-sessions/:id', deps.authenticated, async (req, res) => {
    const session = await deps.expireIfDue(await deps.service.findOwned(req.user!.id, String(req.params.id)));
    res.setHeader('Cache-Control', 'no-store').json(await deps.service.view(session));
  });

  return router;
}
