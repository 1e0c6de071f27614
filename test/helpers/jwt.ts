import { SignJWT } from 'jose';

export const TEST_JWT_SECRET = 'test-secret-for-hs256-at-least-32-characters-long';
export const TEST_ISSUER = 'https://idp.test.example';
export const TEST_AUDIENCE = 'ucw-bff-tests';

/** A platform-user token as the test IdP would issue it; override any part to make it wrong. */
export async function userToken(
  userId: string,
  overrides: { secret?: string; issuer?: string; audience?: string; expiresIn?: string | number; claims?: Record<string, unknown> } = {},
): Promise<string> {
  let jwt = new SignJWT({ ...overrides.claims })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer(overrides.issuer ?? TEST_ISSUER)
    .setAudience(overrides.audience ?? TEST_AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(overrides.expiresIn ?? '10m');
  if (userId) jwt = jwt.setSubject(userId);
  return jwt.sign(new TextEncoder().encode(overrides.secret ?? TEST_JWT_SECRET));
}
