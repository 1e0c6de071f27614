import { Router, type Request, type Response } from 'express';
import type { Kysely } from 'kysely';
import type { Config } from '../config.js';
import { capabilityQuery, readCapability, verifyCapability, type Capability } from '../connect-sessions/capability.js';
import { countSessionLoad, findConnectSession } from '../connect-sessions/connect-session.repository.js';
import type { ConnectSessionService } from '../connect-sessions/connect-session.service.js';
import { iso } from '../db/executor.js';
import type { ConnectSessionRow, Database } from '../db/schema.js';
import { AppError, isAppError, type ErrorCode } from '../http/errors.js';
import { requestIdOf } from '../http/request-id.js';
import { fromOverload } from '../http/problem.js';
import { isOpenSession } from '../events/session-state.js';
import { looksLikeId } from '../ids.js';
import type { Logger } from '../logger.js';
import { newNonce } from '../lib/html.js';
import { pageHeaders } from './host-page.headers.js';
import { renderErrorPage, renderHostPage, type ErrorPageContent } from './host-page.html.js';
import { resolvePresentation } from './same-site.js';

export interface HostPageDeps {
  db: Kysely<Database>;
  config: Config;
  service: ConnectSessionService;
  sessionSecrets: readonly string[];
  clock: () => Date;
  logger: Logger;
}


/** What a person reads for each failure: short, actionable, never internals. */
function errorContent(error: AppError): ErrorPageContent {
  const page = (title: string, message: string, retry = false): ErrorPageContent => ({ status: error.status, title, message, retry });
  const byCode: Partial<Record<ErrorCode, () => ErrorPageContent>> = {
    not_found: () => page('Link not found', 'This connect link is not valid. Start again from the app.'),
    capability_invalid: () => page('Invalid link', 'This connect link is incomplete or has been altered. Start again from the app.'),
    capability_expired: () => page('Link expired', error.message),
    rate_limited: () => page('Link used too often', 'This connect link has been opened too many times. Start again from the app.'),
    conflict: () => page('Cannot continue', 'This connection cannot be refreshed from here. Start again from the app.'),
    ucw_unavailable: () => page('Temporarily unavailable', 'The connection service is not available right now. Try again in a moment.', true),
    ucw_timeout: () => page('Taking too long', 'The connection service did not answer in time. Try again in a moment.', true),
    ucw_rejected_request: () => page('Something went wrong', 'The connection service refused to start. Try again, or start again from the app.', true),
    ucw_credentials_rejected: () => page('Something went wrong', 'The connection service is misconfigured. Try again later.', true),
    ucw_bad_response: () => page('Something went wrong', 'The connection service answered with an error. Try again in a moment.', true),
  };
  return byCode[error.code]?.() ?? page('Something went wrong', 'Something went wrong on our side. Try again in a moment.', error.status >= 500);
}

/**
 * The host page (`GET /connect/:sessionId?exp&sig`) and the fresh widget URL it asks for in popup
 * mode (`POST /connect/:sessionId/widget-url?exp&sig`). Both are authenticated by the session
 * capability alone, and each counts against the session's load budget, because each mints a
 * single-use UCW token.
 */
