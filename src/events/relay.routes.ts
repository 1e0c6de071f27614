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
import { widgetEventSchema } from './widget-event.js';

export interface RelayRoutesDeps {
  db: Kysely<Database>;
  events: EventService;
  sessionSecrets: readonly string[];
  clock: () => Date;
  authenticateUser: (req: Request) => Promise<void>;
  bodyLimitBytes: number;
}

/** What the host page forwards to the frontend: the BFF's view, never an aggregator id. */
export interface ForwardedEvent {
  type: string;
  metadata: { sessionId: string; connectionId: string | null; aggregator: string | null; institutionId: string | null; status: ConnectSessionRow['status'] };
}

export function relayRoutes(deps: RelayRoutesDeps): Router {
  const router = Router();

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
    const session = res.locals.session as ConnectSessionRow;
    if (session.status === 'expired' || (session.expires_at <= deps.clock().toISOString() && session.status !== 'connected' && session.status !== 'failed')) {
      throw new AppError('capability_expired', 'This connect session has expired.');
    }
    const event = parseOr400(widgetEventSchema, req.body, 'event');
    const result = await deps.events.record({
      userId: session.user_id,
      sessionId: session.id,
      source: req.user ? 'direct' : 'relay',
      type: event.type,
      metadata: event.metadata,
    });
    const current = result.session ?? session;
    const forward: ForwardedEvent = {
      type: event.type,
      metadata: {
        sessionId: current.id,
        connectionId: result.connection?.id ?? current.connection_id,
        aggregator: result.connection?.aggregator ?? result.normalized.aggregator ?? null,
        institutionId: result.connection?.institution_id ?? result.normalized.institutionId ?? current.institution_id,
        status: current.status,
      },
    };
    res.status(200).setHeader('Cache-Control', 'no-store').json({ recorded: result.recorded, sessionStatus: current.status, forward });
  });

  return router;
}
