import { errors as joseErrors, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { platformVerifier } from '../../src/auth/user-auth.js';
import { createVerifiedTokenCache } from '../../src/auth/verified-token-cache.js';
import type { Config } from '../../src/config.js';

const SECRET = 'verified-token-cache-test-secret-at-least-32-chars';
const auth = (maxTokenAgeSeconds?: number): Config['auth'] => ({
  jwksUrl: undefined,
  jwtSecret: SECRET,
  issuer: 'https://issuer.test',
  audience: 'ucw-bff',
  userClaim: 'sub',
  maxTokenAgeSeconds,
  cookieName: 'auth',
  devLogin: false,
});
const START = Date.UTC(2026, 11, 1, 12, 0, 0);
const sign = (claims: { sub: string; iat: number; exp: number }) =>
  new SignJWT({ ...claims, iss: 'https://issuer.test', aud: 'ucw-bff' }).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(SECRET));
const movableClock = () => {
  let now = START;
  return { clock: () => new Date(now), advance: (ms: number) => (now += ms) };
};

describe('platform verifier with remembered tokens', () => {
  it('when a remembered token passes its exp (beyond the tolerance), then it is refused as expired, as a fresh verification would', async () => {
    const time = movableClock();
    const verify = platformVerifier(auth(), time.clock)!;
    const token = await sign({ sub: 'u1', iat: START / 1000, exp: START / 1000 + 60 });
    await expect(verify(token)).resolves.toBe('u1');
    time.advance(64_000); // exp + 4 s: inside the 5 s tolerance
    await expect(verify(token)).resolves.toBe('u1');
    time.advance(2_000); // exp + 6 s
    await expect(verify(token)).rejects.toBeInstanceOf(joseErrors.JWTExpired);
  });

  it('when AUTH_MAX_TOKEN_AGE_SECONDS is set, then a remembered token is refused once it is older than that', async () => {
    const time = movableClock();
    const verify = platformVerifier(auth(120), time.clock)!;
    const token = await sign({ sub: 'u2', iat: START / 1000, exp: START / 1000 + 3_600 });
    await expect(verify(token)).resolves.toBe('u2');
    time.advance(124_000);
    await expect(verify(token)).resolves.toBe('u2');
    time.advance(2_000);
    await expect(verify(token)).rejects.toBeInstanceOf(joseErrors.JWTExpired);
  });

  it('when a remembered token is altered (another signature, another payload), then the alteration is verified in full and refused', async () => {
    const time = movableClock();
    const verify = platformVerifier(auth(), time.clock)!;
    const token = await sign({ sub: 'u3', iat: START / 1000, exp: START / 1000 + 600 });
    await expect(verify(token)).resolves.toBe('u3');
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const otherSignature = `${header}.${payload}.${signature.slice(0, -2)}${signature.endsWith('AA') ? 'BB' : 'AA'}`;
    const forgedPayload = `${header}.${Buffer.from(JSON.stringify({ sub: 'admin', iss: 'https://issuer.test', aud: 'ucw-bff', exp: START / 1000 + 600 })).toString('base64url')}.${signature}`;
    await expect(verify(otherSignature)).rejects.toThrow();
    await expect(verify(forgedPayload)).rejects.toThrow();
    await expect(verify(token)).resolves.toBe('u3');
  });
});

describe('createVerifiedTokenCache', () => {
  it('when the reuse bound passes, then the token is no longer known (the next use verifies it in full)', () => {
    const time = movableClock();
    const cache = createVerifiedTokenCache({ clock: time.clock, clockToleranceSeconds: 5, maxTokenAgeSeconds: undefined, reuseMs: 1_000 });
    cache.remember('t', 'u', { exp: START / 1000 + 3_600, iat: START / 1000 });
    expect(cache.lookup('t')).toBe('u');
    time.advance(1_000);
    expect(cache.lookup('t')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('when more tokens than the bound are remembered, then the oldest is forgotten first', () => {
    const cache = createVerifiedTokenCache({ clock: movableClock().clock, clockToleranceSeconds: 5, maxTokenAgeSeconds: undefined, maxEntries: 2 });
    for (const t of ['a', 'b', 'c']) cache.remember(t, `user-${t}`, { exp: START / 1000 + 60 });
    expect([cache.lookup('a'), cache.lookup('b'), cache.lookup('c'), cache.size]).toEqual([undefined, 'user-b', 'user-c', 2]);
  });

  it('when a token has no numeric exp, then it is not remembered', () => {
    const cache = createVerifiedTokenCache({ clock: movableClock().clock, clockToleranceSeconds: 5, maxTokenAgeSeconds: undefined });
    cache.remember('t', 'u', { exp: '9999999999' });
    expect(cache.lookup('t')).toBeUndefined();
  });
});
