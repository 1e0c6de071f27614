import { Router, type RequestHandler } from 'express';
import type { Kysely } from 'kysely';
import { findOwnedConnection } from '../connections/connection.repository.js';
import { toConnection } from '../connections/connection.view.js';
import type { ConnectSessionRow, Database } from '../db/schema.js';
import { AppError } from '../http/errors.js';
import { jsonBody } from '../http/json-body.js';
import { parseOr400 } from '../http/validate.js';
import { looksLikeId } from '../ids.js';
import { findOwnedConnectSession } from './connect-session.repository.js';
import type { ConnectSessionService } from './connect-session.service.js';
import { toConnectSessionView } from './connect-session.view.js';
import { connectUrlBody } from './connect-url.schemas.js';
import { streamSession, type SessionStreamDeps, type StreamRegistry } from './session-stream.js';

export interface ConnectSessionRoutesDeps {
  db: Kysely<Database>;
  service: ConnectSessionService;
  authenticated: RequestHandler;
  connectUrlRateLimit: RequestHandler;
  bodyLimitBytes: number;
  stream: SessionStreamDeps;
  streams: StreamRegistry;
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
    const id = String(req.params.id);
    const found = looksLikeId('cs', id) ? await findOwnedConnectSession(deps.db, req.user!.id, id) : undefined;
    if (!found) throw new AppError('not_found', 'No such connect session.');
    const session = await deps.expireIfDue(found);
    const connection = session.connection_id ? await findOwnedConnection(deps.db, req.user!.id, session.connection_id) : undefined;
    res.setHeader('Cache-Control', 'no-store').json(toConnectSessionView(session, connection ? toConnection(connection) : null));
  });

  router.get('/connect-sessions/:id/stream', deps.authenticated, async (req, res) => {
    const id = String(req.params.id);
    const found = looksLikeId('cs', id) ? await findOwnedConnectSession(deps.db, req.user!.id, id) : undefined;
    if (!found) throw new AppError('not_found', 'No such connect session.');
    streamSession(deps.stream, deps.streams, await deps.expireIfDue(found), req, res);
  });

  return router;
}
