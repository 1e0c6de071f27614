import type { Request, RequestHandler } from 'express';
import { AppError } from './errors.js';

/** One counted request's verdict. */
export interface RateLimitDecision {
  allowed: boolean;
  remaining: number;
  /** Milliseconds until the window that counted this request ends. */
  resetMs: number;
}

/**
 * Where counts live. `hit` counts one request against `key` and decides. A shared store must
 * fail open (allow, and log) when it cannot count: a limiter outage must not become an outage.
 */
export interface RateLimitStore {
  hit(key: string, limit: number, windowMs: number): RateLimitDecision | Promise<RateLimitDecision>;
}

export interface RateLimitOptions {
  limit: number;
  windowMs: number;
  /**
   * The bucket a request counts against; undefined skips counting (e.g. not yet authenticated).
   * Prefix it per limiter (`ip:…`, `user:…`): a shared store keeps every limiter's buckets together.
   */
  key: (req: Request) => string | undefined;
  /** Default: a private in-process store (right for one instance). Several instances pass the shared one. */
  store?: RateLimitStore;
  now?: () => number;
}

export function rateLimit(options: RateLimitOptions): RequestHandler {
  const store = options.store ?? memoryRateLimitStore(options.now);
  const limitHeader = String(options.limit);

  const answer = (decision: RateLimitDecision, res: Parameters<RequestHandler>[1], next: Parameters<RequestHandler>[2]) => {
    res.setHeader('RateLimit-Limit', limitHeader);
    res.setHeader('RateLimit-Remaining', String(Math.max(0, decision.remaining)));
    if (!decision.allowed) {
      const retryAfter = Math.max(1, Math.ceil(decision.resetMs / 1000));
      next(new AppError('rate_limited', `Too many requests; retry in ${retryAfter} s.`, { headers: { 'Retry-After': String(retryAfter) } }));
      return;
    }
    next();
  };

  return (req, res, next) => {
    const key = options.key(req);
    if (key === undefined) {
      next();
      return;
    }
    const decision = store.hit(key, options.limit, options.windowMs);
    // The in-memory store answers synchronously: no promise (and no extra tick) on the hot path.
    if (decision instanceof Promise) decision.then((d) => answer(d, res, next), next);
    else answer(decision, res, next);
  };
}

/** Fixed windows starting at a key's first request, kept in this process's memory. */
export function memoryRateLimitStore(now: () => number = Date.now): RateLimitStore {
  const buckets = new Map<string, { windowStart: number; count: number }>();
  let lastSweep = now();
  let longestWindowMs = 0;
  return {
    hit(key, limit, windowMs) {
      const t = now();
      longestWindowMs = Math.max(longestWindowMs, windowMs);
      if (t - lastSweep > longestWindowMs) {
        for (const [k, bucket] of buckets) if (t - bucket.windowStart >= longestWindowMs) buckets.delete(k);
        lastSweep = t;
      }
      let bucket = buckets.get(key);
      if (!bucket || t - bucket.windowStart >= windowMs) {
        bucket = { windowStart: t, count: 0 };
        buckets.set(key, bucket);
      }
      bucket.count += 1;
      return { allowed: bucket.count <= limit, remaining: limit - bucket.count, resetMs: bucket.windowStart + windowMs - t };
    },
  };
}
