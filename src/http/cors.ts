import type { RequestHandler } from 'express';

export interface CorsOptions {
  allowedOrigins: readonly string[];
  /** The BFF's own origin: its own pages (host page, demo) are same-origin, never "rejected". */
  ownOrigin: string;
  /** Told about each request from an origin outside the list (already rate-limited per origin). */
  onRejectedOrigin?: (origin: string, request: { method: string; path: string }) => void;
  /** How often one origin is reported at most. */
  reportEveryMs?: number;
  clock?: () => number;
}

/**
 * CORS for the platform frontends in ALLOWED_ORIGINS, with credentials (the auth cookie).
 * Other origins get no CORS headers at all, so browsers keep them out. The browser then tells
 * its developer only "Failed to fetch", so the server says which origin it refused, once per
 * origin per minute (a busy misconfigured frontend must not flood the logs).
 */
export function cors(options: CorsOptions): RequestHandler {
  const allowed = new Set(options.allowedOrigins);
  const report = options.onRejectedOrigin ? onceEvery(options.reportEveryMs ?? 60_000, options.clock ?? Date.now) : undefined;
  return (req, res, next) => {
    const origin = req.get('origin');
    res.vary('Origin');
    if (!origin || !allowed.has(origin)) {
      if (origin && origin !== options.ownOrigin && report?.(origin)) {
        options.onRejectedOrigin!(origin.slice(0, 200), { method: req.method, path: req.path });
      }
      next();
      return;
    }
    res.setHeader('Access-Control-Allow-Origin', origin);
    res.setHeader('Access-Control-Allow-Credentials', 'true');
    res.setHeader('Access-Control-Expose-Headers', 'X-Request-Id, Retry-After, Location');
    if (req.method === 'OPTIONS' && req.get('access-control-request-method')) {
      res.setHeader('Access-Control-Allow-Methods', 'GET, POST, DELETE, OPTIONS');
      res.setHeader('Access-Control-Allow-Headers', 'Authorization, Content-Type, X-Request-Id, Last-Event-ID');
      res.setHeader('Access-Control-Max-Age', '600');
      res.status(204).end();
      return;
    }
    next();
  };
}

/**
 * `true` the first time a key is seen in each window. Memory stays bounded whatever keys
 * arrive (origins are chosen by the caller): past a thousand keys the oldest are forgotten.
 */
export function onceEvery(windowMs: number, clock: () => number, maxKeys = 1000): (key: string) => boolean {
  const last = new Map<string, number>();
  return (key) => {
    const now = clock();
    const seen = last.get(key);
    if (seen !== undefined && now - seen < windowMs) return false;
    last.delete(key);
    last.set(key, now);
    if (last.size > maxKeys) last.delete(last.keys().next().value!);
    return true;
  };
}
