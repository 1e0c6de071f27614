import express, { type Express } from 'express';
import helmet from 'helmet';
import { requireUser, userAuthenticator } from './auth/user-auth.js';
import { connectSessionRoutes } from './connect-sessions/connect-sessions.routes.js';
import { connectionRoutes } from './connections/connections.routes.js';
import { demoRoutes } from './demo/demo.routes.js';
import type { Dependencies } from './dependencies.js';
import { relayRoutes } from './events/relay.routes.js';
import { sessionStreamRoutes } from './events/session-stream.routes.js';
import { healthRoutes } from './health/health.routes.js';
import { cors } from './http/cors.js';
import { errorHandler, notFoundHandler } from './http/problem.js';
import { rateLimit } from './http/rate-limit.js';
import { requestContext } from './http/request-context.js';
import { staticHeaders } from './http/static-headers.js';
import { openApiDocument } from './openapi/openapi.js';
import { sdkRoutes } from './sdk/sdk.routes.js';
import { hostPageRoutes } from './web/host-page.routes.js';
import { webhookRoutes } from './webhooks/webhook.routes.js';

const USER_ROUTES = /^\/(connect-url|connections|connect-sessions|me)(\/|$)/;

/**
 * Builds the Express app from already-constructed dependencies. Pure wiring: it never listens,
 * starts timers or touches the environment, so tests can build as many apps as they like.
 */
export function createApp(deps: Dependencies): Express {
  const { config, logger, metrics } = deps;
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', config.trustProxy);
  app.set('query parser', 'simple');
  // Answers are per user and no-store: hashing every body for a weak ETag buys nothing (the
  // static assets, connect.js and connect.d.ts, set a precomputed one).
  app.set('etag', false);

  app.use(requestContext({ logger, metrics }));
  // Helmet's policy is fixed, so its headers are computed once (see staticHeaders).
  app.use(
    staticHeaders(helmet({
      // An API answers JSON; pages that need more (the host page) set their own policy.
      contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
      // Popups opened by the host page need window.opener; COOP same-origin would sever it.
      crossOriginOpenerPolicy: false,
      referrerPolicy: { policy: 'no-referrer' },
    })),
  );
  app.use(
    cors({
      allowedOrigins: config.allowedOrigins,
      ownOrigin: new URL(config.publicUrl).origin,
      onRejectedOrigin: (origin, request) =>
        logger.warn({ origin, method: request.method, path: request.path }, 'cross-origin request from an origin not in ALLOWED_ORIGINS: the browser blocks it; add the origin to ALLOWED_ORIGINS if it is your frontend'),
    }),
  );
  app.use(
    rateLimit({
      limit: config.rateLimits.ipPerMinute,
      windowMs: 60_000,
      store: deps.rateLimitStore,
      // Per IP only where no user identifies the caller (user routes have per-user limits);
      // a header alone does not exempt a request, so a bogus bearer cannot dodge the limit.
      key: (req) => (USER_ROUTES.test(req.path) || req.path === '/healthz' ? undefined : `ip:${req.ip}`),
    }),
  );

  app.use(
    healthRoutes({
      checks: deps.readinessChecks,
      metrics,
      metricsToken: config.metricsToken,
      checkTimeoutMs: Math.min(config.ucw.timeoutMs, 3_000),
      logger,
    }),
  );

  if (deps.devLogin) {
    app.use(
      deps.devLogin.router({
        cookieName: config.auth.cookieName,
        secureCookie: config.publicUrl.startsWith('https:'),
        bodyLimitBytes: config.bodyLimitBytes,
      }),
    );
  }

  // Failed authentications count per client IP wherever a user is authenticated (user routes,
  // direct-embed relay): a bad-token flood gets 429s instead of unlimited verification attempts.
  const authFailureLimit = rateLimit({
    limit: config.rateLimits.authFailuresPerMinute,
    windowMs: 60_000,
    key: (req) => `auth-failure:${req.ip}`,
    store: deps.rateLimitStore,
  });
  const authenticateUser = userAuthenticator(deps.userAuth, [...config.allowedOrigins, new URL(config.publicUrl).origin], authFailureLimit);
  const authenticated = requireUser(authenticateUser);
  app.get('/me', authenticated, (req, res) => {
    res.json({ userId: req.user!.id });
  });
  app.use(
    connectSessionRoutes({
      service: deps.connectSessions,
      authenticated,
      connectUrlRateLimit: rateLimit({
        limit: config.rateLimits.connectUrlPerMinute,
        windowMs: 60_000,
        store: deps.rateLimitStore,
        key: (req) => (req.user ? `user:${req.user.id}` : undefined),
      }),
      bodyLimitBytes: config.bodyLimitBytes,
      expireIfDue: (session) => deps.events.expireIfDue(session),
    }),
  );
  app.use(
    sessionStreamRoutes({
      sessions: deps.connectSessions,
      authenticated,
      stream: {
        db: deps.database.db,
        notifier: deps.notifier,
        verificationEnabled: config.ucw.dataEndpoints,
        heartbeatMs: config.sseHeartbeatSeconds * 1000,
        clock: deps.clock,
        expireIfDue: (session) => deps.events.expireIfDue(session),
        findSession: (id) => deps.connectSessions.findById(id),
      },
      streams: deps.streams,
    }),
  );

  app.use(
    webhookRoutes({
      service: deps.webhooks,
      bodyLimitBytes: config.bodyLimitBytes,
    }),
  );
  app.use(
    relayRoutes({
      events: deps.events,
      sessions: deps.connectSessions,
      clock: deps.clock,
      authenticateUser,
      bodyLimitBytes: config.bodyLimitBytes,
    }),
  );
  app.use(
    connectionRoutes({
      service: deps.connections,
      authenticated,
      dataEndpoints: config.ucw.dataEndpoints,
      // Each data request costs a UCW (and aggregator) call: bounded per user.
      dataRateLimit: rateLimit({
        limit: config.rateLimits.dataPerMinute,
        windowMs: 60_000,
        key: (req) => (req.user ? `data:${req.user.id}` : undefined),
        store: deps.rateLimitStore,
      }),
    }),
  );
  app.use(
    hostPageRoutes({
      config,
      service: deps.hostPage,
      logger,
    }),
  );

  // Built at the first request, not at start-up (converting the schemas is a cold-start cost).
  let openApi: ReturnType<typeof openApiDocument> | undefined;
  app.get('/openapi.json', (_req, res) => {
    openApi ??= openApiDocument(config.publicUrl, { cookieName: config.auth.cookieName });
    res.json(openApi);
  });
  app.use(sdkRoutes({ publicUrl: config.publicUrl }));
  app.use(demoRoutes({ publicUrl: config.publicUrl, enabled: config.env !== 'production' && deps.devLogin !== undefined }));

  app.use(notFoundHandler());
  app.use(errorHandler(logger));
  return app;
}
