import { createHmac, timingSafeEqual } from 'node:crypto';
import { AppError } from '../http/errors.js';

/**
 * The host page URL is a capability: `?exp=<unix seconds>&sig=<HMAC>` over the session id, its
 * user and the expiry. The user id is inside the MAC, not in the URL. Signing uses the first
 * SESSION_SECRET; verification accepts any, so secrets rotate without breaking open links.
 */
export interface Capability {
  exp: number;
  sig: string;
}

const mac = (secret: string, sessionId: string, userId: string, exp: number) =>
  createHmac('sha256', secret).update(`ucw-bff.connect.v1\n${sessionId}\n${userId}\n${exp}`).digest('base64url');

export function signCapability(secrets: readonly string[], sessionId: string, userId: string, expiresAt: Date): Capability {
  const exp = Math.floor(expiresAt.getTime() / 1000);
  return { exp, sig: mac(secrets[0]!, sessionId, userId, exp) };
}

export function capabilityQuery(capability: Capability): string {
  return `exp=${capability.exp}&sig=${capability.sig}`;
}

/** Reads `exp` and `sig` from a query object; anything malformed is simply absent. */
export function readCapability(query: Record<string, unknown>): Capability | undefined {
  const { exp, sig } = query;
  if (typeof exp !== 'string' || !/^\d{1,12}$/.test(exp)) return undefined;
  if (typeof sig !== 'string' || !/^[\w-]{43}$/.test(sig)) return undefined;
  return { exp: Number(exp), sig };
}

/**
 * Throws `capability_invalid` (403) unless one of the secrets produced `sig` for this session
 * and user, and `capability_expired` (410) once `exp` has passed. The MAC is checked first, so
 * an attacker cannot learn anything from the expiry answer.
 */
export function verifyCapability(
  secrets: readonly string[],
  sessionId: string,
  userId: string,
  capability: Capability | undefined,
  now: Date,
): void {
  if (!capability) throw new AppError('capability_invalid', 'This connect link is incomplete or has been altered.');
  const given = Buffer.from(capability.sig);
  const valid = secrets.some((secret) => {
    const expected = Buffer.from(mac(secret, sessionId, userId, capability.exp));
    return expected.length === given.length && timingSafeEqual(expected, given);
  });
  if (!valid) throw new AppError('capability_invalid', 'This connect link is incomplete or has been altered.');
  if (capability.exp * 1000 <= now.getTime()) throw new AppError('capability_expired', 'This connect link has expired. Start again from the app.');
}
