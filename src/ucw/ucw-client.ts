/**
 * The UCW client: every call the BFF makes to the UCW (SPEC §2, §9), for both API versions.
 *
 * - v1 mints a one-time token (`GET /api/token`, only when the UCW has authentication) and
 *   assembles the widget URL itself; v2 asks `POST /widgetUrl` for it.
 * - `UCW_API_VERSION=auto` probes once with an empty `POST /widgetUrl` (v2: 400 for the missing
 *   fields, v1: 404 for the unknown route) and caches the answer; a failed probe is not cached.
 * - Each call carries the M2M bearer; a 401/403 invalidates it and retries exactly once.
 * - Every failure becomes an `AppError` (see `ucw-http.ts` for transport failures).
 */
import type { Dispatcher } from 'undici';
import { AppError } from '../http/errors.js';
import type { Logger } from '../logger.js';
import type { CredentialProvider } from './ucw-credentials.js';
import {
  MAX_DATA_BODY_BYTES,
  MAX_WIDGET_URL_LENGTH,
  RETRY_AFTER_SECONDS,
  createUcwDispatcher,
  parseJsonBody,
  sendUpstream,
  type UcwCallCounter,
  type UcwOperation,
  type UpstreamResponse,
} from './ucw-http.js';
import { ucwErrorMessage } from './ucw-message.js';
import { buildV1WidgetUrl, buildV2WidgetUrlBody, type WidgetRequest } from './ucw-widget-url.js';

export type { WidgetRequest } from './ucw-widget-url.js';

/** Identifies an aggregator connection at the UCW. `connectionId` is secret: never logged. */
export interface ConnectionRef {
  aggregator: string;
  userId: string;
  connectionId: string;
}

export interface TransactionsQuery {
  accountId: string;
  /** YYYY-MM-DD */
  startDate?: string;
  /** YYYY-MM-DD */
  endDate?: string;
}

export interface UcwCheckResult {
  ok: boolean;
  version?: 1 | 2;
  detail?: string;
}

export interface UcwClient {
  /** Mints a fresh single-use widget URL. v1: GET /api/token (only when auth != none) then assemble; v2: POST /widgetUrl. */
  mintWidgetUrl(request: WidgetRequest): Promise<string>;
  /** 1 or 2; with UCW_API_VERSION=auto detected once (concurrent callers share one probe) and cached. */
  apiVersion(): Promise<1 | 2>;
  getAccounts(ref: ConnectionRef): Promise<unknown>;
  getIdentity(ref: ConnectionRef): Promise<unknown>;
  getTransactions(ref: ConnectionRef, query: TransactionsQuery): Promise<unknown>;
  /** A UCW 404 becomes `not_found`; any 2xx is success. */
  deleteConnection(ref: ConnectionRef): Promise<void>;
  /** For /readyz: never throws; { ok, version?, detail? } within the timeout. Always contacts the UCW. */
  check(): Promise<UcwCheckResult>;
  /** Closes the keep-alive pool when this client created it (not a dispatcher passed in). */
  close(): Promise<void>;
}

export interface UcwClientOptions {
  /** The UCW's base URL; a trailing slash is ignored. */
  baseUrl: string;
  apiVersion: '1' | '2' | 'auto';
  /**
   * Deadline of each upstream call (headers and body together). One operation may make several
   * calls (version probe, token fetch, one 401 retry), so its worst case is a small multiple.
   */
  timeoutMs: number;
  credentials: CredentialProvider;
  logger: Logger;
  /** tests pass a MockAgent; default: a keep-alive undici Agent created here and closed by close() */
  dispatcher?: Dispatcher;
  /** `ucw_bff_ucw_calls_total`: every call is counted by operation and outcome. */
  calls?: UcwCallCounter;
}

export function createUcwClient(options: UcwClientOptions): UcwClient {
  return new HttpUcwClient(options);
}

const UCW = 'UCW';
const CREDENTIALS_REJECTED = "UCW rejected the BFF's credentials";

