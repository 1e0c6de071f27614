/**
 * The closed set of error codes the BFF can answer with, each mapped to exactly one HTTP status.
 * Adding a code forces a status here, so no error can leave the service with a surprise status.
 */
export const errorStatus = {
  validation_failed: 400,
  malformed_json: 400,
  malformed_request: 400,
  unauthenticated: 401,
  invalid_signature: 401,
  forbidden: 403,
  capability_invalid: 403,
  not_found: 404,
  request_timeout: 408,
  conflict: 409,
  capability_expired: 410,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  headers_too_large: 431,
  internal: 500,
  ucw_rejected_request: 502,
  ucw_credentials_rejected: 502,
  ucw_bad_response: 502,
  ucw_unavailable: 503,
  not_ready: 503,
  overloaded: 503,
  ucw_timeout: 504,
} as const;

export type ErrorCode = keyof typeof errorStatus;

export const errorTitle: Record<ErrorCode, string> = {
  validation_failed: 'Request validation failed',
  malformed_json: 'Malformed JSON body',
  malformed_request: 'Malformed request',
  unauthenticated: 'Authentication required',
  invalid_signature: 'Invalid signature',
  forbidden: 'Forbidden',
  capability_invalid: 'Invalid connect link',
  not_found: 'Not found',
  request_timeout: 'Request timeout',
  conflict: 'Conflict',
  capability_expired: 'Connect link expired',
  payload_too_large: 'Payload too large',
  unsupported_media_type: 'Unsupported media type',
  rate_limited: 'Too many requests',
  headers_too_large: 'Request headers too large',
  internal: 'Internal server error',
  ucw_rejected_request: 'The UCW rejected the request',
  ucw_credentials_rejected: "UCW rejected the BFF's credentials",
  ucw_bad_response: 'The UCW answered with an error',
  ucw_unavailable: 'The UCW is unavailable',
  not_ready: 'Not ready',
  overloaded: 'Service overloaded',
  ucw_timeout: 'The UCW did not answer in time',
};

export interface FieldError {
  /** Dotted path of the offending field, e.g. `jobTypes.1` or `userId`. */
  field: string;
  message: string;
}

export interface AppErrorOptions {
  cause?: unknown;
  fields?: FieldError[];
  /** Extra response headers, e.g. `Retry-After` or `WWW-Authenticate`. */
  headers?: Record<string, string>;
}

/** An error whose code, message and headers are safe to show to the caller. */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly fields: FieldError[] | undefined;
  readonly headers: Record<string, string>;

  constructor(code: ErrorCode, message: string, options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.fields = options.fields;
    this.headers = options.headers ?? {};
  }

  get status(): number {
    return errorStatus[this.code];
  }
}

export const isAppError = (error: unknown): error is AppError => error instanceof AppError;
