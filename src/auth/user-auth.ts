import type { Request, RequestHandler } from 'express';
import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { Config } from '../config.js';
import { AppError } from '../http/errors.js';
import { cookieValue } from '../lib/cookies.js';
import { hasControlCharacters } from '../lib/identifiers.js';
import { createVerifiedTokenCache } from './verified-token-cache.js';

export interface AuthenticatedUser {
  id: string;
  via: 'bearer' | 'cookie';
}

/** Verifies one kind of token; returns the user id or throws a jose error. */
type Verifier = (token: string) => Promise<string>;

export interface UserAuth {
  /** Resolves the platform user of a request, or throws a 401 AppError. */
  authenticate(req: Request): Promise<AuthenticatedUser>;
}

function claimAsUserId(payload: JWTPayload, claim: string): string {
  const value = payload[claim];
  // The id is stored, logged and sent to the UCW: a newline or NUL in it is never legitimate.
  if (typeof value === 'string' && value.length > 0 && value.length <= 256 && !hasControlCharacters(value)) return value;
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
  throw new joseErrors.JWTClaimValidationFailed(`missing "${claim}" claim`, payload, claim, 'missing');
}

/** Seconds of clock skew tolerated between the platform IdP and this service. */
export const CLOCK_TOLERANCE_SECONDS = 5;

/**
 * jose checks `iat` against the present only when a maximum age is set; a token minted "in the
 * future" (a skewed or compromised issuer) is refused here in every configuration.
 */
function assertIssuedInThePast(payload: JWTPayload, now: number): void {
  if (typeof payload.iat === 'number' && payload.iat > now / 1000 + CLOCK_TOLERANCE_SECONDS) {
    throw new joseErrors.JWTClaimValidationFailed('"iat" claim is in the future', payload, 'iat', 'check_failed');
  }
}

/** The production verifier: the platform IdP's JWKS (RS/ES/PS/EdDSA) or a shared HS256 secret. */
export function platformVerifier(auth: Config['auth'], clock: () => Date = () => new Date()): Verifier | undefined {
  // `exp` is required: a token without one would never expire. jose refuses `nbf` beyond the
  // tolerance, and with a maximum age it requires `iat` and refuses older tokens.
  const options = () => ({
    ...(auth.issuer ? { issuer: auth.issuer } : {}),
    ...(auth.audience ? { audience: auth.audience } : {}),
    ...(auth.maxTokenAgeSeconds !== undefined ? { maxTokenAge: auth.maxTokenAgeSeconds } : {}),
    requiredClaims: ['exp'],
    clockTolerance: CLOCK_TOLERANCE_SECONDS,
    currentDate: clock(),
  });
  const userOf = (payload: JWTPayload) => {
    assertIssuedInThePast(payload, clock().getTime());
    return claimAsUserId(payload, auth.userClaim);
  };
  const verified = createVerifiedTokenCache({ clock, clockToleranceSeconds: CLOCK_TOLERANCE_SECONDS, maxTokenAgeSeconds: auth.maxTokenAgeSeconds });
  /** Full verification once per token text; later uses re-check only the time claims. */
  const remembering =
    (verify: (token: string) => Promise<JWTPayload>): Verifier =>
    async (token) => {
      const known = verified.lookup(token);
      if (known !== undefined) return known;
      const payload = await verify(token);
      const userId = userOf(payload);
      verified.remember(token, userId, payload);
      return userId;
    };
  if (auth.jwksUrl) {
    const jwks: JWTVerifyGetKey = createRemoteJWKSet(new URL(auth.jwksUrl), { timeoutDuration: 5_000, cooldownDuration: 30_000 });
    const algorithms = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];
    return remembering(async (token) => (await jwtVerify(token, jwks, { ...options(), algorithms })).payload);
  }
  if (auth.jwtSecret) {
    // Imported once: given raw bytes, jose would import the same WebCrypto key on every request.
    const key = crypto.subtle.importKey('raw', new TextEncoder().encode(auth.jwtSecret), { name: 'HMAC', hash: 'SHA-256' }, false, ['verify']);
    return remembering(async (token) => (await jwtVerify(token, await key, { ...options(), algorithms: ['HS256'] })).payload);
  }
  return undefined;
}

function bearerToken(req: Request): string | undefined {
  const header = req.get('authorization');
  if (!header) return undefined;
  const match = /^Bearer ([\w.~+/-]+=*)$/i.exec(header.trim());
  return match?.[1] ?? '';
}

function challenge(detail: string, tokenGiven: boolean): AppError {
  const error = tokenGiven ? ', error="invalid_token"' : '';
  return new AppError('unauthenticated', detail, { headers: { 'WWW-Authenticate': `Bearer realm="ucw-bff"${error}` } });
}

/**
 * Authenticates the platform user from `Authorization: Bearer` or the auth cookie. `verifiers`
 * are tried in order (the platform IdP, then the dev login when it is enabled).
 */
export function createUserAuth(cookieName: string, verifiers: readonly Verifier[]): UserAuth {
  return {
    async authenticate(req) {
      const fromHeader = bearerToken(req);
      const fromCookie = fromHeader === undefined ? cookieValue(req.headers.cookie, cookieName) : undefined;
      const token = fromHeader ?? fromCookie;
      const via = fromHeader !== undefined ? 'bearer' : 'cookie';
      if (!token) throw challenge('Sign in first: send a bearer token or the auth cookie.', fromHeader !== undefined);
      let expired = false;
      for (const verify of verifiers) {
        try {
          return { id: await verify(token), via };
        } catch (error) {
          if (error instanceof joseErrors.JWTExpired) expired = true;
        }
      }
      throw challenge(expired ? 'The access token has expired.' : 'The access token is not valid.', true);
    },
  };
}

/**
 * Authenticates a request and sets `req.user`. Cookie-authenticated state changes must also
 * come from an allowed Origin: the cookie is ambient, so that is what stops cross-site forgery.
 */
export function userAuthenticator(
  auth: UserAuth,
  trustedOrigins: readonly string[],
  /** Counts each failed authentication (per client IP); its error (a 429) replaces the 401. */
  failureLimit?: RequestHandler,
): (req: Request) => Promise<void> {
  const trusted = new Set(trustedOrigins);
  const countFailure = (req: Request): Promise<unknown> =>
    failureLimit ? new Promise((resolve) => failureLimit(req, req.res!, resolve)) : Promise.resolve(undefined);
  return async (req) => {
    let user: AuthenticatedUser;
    try {
      user = await auth.authenticate(req);
    } catch (error) {
      const limited = await countFailure(req);
      throw limited ?? error;
    }
    if (user.via === 'cookie' && !['GET', 'HEAD', 'OPTIONS'].includes(req.method)) {
      const origin = req.get('origin') ?? refererOrigin(req.get('referer'));
      if (!origin || !trusted.has(origin)) {
        throw new AppError('forbidden', 'Cross-site request refused: the Origin is not an allowed frontend origin.');
      }
    }
    req.user = user;
  };
}

/** Middleware form of `userAuthenticator`: the route runs only for an authenticated user. */
export function requireUser(authenticate: (req: Request) => Promise<void>): RequestHandler {
  return async (req, _res, next) => {
    await authenticate(req);
    next();
  };
}

function refererOrigin(referer: string | undefined): string | undefined {
  if (!referer) return undefined;
  try {
    return new URL(referer).origin;
  } catch {
    return undefined;
  }
}
