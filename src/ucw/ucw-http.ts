/**
 * The one transport every upstream call of the UCW client goes through (UCW and the OAuth
 * token endpoint alike): an explicit total deadline, a capped body, transport failures mapped
 * to `AppError`s, a debug line per call that never carries query values or ids, and one count
 * per call in `ucw_bff_ucw_calls_total{operation,outcome}`.
 */
import { Agent, request, type Dispatcher } from '../lib/undici.js';
import { AppError } from '../http/errors.js';
import { deadline } from '../lib/deadline.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../observability/metrics.js';

/** The `operation` label of `ucw_bff_ucw_calls_total`: what a call is for, never an id. */
export type UcwOperation =
  | 'version_probe'
  | 'health_probe'
  | 'token'
  | 'widget_url'
  | 'accounts'
  | 'identity'
  | 'transactions'
  | 'delete_connection'
  | 'oauth_token';

/**
 * The `outcome` label: `ok` (2xx, or a status the call expects, like the version probe's
 * 400/404), the class of any other status (`3xx`, `4xx`, `5xx`), `timeout`, `network_error`
 * (refused, reset, DNS, TLS), or `bad_response` (an answer over the size cap).
 */
export type UcwCallOutcome = 'ok' | '3xx' | '4xx' | '5xx' | 'timeout' | 'network_error' | 'bad_response';

/** Where calls are counted: `Metrics['ucwCalls']`. */
export type UcwCallCounter = Metrics['ucwCalls'];

/** What we tell callers to wait before retrying when the upstream could not be reached. */
export const RETRY_AFTER_SECONDS = '5';

/**
 * The largest answer read from a control call (version probe, token, widget URL, delete, OAuth
 * token): each is a few hundred bytes, so anything near this is a broken or hostile upstream.
 */
export const MAX_CONTROL_BODY_BYTES = 64 * 1024;
/** Data endpoints answer real account data, but nothing legitimate comes close to this. */
export const MAX_DATA_BODY_BYTES = 16 * 1024 * 1024;
/** A widget URL is passed on to browsers (and into the host page): far beyond any real one. */
export const MAX_WIDGET_URL_LENGTH = 8 * 1024;

/**
 * A keep-alive pool for one UCW: sockets are reused across mints, and the per-phase
 * timeouts equal the total deadline so undici never waits longer than we would.
 */
export function createUcwDispatcher(timeoutMs: number): Dispatcher {
  return new Agent({
    connections: 32,
    keepAliveTimeout: 10_000,
    keepAliveMaxTimeout: 60_000,
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
    connect: { timeout: timeoutMs },
  });
}

export interface UpstreamRequest {
  dispatcher: Dispatcher;
  method: 'GET' | 'POST' | 'DELETE';
  url: URL;
  /** The route template for logs (`/api/token`, `/api/data/…/connection/:connectionId`): never ids or tokens. */
  route: string;
  headers?: Record<string, string>;
  body?: string;
  timeoutMs: number;
  logger: Logger;
  /** Names the upstream in error messages: "UCW" or "UCW token endpoint". */
  upstream: string;
  /** Largest body read before giving up with `ucw_bad_response`; default `MAX_CONTROL_BODY_BYTES`. */
  maxBodyBytes?: number;
  operation: UcwOperation;
  /** Statuses besides 2xx that are a normal answer to this call (counted `ok`). */
  expectedStatuses?: readonly number[];
  /** Counts the call by operation and outcome; absent only where nothing is scraped (unit tests). */
  calls?: UcwCallCounter;
}

export interface UpstreamResponse {
  status: number;
  contentType: string;
  /** Raw header value of Retry-After, when the upstream sent one. */
  retryAfter: string | undefined;
  text: string;
}

// Errors that mean "nobody answered": the upstream is down, unreachable or dropped the socket.
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
  'EPIPE',
  'ETIMEDOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_DESTROYED',
]);

const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT']);

// Bugs on our side (bad arguments, an unmatched mock in tests) must surface as themselves.
const PROGRAMMING_ERROR_CODES = new Set(['UND_ERR_INVALID_ARG', 'UND_MOCK_ERR_MOCK_NOT_MATCHED']);

/**
 * Sends one request and reads the whole body within `timeoutMs` (headers and body together).
 * Resolves with any HTTP status; rejects only with an `AppError` for transport failures
 * (`ucw_timeout`, `ucw_unavailable`, `ucw_bad_response` for an oversized body).
 */
