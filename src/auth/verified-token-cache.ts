import { errors as joseErrors } from 'jose';

/** What one successful verification established, and until when it may be reused. */
interface Verified {
  userId: string;
  /** The token's `exp` and `iat` (seconds), re-checked against the clock on every use. */
  exp: number;
  iat: number | undefined;
  /** Reuse ends here even if `exp` is later, so a key dropped from the IdP's JWKS stops counting soon. */
  reuseUntilMs: number;
}

export interface VerifiedTokenCacheOptions {
  clock: () => Date;
  clockToleranceSeconds: number;
  maxTokenAgeSeconds: number | undefined;
  /** Bound on remembered tokens; the oldest is forgotten first. */
  maxEntries?: number;
  /** Bound on how long one verification is reused. */
  reuseMs?: number;
}

/**
 * Remembers tokens whose signature and fixed claims (algorithm, issuer, audience, user claim,
 * `nbf`, `iat` not in the future) already passed, keyed by the token's exact text. A frontend
 * sends the same bearer token with every call for its lifetime, and a signature check
 * (WebCrypto, asynchronous) costs more than the rest of authenticating a request.
 *
 * Only what cannot change with time is remembered: `exp` and the maximum token age are checked
 * against the clock on every use, with the same tolerance and errors as jose, so a remembered
 * token expires exactly when a fresh verification would refuse it. Any change to the text (a
 * forged signature included) is a different key and goes through full verification.
 */
export function createVerifiedTokenCache(options: VerifiedTokenCacheOptions) {
  const maxEntries = options.maxEntries ?? 10_000;
  const reuseMs = options.reuseMs ?? 5 * 60_000;
  const entries = new Map<string, Verified>();

  /** Throws jose's JWTExpired when the time claims no longer hold (as jwtVerify would). */
  function assertCurrent(entry: Verified, nowMs: number): void {
    const now = Math.floor(nowMs / 1000);
    const tolerance = options.clockToleranceSeconds;
    if (entry.exp <= now - tolerance) throw new joseErrors.JWTExpired('"exp" claim timestamp check failed', { exp: entry.exp }, 'exp', 'check_failed');
    if (options.maxTokenAgeSeconds !== undefined && entry.iat !== undefined && now - entry.iat - tolerance > options.maxTokenAgeSeconds) {
      throw new joseErrors.JWTExpired('"iat" claim timestamp check failed (too far in the past)', { iat: entry.iat }, 'iat', 'check_failed');
    }
  }

  return {
    /** The user of a remembered, still-current token; undefined when it must be verified in full. */
    lookup(token: string): string | undefined {
      const entry = entries.get(token);
      if (!entry) return undefined;
      const nowMs = options.clock().getTime();
      if (nowMs >= entry.reuseUntilMs) {
        entries.delete(token);
        return undefined;
      }
      try {
        assertCurrent(entry, nowMs);
      } catch (error) {
        entries.delete(token);
        throw error;
      }
      return entry.userId;
    },

    /** Records a token that has just passed full verification. */
    remember(token: string, userId: string, claims: { exp?: unknown; iat?: unknown }): void {
      // Only tokens with numeric time claims are remembered (exp is required by the verifier anyway).
      if (typeof claims.exp !== 'number') return;
      if (entries.size >= maxEntries) entries.delete(entries.keys().next().value!);
      entries.set(token, {
        userId,
        exp: claims.exp,
        iat: typeof claims.iat === 'number' ? claims.iat : undefined,
        reuseUntilMs: options.clock().getTime() + reuseMs,
      });
    },

    get size(): number {
      return entries.size;
    },
  };
}