interface UcwCall {
  method: 'GET' | 'POST' | 'DELETE';
  /** Path with every segment already encoded. */
  path: string;
  /** Route template for logs: no ids, no tokens. */
  route: string;
  operation: UcwOperation;
  /** Statuses besides 2xx that answer this call normally (the version probe's 400/404). */
  expectedStatuses?: readonly number[];
  query?: Array<[string, string | undefined]>;
  headers?: Record<string, string>;
  json?: unknown;
  /** Data calls read up to `MAX_DATA_BODY_BYTES`; every other call the small control cap. */
  data?: boolean;
}

class HttpUcwClient implements UcwClient {
  readonly #baseUrl: string;
  readonly #configuredVersion: '1' | '2' | 'auto';
  readonly #timeoutMs: number;
  readonly #credentials: CredentialProvider;
  readonly #logger: Logger;
  readonly #dispatcher: Dispatcher;
  readonly #ownsDispatcher: boolean;
  readonly #calls: UcwCallCounter | undefined;
  #detectedVersion: 1 | 2 | undefined;
  #detection: Promise<1 | 2> | undefined;
  #closed: Promise<void> | undefined;

  constructor(options: UcwClientOptions) {
    const base = new URL(options.baseUrl);
    if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new TypeError('UCW base URL must be http(s)');
    this.#baseUrl = base.href.replace(/\/+$/, '');
    this.#configuredVersion = options.apiVersion;
    this.#timeoutMs = options.timeoutMs;
    this.#credentials = options.credentials;
    this.#logger = options.logger;
    this.#dispatcher = options.dispatcher ?? createUcwDispatcher(options.timeoutMs);
    this.#ownsDispatcher = options.dispatcher === undefined;
    this.#calls = options.calls;
  }

