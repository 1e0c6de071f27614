import { randomUUID } from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';

// A caller's id is echoed only when it is short and printable, so it cannot smuggle log lines.
const acceptable = /^[\w.:@/+=-]{1,128}$/;

/** Takes `X-Request-Id` from the caller or makes one, stores it on `req.id` and echoes it back. */
export function requestId(): RequestHandler {
  return (req, res, next) => {
    assignRequestId(req, res);
    next();
  };
}

/** The body of `requestId()`, for the app's one per-request middleware (request-context.ts). */
export function assignRequestId(req: Request, res: Response): void {
  const given = req.headers['x-request-id'];
  req.id = typeof given === 'string' && acceptable.test(given) ? given : randomUUID();
  res.setHeader('X-Request-Id', req.id);
}

export const requestIdOf = (req: Request): string => req.id ?? 'unknown';