export async function sendUpstream(req: UpstreamRequest): Promise<UpstreamResponse> {
  const started = performance.now();
  const { signal, clear } = deadline(req.timeoutMs);
  const logFields = { upstream: req.upstream, method: req.method, route: req.route };
  const count = (outcome: UcwCallOutcome) => req.calls?.inc({ operation: req.operation, outcome });
  try {
    const response = await request(req.url, {
      dispatcher: req.dispatcher,
      method: req.method,
      headers: req.headers,
      body: req.body,
      signal,
      headersTimeout: req.timeoutMs,
      bodyTimeout: req.timeoutMs,
    });
    const text = await readCapped(response.body, req.upstream, req.maxBodyBytes ?? MAX_CONTROL_BODY_BYTES);
    count(statusOutcome(response.statusCode, req.expectedStatuses));
    const durationMs = Math.round(performance.now() - started);
    req.logger.debug({ ...logFields, status: response.statusCode, durationMs }, 'upstream call');
    return {
      status: response.statusCode,
      contentType: headerValue(response.headers['content-type']) ?? '',
      retryAfter: headerValue(response.headers['retry-after']),
      text,
    };
  } catch (error) {
    const durationMs = Math.round(performance.now() - started);
    if (error instanceof AppError) {
      // Only readCapped throws these: the upstream answered, too much.
      count('bad_response');
      req.logger.warn({ ...logFields, durationMs, code: error.code }, 'upstream call failed');
      throw error;
    }
    const code = errorCode(error);
    if (code !== undefined && PROGRAMMING_ERROR_CODES.has(code)) throw error;
    if (signal.aborted || (code !== undefined && TIMEOUT_CODES.has(code)) || isTimeoutError(error)) {
      count('timeout');
      req.logger.warn({ ...logFields, durationMs, timeoutMs: req.timeoutMs }, 'upstream call timed out');
      throw new AppError('ucw_timeout', `The ${req.upstream} did not answer within ${req.timeoutMs} ms`, { cause: error });
    }
    // Anything else thrown before a complete answer is a transport failure (refused, reset,
    // DNS, TLS): the caller can retry later. Only the error code goes into the message; the
    // full error (host, port) is for the logs.
    count('network_error');
    req.logger.warn({ ...logFields, durationMs, errorCode: code, err: error }, 'upstream unreachable');
    const reason = code !== undefined && UNAVAILABLE_CODES.has(code) ? ` (${code})` : '';
    throw new AppError('ucw_unavailable', `The ${req.upstream} is unreachable${reason}`, {
      cause: error,
      headers: { 'Retry-After': RETRY_AFTER_SECONDS },
    });
  } finally {
    clear();
  }
}

/** Parses a 2xx JSON body; anything unparseable is the upstream's fault (`ucw_bad_response`). */
export function parseJsonBody(response: UpstreamResponse, upstream: string): unknown {
  try {
    return JSON.parse(response.text) as unknown;
  } catch (error) {
    throw new AppError('ucw_bad_response', `The ${upstream} answered ${response.status} with a body that is not JSON`, {
      cause: error,
    });
  }
}

async function readCapped(body: Dispatcher.ResponseData['body'], upstream: string, maxBytes: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
    size += buffer.length;
    if (size > maxBytes) {
      body.destroy();
      throw new AppError('ucw_bad_response', `The ${upstream} answered with a body over ${maxBytes} bytes`);
    }
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function statusOutcome(status: number, expected: readonly number[] | undefined): UcwCallOutcome {
  if ((status >= 200 && status < 300) || expected?.includes(status)) return 'ok';
  if (status >= 500) return '5xx';
  return status >= 400 ? '4xx' : '3xx';
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** The first `code` in the error, its `cause` chain, or an AggregateError's members (happy eyeballs). */
function errorCode(error: unknown, depth = 0): string | undefined {
  if (!error || typeof error !== 'object' || depth > 5) return undefined;
  const { code, cause, errors } = error as { code?: unknown; cause?: unknown; errors?: unknown };
  if (typeof code === 'string') return code;
  if (Array.isArray(errors)) {
    for (const member of errors) {
      const found = errorCode(member, depth + 1);
      if (found) return found;
    }
  }
  return errorCode(cause, depth + 1);
}

function isTimeoutError(error: unknown): boolean {
  return error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
}
