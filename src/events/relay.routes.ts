import { Router, type Request, type RequestHandler } from 'express';
import type { ConnectSessionRow, ConnectSessionService } from '../connect-sessions/connect-session.service.js';
import { jsonBody } from '../http/json-body.js';
import { parseOr400 } from '../http/validate.js';
import { readCapability } from '../lib/capability.js';
import type { EventService } from './event.service.js';
import { widgetEventSchema } from './widget-event.js';

export interface RelayRoutesDeps {
  events: EventService;
  sessions: ConnectSessionService;
  clock: () => Date;
  authenticateUser: (req: Request) => Promise<void>;
  bodyLimitBytes: number;
}

export type { ForwardedEvent } from './forwarded-event.js';

export function relayRoutes(deps: RelayRoutesDeps): Router {
  const router = Router();

  /**
   * Who may relay into a session: the host page holding the signed capability, or (for
   * `embed: "direct"`) the session's own user. Either way, only into that user's session.
   */
  const sessionAccess: RequestHandler = async (req, res, next) => {
    const id = String(req.params.sessionId);
    if (req.query.sig !== undefined || req.query.exp !== undefined) {
      res.locals.session = await deps.sessions.findByCapability(id, readCapability(req.query), deps.clock());
    } else {
      await deps.authenticateUser(req);
      res.locals.session = await deps.sessions.findOwned(req.user!.id, id);
    }
    next();
  };

  router.post('/connect/:sessionId/events', sessionAccess, ...jsonBody(deps.bodyLimitBytes), async (req, res) => {
    const session = await deps.events.refuseEnded(res.locals.session as ConnectSessionRow);
    const event = parseOr400(widgetEventSchema, req.body, 'event');
    const result = await deps.events.record({
      userId: session.user_id,
      sessionId: session.id,
      source: req.user ? 'direct' : 'relay',
      type: event.type,
      metadata: event.metadata,
    });
    const current = result.session ?? session;
    const forward = result.forward!;
    res.status(200).setHeader('Cache-Control', 'no-store').json({ recorded: result.recorded, sessionStatus: current.status, forward });
  });

  /**
   * The person pressed Cancel on the host page (or closed connect.js's window): the session ends
   * `cancelled` server-side, so SSE streams and `GET /connect-sessions/:id` see it too. An ended
   * session answers with its status unchanged.
   */
  router.post('/connect/:sessionId/cancel', sessionAccess, async (_req, res) => {
    const { session, forward } = await deps.events.cancelSession(res.locals.session as ConnectSessionRow);
    res.status(200).setHeader('Cache-Control', 'no-store').json({ sessionStatus: session.status, forward });
  });

  return router;
}
