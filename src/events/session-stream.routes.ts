import { Router, type RequestHandler } from 'express';
import type { ConnectSessionService } from '../connect-sessions/connect-session.service.js';
import { streamSession, type SessionStreamDeps, type StreamRegistry } from './session-stream.js';

export interface SessionStreamRoutesDeps {
  sessions: ConnectSessionService;
  authenticated: RequestHandler;
  stream: SessionStreamDeps;
  streams: StreamRegistry;
}

/** `GET /connect-sessions/:id/stream`: the session's state changes as Server-Sent Events. */
export function sessionStreamRoutes(deps: SessionStreamRoutesDeps): Router {
  const router = Router();

  router.get('/connect-sessions/:id/stream', deps.authenticated, async (req, res) => {
    const found = await deps.sessions.findOwned(req.user!.id, String(req.params.id));
    streamSession(deps.stream, deps.streams, await deps.stream.expireIfDue(found), req, res);
  });

  return router;
}