  async apiVersion(): Promise<1 | 2> {
    if (this.#configuredVersion === '1') return 1;
    if (this.#configuredVersion === '2') return 2;
    if (this.#detectedVersion !== undefined) return this.#detectedVersion;
    // Concurrent first callers share one probe; a failure clears it so the next call retries.
    this.#detection ??= this.#probeVersion('version_probe')
      .then((version) => {
        this.#detectedVersion = version;
        this.#logger.info({ version }, 'UCW API version detected');
        return version;
      })
      .finally(() => {
        this.#detection = undefined;
      });
    return this.#detection;
  }

  async mintWidgetUrl(request: WidgetRequest): Promise<string> {
    if (request.jobTypes.length === 0) throw new TypeError('mintWidgetUrl needs at least one job type');
    return (await this.apiVersion()) === 1 ? this.#mintV1(request) : this.#mintV2(request);
  }

  async getAccounts(ref: ConnectionRef): Promise<unknown> {
    return this.#connectionData(ref, 'accounts');
  }

  async getIdentity(ref: ConnectionRef): Promise<unknown> {
    return this.#connectionData(ref, 'identity');
  }

  async getTransactions(ref: ConnectionRef, query: TransactionsQuery): Promise<unknown> {
    const dates: Array<[string, string | undefined]> = [
      ['startDate', query.startDate],
      ['endDate', query.endDate],
    ];
    const call: UcwCall =
      (await this.apiVersion()) === 1
        ? {
            method: 'GET',
            path: `/api/data/aggregator/${enc(ref.aggregator)}/user/${enc(ref.userId)}/account/${enc(query.accountId)}/transactions`,
            route: '/api/data/aggregator/:aggregator/user/:userId/account/:accountId/transactions',
            operation: 'transactions',
            query: dates,
            data: true,
          }
        : {
            method: 'GET',
            path: '/api/data/transactions',
            route: '/api/data/transactions',
            operation: 'transactions',
            query: [['accountId', query.accountId], ['aggregator', ref.aggregator], ['userId', ref.userId], ...dates],
            // Optional for most aggregators but required for Plaid; harmless elsewhere.
            headers: { 'UCW-Connection-Id': ref.connectionId },
            data: true,
          };
    return this.#jsonData(call, 'transactions');
  }

  async deleteConnection(ref: ConnectionRef): Promise<void> {
    const call: UcwCall =
      (await this.apiVersion()) === 1
        ? {
            method: 'DELETE',
            path: `/api/aggregator/${enc(ref.aggregator)}/user/${enc(ref.userId)}/connection/${enc(ref.connectionId)}`,
            route: '/api/aggregator/:aggregator/user/:userId/connection/:connectionId',
            operation: 'delete_connection',
          }
        : {
            method: 'DELETE',
            path: '/api/connection',
            route: '/api/connection',
            operation: 'delete_connection',
            query: [['aggregator', ref.aggregator], ['userId', ref.userId]],
            headers: { 'UCW-Connection-Id': ref.connectionId },
          };
    const { response, bearer } = await this.#call(call);
    this.#expectSuccess(response, bearer, { call, notFound: { code: 'not_found', message: 'The UCW has no such connection' } });
  }

  async check(): Promise<UcwCheckResult> {
    let timer: NodeJS.Timeout | undefined;
    // The probe may take a token fetch plus two attempts; readiness answers within one timeout regardless.
    const deadline = new Promise<UcwCheckResult>((resolve) => {
      timer = setTimeout(() => resolve({ ok: false, detail: `The UCW did not answer within ${this.#timeoutMs} ms` }), this.#timeoutMs);
      timer.unref();
    });
    try {
      return await Promise.race([this.#checkNow(), deadline]);
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    if (!this.#ownsDispatcher) return;
    this.#closed ??= this.#dispatcher.close();
    await this.#closed;
  }

  async #checkNow(): Promise<UcwCheckResult> {
    try {
      const version = await this.#probeVersion('health_probe');
      const configured = this.#configuredVersion;
      if (configured !== 'auto' && Number(configured) !== version) {
        return { ok: false, version, detail: `The UCW answers as v${version} but UCW_API_VERSION=${configured}` };
      }
      if (configured === 'auto' && this.#detectedVersion !== version) {
        if (this.#detectedVersion !== undefined) this.#logger.warn({ from: this.#detectedVersion, to: version }, 'UCW API version changed');
        this.#detectedVersion = version;
      }
      return { ok: true, version };
    } catch (error) {
      // AppError messages are written to be shown; anything else is summarized.
      return { ok: false, detail: error instanceof AppError ? error.message : 'UCW check failed' };
    }
  }

  /** v2 answers 400 to an empty `POST /widgetUrl` (required fields missing); v1 has no such route: 404. */
  async #probeVersion(operation: 'version_probe' | 'health_probe'): Promise<1 | 2> {
    const { response } = await this.#call({
      method: 'POST',
      path: '/widgetUrl',
      route: '/widgetUrl (version probe)',
      operation,
      expectedStatuses: [400, 404],
      json: {},
    });
    if (response.status === 400) return 2;
    if (response.status === 404) return 1;
    throw new AppError(
      'ucw_bad_response',
      `Could not detect the UCW API version: POST /widgetUrl answered ${response.status} (expected 400 from v2 or 404 from v1)`,
    );
  }

  async #mintV1(request: WidgetRequest): Promise<string> {
    // Without UCW authentication there is no token endpoint (it answers 404) and no token is needed.
    if (this.#credentials.mode === 'none') return buildV1WidgetUrl(this.#baseUrl, request, undefined);
    const call: UcwCall = { method: 'GET', path: '/api/token', route: '/api/token', operation: 'token', query: [['userId', request.userId]] };
    const { response, bearer } = await this.#call(call);
    this.#expectSuccess(response, bearer, {
      call,
      notFound: {
        code: 'ucw_rejected_request',
        message: 'The UCW has no GET /api/token: it runs without authentication (set UCW_AUTH=none) or is not a v1 UCW',
      },
    });
    const body = parseJsonBody(response, UCW);
    const token = isRecord(body) ? body['token'] : undefined;
    if (typeof token !== 'string' || token.length === 0 || token.length > 512) {
      throw new AppError('ucw_bad_response', 'The UCW answered GET /api/token without a token');
    }
    return buildV1WidgetUrl(this.#baseUrl, request, token);
  }

  async #mintV2(request: WidgetRequest): Promise<string> {
    const call: UcwCall = { method: 'POST', path: '/widgetUrl', route: '/widgetUrl', operation: 'widget_url', json: buildV2WidgetUrlBody(request) };
    const { response, bearer } = await this.#call(call);
    this.#expectSuccess(response, bearer, {
      call,
      notFound: {
        code: 'ucw_rejected_request',
        message: 'The UCW has no POST /widgetUrl: it is not a v2 UCW (set UCW_API_VERSION=1 or auto)',
      },
    });
    const body = parseJsonBody(response, UCW);
    const widgetUrl = isRecord(body) ? body['widgetUrl'] : undefined;
    if (typeof widgetUrl !== 'string' || !isHttpUrl(widgetUrl)) {
      throw new AppError('ucw_bad_response', 'The UCW answered POST /widgetUrl without an http(s) widgetUrl');
    }
    if (widgetUrl.length > MAX_WIDGET_URL_LENGTH) {
      throw new AppError('ucw_bad_response', `The UCW answered POST /widgetUrl with a widgetUrl longer than ${MAX_WIDGET_URL_LENGTH} characters`);
    }
    // UCW_URL is the UCW as browsers reach it too (the host page frames only its origin), so a
    // widget URL elsewhere is refused here, for the host page and direct embed alike.
    const origin = new URL(widgetUrl).origin;
    if (origin !== new URL(this.#baseUrl).origin) {
      this.#logger.warn({ widgetOrigin: origin, ucwOrigin: new URL(this.#baseUrl).origin }, "the UCW minted a widget URL outside UCW_URL's origin");
      throw new AppError('ucw_bad_response', 'The UCW returned a widget URL on another origin than UCW_URL');
    }
    return widgetUrl;
  }

  async #connectionData(ref: ConnectionRef, kind: 'accounts' | 'identity'): Promise<unknown> {
    const call: UcwCall =
      (await this.apiVersion()) === 1
        ? {
            method: 'GET',
            path: `/api/data/aggregator/${enc(ref.aggregator)}/user/${enc(ref.userId)}/connection/${enc(ref.connectionId)}/${kind}`,
            route: `/api/data/aggregator/:aggregator/user/:userId/connection/:connectionId/${kind}`,
            operation: kind,
            data: true,
          }
        : {
            method: 'GET',
            path: `/api/data/${kind}`,
            route: `/api/data/${kind}`,
            operation: kind,
            query: [['aggregator', ref.aggregator], ['userId', ref.userId]],
            // v2 moved the connection id (for Plaid an access token) out of the URL into a header.
            headers: { 'UCW-Connection-Id': ref.connectionId },
            data: true,
          };
    return this.#jsonData(call, kind);
  }

  async #jsonData(call: UcwCall, kind: string): Promise<unknown> {
    const { response, bearer } = await this.#call(call);
    this.#expectSuccess(response, bearer, { call, notFound: { code: 'not_found', message: `The UCW has no ${kind} for this connection` } });
    const body = parseJsonBody(response, UCW);
    if (body === null || typeof body !== 'object') {
      throw new AppError('ucw_bad_response', `The UCW answered ${kind} with a JSON ${body === null ? 'null' : typeof body}, not an object`);
    }
    return body;
  }

