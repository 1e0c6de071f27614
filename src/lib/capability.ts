import { createHmac, timingSafeEqual } from 'node:crypto';

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

/** What a capability check decided; the caller turns a refusal into its own error. */
export type CapabilityVerdict = 'valid' | 'capability_invalid' | 'capability_expired';

/**
 * `capability_invalid` unless one of the secrets produced `sig` for this session and user, and
 * `capability_expired` once `exp` has passed. The MAC is checked first, so an attacker cannot
 * learn anything from the expiry answer.
 */
export function checkCapability(
  secrets: readonly string[],
  sessionId: string,
  userId: string,
  capability: Capability | undefined,
  now: Date,
): CapabilityVerdict {
  if (!capability) return 'capability_invalid';
  const given = Buffer.from(capability.sig);
  const valid = secrets.some((secret) => {
    const expected = Buffer.from(mac(secret, sessionId, userId, capability.exp));
    return expected.length === given.length && timingSafeEqual(expected, given);
  });
  if (!valid) return 'capability_invalid';
  return capability.exp * 1000 <= now.getTime() ? 'capability_expired' : 'valid';
}
