import { Router, type Request, type Response } from 'express';
import { findInstitution, INSTITUTIONS } from './sandbox-data.js';
import {
  loadedEvent,
  memberConnectedEvent,
  memberErrorEvent,
  memberStatusUpdateEvent,
  selectedInstitutionEvent,
  type EventGeneration,
  type WidgetEvent,
} from './sandbox-events.js';
import {
  presentedCredential,
  requireCredential,
  sendNotFound,
  sendText,
  sendValidationError,
  setAuthorizationCookie,
} from './sandbox-http.js';
import { ConnectionStatus, type SandboxStore, type WidgetSession } from './sandbox-store.js';
import { renderWidgetPage } from './sandbox-widget-page.js';
import {
  validateTokenQuery,
  validateV1WidgetQuery,
  validateV2WidgetUrlBody,
  type WidgetParams,
} from './sandbox-validation.js';

export interface WidgetRoutesOptions {
  version: 1 | 2;
  isValidBearer: ((token: string) => boolean) | undefined;
  eventGeneration: EventGeneration;
  frameAncestors: readonly string[] | undefined;
  publicUrl: string | undefined;
}

const INVALID_TOKEN = 'token invalid or expired';

/**
 * How a widget is obtained (v1 token + query, v2 `POST /widgetUrl` + token), the page itself,
 * and the simulator-internal API the page calls (`/api/sim/...`).
 */
export function widgetRoutes(store: SandboxStore, options: WidgetRoutesOptions): Router {
  const router = Router();
  const authenticated = requireCredential(options.isValidBearer);
  const authOn = options.isValidBearer !== undefined;

  const servePage = (res: Response, params: WidgetParams, bearer: string | undefined) => {
    const session = store.openSession(params);
    if (bearer !== undefined) setAuthorizationCookie(res, bearer);
    // The real UCW sends no framing headers; a CSP is added only when a test or demo asks for one.
    if (options.frameAncestors) {
      const sources = options.frameAncestors.length > 0 ? options.frameAncestors.join(' ') : "'none'";
      res.setHeader('Content-Security-Policy', `frame-ancestors ${sources}`);
    }
    res.setHeader('Cache-Control', 'no-store');
    sendText(res, 200, renderWidgetPage(session.id));
  };

  if (options.version === 1) {
    // The token endpoint exists only when the UCW's authentication is on (404 otherwise).
    if (authOn) {
      router.get('/api/token', authenticated, (req, res) => {
        const query = validateTokenQuery(req.query);
        if (!query.ok) return sendValidationError(res, query.message);
        res.json({ token: store.issueV1Token(query.value.userId, presentedCredential(req)) });
      });
    }

    router.get('/widget', (req, res) => {
      const query = req.query as Record<string, unknown>;
      let bearer: string | undefined;
      // The token is checked (and consumed) before the parameters are validated, as the real
      // middleware order does: a valid token with bad parameters is spent.
      if (authOn && query['token'] !== undefined) {
        const taken = typeof query['token'] === 'string' ? store.takeV1Token(String(query['userId']), query['token']) : undefined;
        if (!taken) return sendText(res, 200, INVALID_TOKEN);
        bearer = taken.bearer;
      }
      const params = validateV1WidgetQuery(query);
      if (!params.ok) return sendValidationError(res, params.message);
      servePage(res, params.value, bearer);
    });
  } else {
    router.post('/widgetUrl', authenticated, (req, res) => {
      const params = validateV2WidgetUrlBody(req.body);
      if (!params.ok) return sendValidationError(res, params.message);
      const token = store.issueV2Token(params.value, authOn ? presentedCredential(req) : undefined);
      res.json({ widgetUrl: `${baseUrl(req, options.publicUrl)}/widget?token=${token}` });
    });

    router.get('/widget', (req, res) => {
      const token = req.query['token'];
      if (typeof token !== 'string' || token === '') return sendText(res, 400, 'A valid token is required');
      // Simplest faithful model of "the page consumes the token": the first successful load spends it.
      const taken = store.takeV2Token(token);
      if (!taken) return sendText(res, 200, INVALID_TOKEN);
      servePage(res, taken.params, taken.bearer);
    });
  }

  router.get('/api/sim/sessions/:sessionId', authenticated, (req, res) => {
    const session = store.session(String(req.params['sessionId']));
    if (!session) return sendNotFound(res, 'Session not found');
    res.json(sessionView(session));
  });

  router.post('/api/sim/sessions/:sessionId/connect', authenticated, (req, res) => {
    const session = store.session(String(req.params['sessionId']));
    if (!session) return sendNotFound(res, 'Session not found');
    const body = (req.body ?? {}) as { institutionId?: unknown; password?: unknown };
    const institutionId = session.params.institutionId ?? (typeof body.institutionId === 'string' ? body.institutionId : undefined);
    if (!institutionId) return sendValidationError(res, '"institutionId" is required');
    const password = typeof body.password === 'string' ? body.password : '';
    const result = connect(store, session, institutionId, password, options.eventGeneration);
    if (!result) return sendNotFound(res, 'Connection not found');
    res.json(result);
  });

  return router;
}

