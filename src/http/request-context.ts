import type { Request, RequestHandler, Response } from 'express';
import type { Logger } from '../logger.js';
import type { Metrics } from '../observability/metrics.js';
import { assignRequestId, requestIdOf } from './request-id.js';

const QUIET = new Set(['/healthz', '/readyz']);

/** The route template a request matched (never the raw path: ids would explode the label set). */
function routeOf(req: Request, res: Response): string {
  const route = req.route as { path?: unknown } | undefined; // Express types the matched route as any
  return route?.path ? `${req.baseUrl}${String(route.path)}` : res.statusCode === 404 ? 'unmatched' : 'middleware';
}

/**
 * What every request gets, in one middleware and one `finish` listener: its id (`X-Request-Id`
 * from the caller or a fresh one, echoed back), its duration in the metrics, and one access log
 * line. The line carries the path only: query strings carry capabilities and tokens.
 */
export function requestContext(options: { logger: Logger; metrics: Metrics }): RequestHandler {
  const { logger, metrics } = options;
  return (req, res, next) => {
    assignRequestId(req, res);
    const started = performance.now();
    res.once('finish', () => {
      const ms = performance.now() - started;
      const status = res.statusCode;
      metrics.httpDuration.observe({ method: req.method, route: routeOf(req, res), status: String(status) }, ms / 1000);
      const path = req.originalUrl.split('?', 1)[0]!;
      if (QUIET.has(path)) return;
      const level = status >= 500 ? 'error' : status >= 400 ? 'warn' : 'info';
      if (!logger.isLevelEnabled(level)) return;
      logger[level](
        { req: { id: requestIdOf(req), method: req.method, path }, res: { statusCode: status }, responseTime: Math.round(ms) },
        'request completed',
      );
    });
    next();
  };
}
