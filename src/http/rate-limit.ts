import type { Request, RequestHandler } from 'express';
import { AppError } from './errors.js';

export interface RateLimitOptions {
  limit: number;
  windowMs: number;
  /** The bucket a request counts against; undefined skips counting (e.g. not yet authenticated). */
  key: (req: Request) => string | undefined;
  now?: () => number;
}

/**
 * Fixed-window limiter kept in process memory. Limits are per instance: generous defaults make
 * that acceptable, and a shared store can replace `buckets` without touching callers.
 */
export function rateLimit(options: RateLimitOptions): RequestHandler {
  const now = options.now ?? Date.now;
  const buckets = new Map<string, { windowStart: number; count: number }>();
  let lastSweep = now();

  return (req, res, next) => {
    const key = options.key(req);
    if (key === undefined) {
      next();
      return;
    }
    const t = now();
    if (t - lastSweep > options.windowMs) {
      for (const [k, bucket] of buckets) if (t - bucket.windowStart >= options.windowMs) buckets.delete(k);
      lastSweep = t;
    }
    let bucket = buckets.get(key);
    if (!bucket || t - bucket.windowStart >= options.windowMs) {
      bucket = { windowStart: t, count: 0 };
      buckets.set(key, bucket);
    }
    bucket.count += 1;
    res.setHeader('RateLimit-Limit', String(options.limit));
    res.setHeader('RateLimit-Remaining', String(Math.max(0, options.limit - bucket.count)));
    if (bucket.count > options.limit) {
      const retryAfter = Math.max(1, Math.ceil((bucket.windowStart + options.windowMs - t) / 1000));
      next(new AppError('rate_limited', `Too many requests; retry in ${retryAfter} s.`, { headers: { 'Retry-After': String(retryAfter) } }));
      return;
    }
    next();
  };
}
