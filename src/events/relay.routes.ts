import { Router, type Request, type RequestHandler } from 'express';
import type { Kysely } from 'kysely';
import { readCapability, verifyCapability } from '../connect-sessions/capability.js';
import { findConnectSession } from '../connect-sessions/connect-session.repository.js';
import type { ConnectSessionRow, Database } from '../db/schema.js';
import { AppError } from '../http/errors.js';
import { jsonBody } from '../http/json-body.js';
import { parseOr400 } from '../http/validate.js';
import { looksLikeId } from '../ids.js';
import type { EventService } from './event.service.js';
import { isOpenSession } from './session-state.js';
import { widgetEventSchema } from './widget-event.js';

export interface RelayRoutesDeps {
  db: Kysely<Database>;
  events: EventService;
  sessionSecrets: readonly string[];
  clock: () => Date;
  authenticateUser: (req: Request) => Promise<void>;
  bodyLimitBytes: number;
}

export type { ForwardedEvent } from './forwarded-event.js';

export function relayRoutes(deps: RelayRoutesDeps): Router {
  const router = Router();

  /**
   * Events into a session that ended by time (or was never going to accept more) are refused.
   * A session past its expiry is ended first, so the ending is recorded and announced.
   * Late events after `connected` or `cancelled` are still recorded (the widget may finish
   * posting after the page moved on), and never change the session's status.
   */
  async function refuseEnded(session: ConnectSessionRow): Promise<ConnectSessionRow> {
    const current = isOpenSession(session.status) ? await deps.events.expireIfDue(session) : session;
    if (current.status === 'expired' || current.status === 'failed') throw new AppError('capability_expired', 'This connect session has expired.');
    return current;
  }

  /**
   * Who may relay into a session: the host page holding the signed capability, or (for
   * `embed: "direct"`) the session's own user. Either way, only into that user's session.
   */
  const sessionAccess: RequestHandler = async (req, res, next) => {
    const id = String(req.params.sessionId);
    const session = looksLikeId('cs', id) ? await findConnectSession(deps.db, id) : undefined;
    const capability = readCapability(req.query as Record<string, unknown>);
    if (req.query.sig !== undefined || req.query.exp !== undefined) {
      if (!session) throw new AppError('not_found', 'No such connect session.');
      verifyCapability(deps.sessionSecrets, session.id, session.user_id, capability, deps.clock());
      res.locals.session = session;
      next();
      return;
    }
    await deps.authenticateUser(req);
    if (!session || session.user_id !== req.user!.id) throw new AppError('not_found', 'No such connect session.');
    res.locals.session = session;
    next();
  };

  router.post('/connect/:sessionId/events', sessionAccess, ...jsonBody(deps.bodyLimitBytes), async (req, res) => {
    const session = await refuseEnded(res.locals.session as ConnectSessionRow);
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
