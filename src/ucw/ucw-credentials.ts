/**
 * The BFF's machine-to-machine credential for the UCW (SPEC §4).
 *
 * - `none`: the UCW runs without authentication; no header is sent.
 * - `static`: a long-lived bearer from the environment; nothing to refresh.
 * - `client_credentials`: an OAuth 2.0 access token fetched from the token endpoint, cached
 *   until shortly before it expires. Concurrent callers share one in-flight fetch, and
 *   `invalidate(token)` only drops the cache when it still holds that very token, so N requests
 *   failing with 401 at once cause one refresh, not N.
 *
 * Secrets (client secret, access tokens) never appear in error messages or logs.
 */
import { getGlobalDispatcher, type Dispatcher } from '../lib/undici.js';
import type { Config } from '../config.js';
import { AppError } from '../http/errors.js';
import type { Logger } from '../logger.js';
import { RETRY_AFTER_SECONDS, parseJsonBody, sendUpstream, type UcwCallCounter } from './ucw-http.js';
import { ucwErrorMessage } from './ucw-message.js';

export interface CredentialProvider {
  /** undefined when auth is none */
  bearer(): Promise<string | undefined>;
  /** drop the cached token (called after a UCW 401); next bearer() refetches */
  invalidate(failedToken: string): void;
  readonly mode: 'none' | 'static' | 'client_credentials';
}

export interface CredentialProviderOptions {
  timeoutMs: number;
  /** Defaults to undici's global dispatcher (keep-alive); tokens are fetched rarely. */
  dispatcher?: Dispatcher;
  logger: Logger;
  /** Clock in epoch milliseconds; injectable so tests can age a token. */
  now?: () => number;
  /** `ucw_bff_ucw_calls_total`: token fetches count as `operation="oauth_token"`. */
  calls?: UcwCallCounter;
}

/** Refresh this long before expiry at most… */
export const REFRESH_MARGIN_MS = 30_000;
/** …and at most this share of the lifetime, so short-lived tokens are still used. */
export const REFRESH_MARGIN_RATIO = 0.1;
/** When the token endpoint says nothing about the lifetime and the token is not a JWT. */
export const DEFAULT_TOKEN_LIFETIME_MS = 5 * 60_000;

const TOKEN_UPSTREAM = 'UCW token endpoint';

export function createCredentialProvider(
  auth: Config['ucw']['auth'],
  options: CredentialProviderOptions,
): CredentialProvider {
  switch (auth.mode) {
    case 'none':
      return { mode: 'none', bearer: async () => undefined, invalidate: () => {} };
    case 'static': {
      const token = auth.bearerToken;
      // Nothing to refresh: the client still retries once, then reports the credentials.
      return { mode: 'static', bearer: async () => token, invalidate: () => {} };
    }
    case 'client_credentials':
      return new ClientCredentialsProvider(auth, options);
  }
}

type ClientCredentialsAuth = Extract<Config['ucw']['auth'], { mode: 'client_credentials' }>;

interface CachedToken {
  token: string;
  /** Epoch ms after which we fetch a new one (expiry minus the margin). */
  refreshAt: number;
}

class ClientCredentialsProvider implements CredentialProvider {
  readonly mode = 'client_credentials' as const;
  readonly #auth: ClientCredentialsAuth;
  readonly #options: CredentialProviderOptions;
  readonly #now: () => number;
  #cached: CachedToken | undefined;
  #inFlight: Promise<string> | undefined;

  constructor(auth: ClientCredentialsAuth, options: CredentialProviderOptions) {
    this.#auth = auth;
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  async bearer(): Promise<string> {
    const cached = this.#cached;
    if (cached && this.#now() < cached.refreshAt) return cached.token;
    if (!this.#inFlight) {
      // A failed fetch is not cached: the next caller tries again.
      this.#inFlight = this.#fetch().finally(() => {
        this.#inFlight = undefined;
      });
    }
    return this.#inFlight;
  }