function baseUrl(req: Request, publicUrl: string | undefined): string {
  return (publicUrl ?? `${req.protocol}://${req.get('host') ?? '127.0.0.1'}`).replace(/\/+$/, '');
}

/** What the page needs to render; v1 without targetOrigin posts to "/" (same origin only), like the UCW. */
function sessionView(session: WidgetSession) {
  const { params } = session;
  const preselected = params.institutionId ? findInstitution(params.institutionId, params.aggregator) : undefined;
  return {
    targetOrigin: params.targetOrigin ?? '/',
    loadedEvent: loadedEvent(preselected ? 'enterCreds' : 'search'),
    preselected: preselected ? { id: preselected.id, name: preselected.name } : null,
    refresh: params.connectionId !== undefined,
    institutions: INSTITUTIONS.map((institution) => ({
      id: institution.id,
      name: institution.name,
      selectedEvent: selectedInstitutionEvent(institution),
    })),
  };
}

interface ConnectResult {
  /** `retry`: wrong credentials, the form stays live for another try (the real widget's behaviour). */
  outcome: 'connected' | 'denied' | 'retry';
  message: string;
  events: WidgetEvent[];
}

/** The password that any bank refuses once, like a typo: the person can correct it and connect. */
export const WRONG_PASSWORD = 'wrong';
export const INCORRECT_CREDENTIALS = 'Incorrect Credentials. Please correct them below to continue.';

/**
 * Connects (or, with refresh parameters, reconnects) a member. A refresh reuses the member and
 * its connectionId; a refresh of a connection the simulator has never seen adopts that id,
 * because the simulator forgets everything on restart while the BFF's database does not.
 * Another user's or a deleted connection cannot be refreshed.
 */
function connect(store: SandboxStore, session: WidgetSession, institutionId: string, password: string, generation: EventGeneration): ConnectResult | undefined {
  const { params } = session;
  const institution = findInstitution(institutionId, params.aggregator);
  const wrong = password === WRONG_PASSWORD;
  const status = wrong || institution.outcome !== 'connected' ? ConnectionStatus.DENIED : ConnectionStatus.CONNECTED;

  let member;
  if (params.connectionId !== undefined && params.aggregator !== undefined) {
    const existing = store.member(params.connectionId);
    if (existing && (existing.deleted || existing.userId !== params.userId || existing.aggregator !== params.aggregator)) {
      return undefined;
    }
    member =
      existing ??
      store.createMember({
        connectionId: params.connectionId,
        userId: params.userId,
        aggregator: params.aggregator,
        institutionId,
        status,
      });
    member.status = status;
  } else {
    // A retry after wrong credentials updates the member that attempt created.
    const pending = session.pendingMember ? store.member(session.pendingMember) : undefined;
    member =
      pending && pending.institutionId === institutionId
        ? pending
        : store.createMember({ userId: params.userId, aggregator: institution.aggregator, institutionId, status });
    member.status = status;
  }

  if (wrong) {
    session.pendingMember = member.connectionId;
    // The real widget posts the error (the member and its DENIED status) and keeps the form live.
    return { outcome: 'retry', message: INCORRECT_CREDENTIALS, events: [memberStatusUpdateEvent({ ...member, status: ConnectionStatus.CREATED }, generation), memberErrorEvent(member)] };
  }
  return status === ConnectionStatus.CONNECTED
    ? {
        outcome: 'connected',
        message: `Connected to ${institution.name}`,
        events: [memberStatusUpdateEvent(member, generation), memberConnectedEvent(member, generation)],
      }
    : {
        outcome: 'denied',
        message: `${institution.name} did not accept the credentials`,
        events: [memberStatusUpdateEvent(member, generation), memberErrorEvent(member)],
      };
}