  /**
   * Sends a call with the current bearer. A 401/403 drops that bearer and retries once with a
   * fresh one (a rotated key or an early-expired token heals itself); a second refusal, or
   * any refusal when there is no credential to refresh, is `ucw_credentials_rejected`.
   * Resolves with every other status; `bearer` lets the caller scrub it from messages.
   */
  async #call(call: UcwCall): Promise<{ response: UpstreamResponse; bearer: string | undefined }> {
    const url = new URL(`${this.#baseUrl}${call.path}${queryString(call.query)}`);
    const canRefresh = this.#credentials.mode !== 'none';
    for (let attempt = 1; ; attempt++) {
      const bearer = await this.#credentials.bearer();
      const headers: Record<string, string> = { accept: 'application/json', ...call.headers };
      if (bearer !== undefined) headers['authorization'] = `Bearer ${bearer}`;
      if (call.json !== undefined) headers['content-type'] = 'application/json';
      const response = await sendUpstream({
        dispatcher: this.#dispatcher,
        method: call.method,
        url,
        route: call.route,
        operation: call.operation,
        ...(call.expectedStatuses ? { expectedStatuses: call.expectedStatuses } : {}),
        ...(this.#calls ? { calls: this.#calls } : {}),
        headers,
        body: call.json === undefined ? undefined : JSON.stringify(call.json),
        timeoutMs: this.#timeoutMs,
        logger: this.#logger,
        upstream: UCW,
        ...(call.data ? { maxBodyBytes: MAX_DATA_BODY_BYTES } : {}),
      });
      if (response.status !== 401 && response.status !== 403) return { response, bearer };

      // The UCW's reasons ("Unexpected 'aud' value", "signature verification failed") name
      // the misconfiguration without echoing the token: worth a log line, not a user message.
      const reason = scrub(ucwErrorMessage(response.text, response.contentType), bearer);
      if (canRefresh && attempt === 1) {
        this.#logger.warn({ route: call.route, status: response.status, reason }, 'UCW refused the bearer; refreshing it once');
        if (bearer !== undefined) this.#credentials.invalidate(bearer);
        continue;
      }
      this.#logger.error(
        { route: call.route, status: response.status, reason, authMode: this.#credentials.mode },
        canRefresh ? 'UCW refused a fresh bearer too' : 'UCW requires authentication but UCW_AUTH=none',
      );
      throw new AppError('ucw_credentials_rejected', CREDENTIALS_REJECTED);
    }
  }

