import type { ErrorRequestHandler, Request, RequestHandler, Response } from 'express';
import { DatabaseOverloadedError } from '../db/database-errors.js';
import type { Logger } from '../logger.js';
import { AppError, errorTitle, type ErrorCode, type FieldError } from './errors.js';
import { requestIdOf } from './request-id.js';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  requestId: string;
  errors?: FieldError[];
}

export const problemType = (code: ErrorCode) => `urn:ucw-bff:problem:${code}`;

export function toProblem(error: AppError, requestId: string): Problem {
  return {
    type: problemType(error.code),
    title: errorTitle[error.code],
    status: error.status,
    detail: error.message,
    code: error.code,
    requestId,
    ...(error.fields ? { errors: error.fields } : {}),
  };
}

export function sendProblem(req: Request, res: Response, error: AppError): void {
  for (const [name, value] of Object.entries(error.headers)) res.setHeader(name, value);
  res.status(error.status).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(toProblem(error, requestIdOf(req))));
}

/** Errors raised by Express's own body parsers (http-errors with a `type`). */
function fromBodyParser(error: unknown): AppError | undefined {
  if (!error || typeof error !== 'object' || !('type' in error)) return undefined;
  switch (error.type) {
    case 'entity.parse.failed':
      return new AppError('malformed_json', 'The request body is not valid JSON.');
    case 'entity.too.large':
      return new AppError('payload_too_large', 'The request body is larger than this endpoint accepts.');
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new AppError('unsupported_media_type', 'The request body encoding is not supported.');
    case 'request.aborted':
      return new AppError('validation_failed', 'The request body was not received completely.');
    default:
      return undefined;
  }
}

/** The caller's-fault statuses that have a code of their own; any other 4xx is `malformed_request`. */
const CODE_OF_CLIENT_STATUS: Partial<Record<number, ErrorCode>> = {
  401: 'unauthenticated',
  403: 'forbidden',
  404: 'not_found',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'rate_limited',
};

/**
 * Errors that Express, its router or a body parser marked as the caller's fault with a 4xx
 * `status`/`statusCode` (e.g. the router's URIError for `/connect/%zz`). Their own messages may
 * quote internals, so only the status is kept.
 */
function fromClientStatus(error: unknown): AppError | undefined {
  if (!error || typeof error !== 'object') return undefined;
  const { status, statusCode } = error as { status?: unknown; statusCode?: unknown };
  const value = typeof status === 'number' ? status : statusCode;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 400 || value > 499) return undefined;
  const code = CODE_OF_CLIENT_STATUS[value];
  return code
    ? new AppError(code, `The request was refused (${value}).`, { cause: error })
    : new AppError('malformed_request', 'The request could not be understood (malformed URL, header or body).', { cause: error });
}

/** A database pool with no free connection: a 503 the client may retry shortly, not a 500. */
export function fromOverload(error: unknown): AppError | undefined {
  if (!(error instanceof DatabaseOverloadedError)) return undefined;
  return new AppError('overloaded', 'The service is busy; retry shortly.', { cause: error, headers: { 'Retry-After': '1' } });
}

/**
 * The one error renderer: every failure leaves as application/problem+json. Unknown errors
 * become a generic 500 whose body says nothing about internals; the full error is logged.
 */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error: unknown, req, res, _next) => {
    const known = error instanceof AppError ? error : (fromOverload(error) ?? fromBodyParser(error) ?? fromClientStatus(error));
    if (res.headersSent) {
      logger.error({ err: error, requestId: requestIdOf(req) }, 'error after the response started');
      res.destroy();
      return;
    }
    if (known) {
      if (known.status >= 500) logger.warn({ err: known, code: known.code, requestId: requestIdOf(req) }, known.message);
      sendProblem(req, res, known);
      return;
    }
    logger.error({ err: error, requestId: requestIdOf(req) }, 'unhandled error');
    sendProblem(req, res, new AppError('internal', 'Something went wrong on our side. Quote the requestId when reporting it.'));
  };
}

export function notFoundHandler(): RequestHandler {
  return (req, _res, next) => next(new AppError('not_found', `No route for ${req.method} ${req.path}.`));
}
