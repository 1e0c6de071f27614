import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { heEncode } from './sandbox-validation.js';

/** One request as the simulator received it, so tests can assert exactly what the BFF sent upstream. */
export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, unknown>;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
}

export const AUTH_COOKIE = 'authorizationToken';

/**
 * Records every request before anything can reject it; the body is filled in once the JSON
 * parser has run (it stays undefined for bodies that are not JSON or fail to parse).
 */
export function recordRequests(requests: RecordedRequest[]): { record: RequestHandler; attachBody: RequestHandler } {
  return {
    record: (req, res, next) => {
      const recorded: RecordedRequest = {
        method: req.method,
        path: req.path,
        query: { ...(req.query as Record<string, unknown>) },
        headers: { ...req.headers },
        body: undefined,
      };
      requests.push(recorded);
      res.locals['recorded'] = recorded;
      next();
    },
    attachBody: (req, res, next) => {
      (res.locals['recorded'] as RecordedRequest).body = req.body;
      next();
    },
  };
}

/** Like the `cors` package's defaults, which the UCW uses: any origin, preflights answered 204. */
export const allowAnyOrigin: RequestHandler = (req, res, next) => {
  res.setHeader('Access-Control-Allow-Origin', '*');
  if (req.method === 'OPTIONS') {
    res.setHeader('Access-Control-Allow-Methods', 'GET,HEAD,PUT,PATCH,POST,DELETE');
    const requested = req.headers['access-control-request-headers'];
    if (requested) res.setHeader('Access-Control-Allow-Headers', requested);
    res.setHeader('Vary', 'Access-Control-Request-Headers');
    res.status(204).setHeader('Content-Length', '0').end();
    return;
  }
  next();
};

/** The UCW answers with short `text/html` bodies (Express's default for a string). */
export function sendText(res: Response, status: number, text: string): void {
  res.status(status).type('html').send(text);
}

/** A Joi message, HTML-encoded like the UCW does: 400 `&#x22;jobTypes&#x22; is required`. */
export function sendValidationError(res: Response, message: string): void {
  sendText(res, 400, heEncode(message));
}

/** Data endpoint failures are JSON `{ message }`, as the UCW's data handlers answer. */
export function sendNotFound(res: Response, message: string): void {
  res.status(404).json({ message });
}

export function readCookie(req: Request, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const index = part.indexOf('=');
    if (index > 0 && part.slice(0, index).trim() === name) {
      try {
        return decodeURIComponent(part.slice(index + 1).trim());
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

/** The widget's later calls are authorised by this cookie; its attributes are the UCW's. */
export function setAuthorizationCookie(res: Response, bearer: string): void {
  res.setHeader('Set-Cookie', `${AUTH_COOKIE}=${encodeURIComponent(bearer)}; Path=/; HttpOnly; Secure; SameSite=Strict`);
}

/** The credential of a request: the bearer header, or else the widget's cookie. */
export function presentedCredential(req: Request): string | undefined {
  const header = req.headers.authorization;
  const match = header === undefined ? null : /^Bearer\s+(.+)$/i.exec(header);
  return match?.[1]?.trim() ?? readCookie(req, AUTH_COOKIE);
}

/**
 * With authentication on, every API route needs a credential the configured check accepts.
 * Failures are 401 `Unauthorized` with no `WWW-Authenticate`, as observed.
 */
export function requireCredential(isValidBearer: ((token: string) => boolean) | undefined): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    if (!isValidBearer) return next();
    const credential = presentedCredential(req);
    let valid = false;
    try {
      valid = credential !== undefined && isValidBearer(credential);
    } catch {
      valid = false;
    }
    if (!valid) return sendText(res, 401, 'Unauthorized');
    next();
  };
}

/** Header values arrive as strings; a repeated header is joined by Node and stays one string. */
export function headerValue(req: Request, name: string): string | undefined {
  const value = req.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}