  invalidate(failedToken: string): void {
    if (this.#cached?.token === failedToken) this.#cached = undefined;
  }

  async #fetch(): Promise<string> {
    const requestedAt = this.#now();
    const url = new URL(this.#auth.tokenUrl);
    const form = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: this.#auth.clientId,
      client_secret: this.#auth.clientSecret,
    });
    if (this.#auth.audience) form.set('audience', this.#auth.audience);
    if (this.#auth.scope) form.set('scope', this.#auth.scope);

    const response = await sendUpstream({
      dispatcher: this.#options.dispatcher ?? getGlobalDispatcher(),
      method: 'POST',
      url,
      route: url.pathname,
      operation: 'oauth_token',
      ...(this.#options.calls ? { calls: this.#options.calls } : {}),
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: form.toString(),
      timeoutMs: this.#options.timeoutMs,
      logger: this.#options.logger,
      upstream: TOKEN_UPSTREAM,
    });

    if (response.status >= 400 && response.status < 500) {
      // RFC 6749 §5.2: `error` is a fixed code such as invalid_client; safe to show.
      // `error_description` is free text and only goes to the logs.
      const oauthError = oauthErrorCode(response.text);
      this.#options.logger.warn(
        // A careless endpoint may echo the submitted secret in its description.
        { status: response.status, oauthError, description: ucwErrorMessage(response.text, response.contentType).split(this.#auth.clientSecret).join('[redacted]') },
        'UCW token endpoint rejected the client credentials',
      );
      throw new AppError(
        'ucw_credentials_rejected',
        `The UCW token endpoint rejected the BFF's client credentials (${response.status}${oauthError ? ` ${oauthError}` : ''})`,
      );
    }
    if (response.status >= 500) {
      throw new AppError('ucw_unavailable', `The UCW token endpoint answered ${response.status}`, {
        headers: { 'Retry-After': RETRY_AFTER_SECONDS },
      });
    }
    if (response.status < 200 || response.status >= 300) {
      throw new AppError('ucw_bad_response', `The UCW token endpoint answered ${response.status}`);
    }

    const { token, lifetimeMs } = readTokenResponse(response.text, response.contentType, response.status, requestedAt);
    const margin = Math.min(REFRESH_MARGIN_MS, lifetimeMs * REFRESH_MARGIN_RATIO);
    this.#cached = { token, refreshAt: requestedAt + lifetimeMs - margin };
    this.#options.logger.debug({ lifetimeSeconds: Math.round(lifetimeMs / 1000) }, 'UCW access token fetched');
    return token;
  }
}

/** Accepts the standard JSON answer and, leniently, a form-encoded one (some older servers). */
function readTokenResponse(text: string, contentType: string, status: number, now: number): { token: string; lifetimeMs: number } {
  let fields: Record<string, unknown>;
  if (contentType.includes('application/x-www-form-urlencoded')) {
    fields = Object.fromEntries(new URLSearchParams(text));
  } else {
    const parsed = parseJsonBody({ status, contentType, retryAfter: undefined, text }, TOKEN_UPSTREAM);
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new AppError('ucw_bad_response', 'The UCW token endpoint answered without an access_token');
    }
    fields = parsed as Record<string, unknown>;
  }
  const token = fields['access_token'];
  if (typeof token !== 'string' || token.length === 0 || /[\s"\\]/.test(token)) {
    throw new AppError('ucw_bad_response', 'The UCW token endpoint answered without a usable access_token');
  }
  const tokenType = fields['token_type'];
  if (tokenType !== undefined && String(tokenType).toLowerCase() !== 'bearer') {
    throw new AppError('ucw_bad_response', `The UCW token endpoint issued a "${String(tokenType).slice(0, 20)}" token, not a bearer token`);
  }
  const expiresIn = Number(fields['expires_in']);
  const lifetimeMs =
    Number.isFinite(expiresIn) && expiresIn > 0 ? expiresIn * 1000 : (jwtLifetimeMs(token, now) ?? DEFAULT_TOKEN_LIFETIME_MS);
  return { token, lifetimeMs };
}

/** `expires_in` is optional (RFC 6749 §5.1); a JWT's own `exp` is the next best source. */
function jwtLifetimeMs(token: string, now: number): number | undefined {
  const payload = token.split('.')[1];
  if (!payload) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { exp?: unknown };
    if (typeof claims.exp !== 'number') return undefined;
    const remaining = claims.exp * 1000 - now;
    return remaining > 0 ? remaining : undefined;
  } catch {
    return undefined;
  }
}

function oauthErrorCode(text: string): string | undefined {
  try {
    const parsed = JSON.parse(text) as { error?: unknown };
    // Only the RFC's charset: a code, not free text that might echo something.
    return typeof parsed.error === 'string' && /^[\w.-]{1,64}$/.test(parsed.error) ? parsed.error : undefined;
  } catch {
    return undefined;
  }
}