  /** Maps every non-2xx status (401/403 never reach here) to the AppError the caller shows. */
  #expectSuccess(
    response: UpstreamResponse,
    bearer: string | undefined,
    context: { call: UcwCall; notFound: NotFound },
  ): void {
    const { status } = response;
    if (status >= 200 && status < 300) return;
    const where = `${context.call.method} ${context.call.route}`;
    if (status === 404) throw new AppError(context.notFound.code, context.notFound.message);
    if (status === 429) {
      // Rate limited by the UCW (or a gateway in front of it): a retry later will work.
      throw new AppError('ucw_unavailable', `The UCW is rate limiting the BFF (${where})`, {
        headers: { 'Retry-After': sanitizeRetryAfter(response.retryAfter) },
      });
    }
    if (status >= 400 && status < 500) {
      const message = scrub(ucwErrorMessage(response.text, response.contentType), bearer);
      throw new AppError('ucw_rejected_request', message ? `The UCW rejected the request (${status}): ${message}` : `The UCW rejected the request (${status})`);
    }
    // 5xx, and 1xx/3xx (redirects are not followed: the UCW should not need any).
    this.#logger.warn(
      { route: context.call.route, status, body: scrub(ucwErrorMessage(response.text, response.contentType), bearer) },
      'UCW answered with an error',
    );
    throw new AppError('ucw_bad_response', `The UCW answered ${status} to ${where}`);
  }
}

/**
 * What a UCW 404 means depends on the call: on data and delete routes the connection is
 * unknown (`not_found`); on the mint routes the UCW is not the kind we were told (a misconfiguration).
 */
interface NotFound {
  code: 'not_found' | 'ucw_rejected_request';
  message: string;
}

const enc = encodeURIComponent;

function queryString(pairs: Array<[string, string | undefined]> | undefined): string {
  const present = (pairs ?? []).filter((pair): pair is [string, string] => pair[1] !== undefined);
  return present.length === 0 ? '' : `?${present.map(([name, value]) => `${enc(name)}=${enc(value)}`).join('&')}`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

/** Defence in depth: should the UCW ever echo our bearer, it must not reach a message or log. */
function scrub(text: string, secret: string | undefined): string {
  return secret && secret.length >= 8 ? text.split(secret).join('[redacted]') : text;
}

function sanitizeRetryAfter(value: string | undefined): string {
  return value !== undefined && /^\d{1,5}$/.test(value.trim()) ? value.trim() : RETRY_AFTER_SECONDS;
}