export function hostPageRoutes(deps: HostPageDeps): Router {
  const router = Router();
  const { config, logger } = deps;
  const bffOrigin = new URL(config.publicUrl).origin;
  // Read per request: in sandbox mode the UCW URL is filled in after the simulator starts
  // (parsed again only when it changes).
  let parsed: { url: string | undefined; origin: string | undefined } = { url: undefined, origin: undefined };
  const ucwOrigin = () => {
    if (parsed.url !== config.ucw.url) parsed = { url: config.ucw.url, origin: config.ucw.url ? new URL(config.ucw.url).origin : undefined };
    return parsed.origin;
  };
  const setPageHeaders = pageHeaders(config.allowedOrigins);

  /** The session behind a valid capability, still open; nothing is counted. */
  async function authorize(req: Request): Promise<{ session: ConnectSessionRow; capability: Capability; now: Date }> {
    const sessionId = String(req.params['sessionId']);
    const session = looksLikeId('cs', sessionId) ? await findConnectSession(deps.db, sessionId) : undefined;
    if (!session) throw new AppError('not_found', 'No such connect session.');
    const capability = readCapability(req.query as Record<string, unknown>);
    const now = deps.clock();
    verifyCapability(deps.sessionSecrets, session.id, session.user_id, capability, now);
    // Direct-embed sessions never had a host page URL; answer as for an unknown one.
    if (session.embed !== 'host') throw new AppError('not_found', 'No such connect session.');
    assertOpen(session, now);
    return { session, capability: capability!, now };
  }

  /** As `authorize`, and the load is counted against the session's budget. */
  async function openSession(req: Request): Promise<{ session: ConnectSessionRow; capability: Capability }> {
    const { session, capability, now } = await authorize(req);
    if (!(await countSessionLoad(deps.db, session.id, config.session.maxLoads, iso(now)))) {
      // Lost a race with a terminal event, or the budget is spent.
      const current = await findConnectSession(deps.db, session.id);
      if (current) assertOpen(current, now);
      throw new AppError('rate_limited', 'This connect link has been opened too many times. Start again from the app.');
    }
    return { session, capability };
  }

  function assertOpen(session: ConnectSessionRow, now: Date): void {
    if (!isOpenSession(session.status) || session.expires_at <= iso(now)) {
      throw new AppError(
        'capability_expired',
        session.status === 'connected' || session.status === 'cancelled'
          ? 'This connection attempt has already finished. Start again from the app.'
          : 'This connect link has expired. Start again from the app.',
      );
    }
  }

  /** A fresh widget URL; the UCW client refuses one outside UCW_URL's origin (the page frames only that). */
  const mint = (session: ConnectSessionRow): Promise<string> => deps.service.mintForHostPage(session);

  // No ETag: the page is no-store and unique per response (its nonce), so hashing it buys nothing.
  function sendPage(res: Response, status: number, html: string): void {
    res.statusCode = status;
    res.setHeader('Content-Type', 'text/html; charset=utf-8');
    res.end(html);
  }

  // Link checkers and previews send HEAD: they learn whether the link is valid, but spend
  // neither a load nor a single-use UCW token (Express would otherwise run the GET handler).
  router.head('/connect/:sessionId', async (req, res) => {
    setPageHeaders(res, newNonce(), ucwOrigin());
    try {
      await authorize(req);
      res.status(200).type('html').end();
    } catch (error) {
      if (!isAppError(error)) throw error;
      res.status(error.status).type('html').end();
    }
  });

  router.get('/connect/:sessionId', async (req, res) => {
    const nonce = newNonce();
    setPageHeaders(res, nonce, ucwOrigin());
    try {
      const { session, capability } = await openSession(req);
      const presentation = resolvePresentation(session.presentation, config, session.target_origin);
      const widgetUrl = presentation === 'iframe' ? await mint(session) : null;
      // Relative to /connect/: resolves under any path prefix PUBLIC_URL may carry.
      const base = `${encodeURIComponent(session.id)}`;
      const query = capabilityQuery(capability);
      sendPage(
        res,
        200,
        renderHostPage(nonce, {
          sessionId: session.id,
          presentation,
          widgetUrl,
          widgetUrlEndpoint: `${base}/widget-url?${query}`,
          eventsUrl: `${base}/events?${query}`,
          cancelUrl: `${base}/cancel?${query}`,
          expiresAt: session.expires_at,
          targetOrigin: session.target_origin,
          redirectUri: session.redirect_uri,
        }),
      );
    } catch (error) {
      const known = isAppError(error) ? error : fromOverload(error);
      if (!known) {
        logger.error({ err: error, requestId: requestIdOf(req) }, 'host page failed');
      } else if (known.status >= 500) {
        logger.warn({ code: known.code, err: known, requestId: requestIdOf(req) }, 'host page could not mint a widget URL');
      }
      const content = errorContent(known ?? new AppError('internal', 'internal'));
      const retryAfter = known?.headers['Retry-After'];
      if (retryAfter) res.setHeader('Retry-After', retryAfter);
      sendPage(res, content.status, renderErrorPage(nonce, content));
    }
  });

  router.post('/connect/:sessionId/widget-url', async (req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    // Only the host page itself asks; a browser always sends Origin on a POST.
    const origin = req.get('origin');
    if (origin !== undefined && origin !== bffOrigin) throw new AppError('forbidden', 'Only the host page may ask for a widget URL.');
    const { session } = await openSession(req);
    res.json({ url: await mint(session) });
  });

  return router;
}
