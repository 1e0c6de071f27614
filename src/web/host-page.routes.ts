import { Router, type Request, type Response } from 'express';
import type { Config } from '../config.js';
import { AppError, isAppError, type ErrorCode } from '../http/errors.js';
import { requestIdOf } from '../http/request-id.js';
import { fromOverload } from '../http/problem.js';
import { capabilityQuery, readCapability } from '../lib/capability.js';
import type { Logger } from '../logger.js';
import { newNonce } from '../lib/html.js';
import { pageHeaders } from './host-page.headers.js';
import { renderErrorPage, renderHostPage, type ErrorPageContent } from './host-page.html.js';
import type { HostPageService } from './host-page.service.js';
import { resolvePresentation } from './same-site.js';

export interface HostPageDeps {
  config: Config;
  service: HostPageService;
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

  const { service } = deps;
  /** The session id and capability a request presents (both checked by the service). */
  const presented = (req: Request) => [String(req.params['sessionId']), readCapability(req.query)] as const;

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
      await service.authorize(...presented(req));
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
      const { session, capability } = await service.openSession(...presented(req));
      const presentation = resolvePresentation(session.presentation, config, session.target_origin);
      const widgetUrl = presentation === 'iframe' ? await service.mint(session) : null;
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
    const { session } = await service.openSession(...presented(req));
    res.json({ url: await service.mint(session) });
  });

  return router;
}
