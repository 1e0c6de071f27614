import { randomUUID } from 'node:crypto';
import type { Request, RequestHandler } from 'express';

// A caller's id is echoed only when it is short and printable, so it cannot smuggle log lines.
const acceptable = /^[\w.:@/+=-]{1,128}$/;

/** Takes `X-Request-Id` from the caller or makes one, stores it on `req.id` and echoes it back. */
export function requestId(): RequestHandler {
  return (req, res, next) => {
    const given = req.get('x-request-id');
    const id = given && acceptable.test(given) ? given : randomUUID();
    req.id = id;
    res.setHeader('X-Request-Id', id);
    next();
  };
}

export const requestIdOf = (req: Request): string => req.id ?? 'unknown';
