import { randomBytes } from 'node:crypto';
import { Router } from 'express';
import { jwtVerify, SignJWT } from 'jose';
import { z } from 'zod';
import { jsonBody } from '../http/json-body.js';
import { parseOr400 } from '../http/validate.js';

const ISSUER = 'ucw-bff-dev-login';
const AUDIENCE = 'ucw-bff-dev';

/**
 * DEVELOPMENT ONLY. A sign-in that trusts whatever user id it is given, so a newcomer can try
 * the flow without an identity provider. The key lives in process memory, so its tokens die
 * with the process. createApp refuses to mount it when NODE_ENV=production.
 */
export interface DevLogin {
  issue(userId: string): Promise<string>;
  /** A plain function (no `this`): the composition root passes it on as a verifier. */
  verify: (token: string) => Promise<string>;
  router(options: { cookieName: string; secureCookie: boolean; bodyLimitBytes: number }): Router;
}

export function createDevLogin(): DevLogin {
  const key = randomBytes(32);
  const issue = (userId: string) =>
    new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(userId)
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt()
      .setExpirationTime('8h')
      .sign(key);
  const verify = async (token: string) => {
    const { payload } = await jwtVerify(token, key, { issuer: ISSUER, audience: AUDIENCE, algorithms: ['HS256'] });
    return payload.sub!;
  };
  const body = z.strictObject({ userId: z.string().trim().min(1).max(128).regex(/^[\w.@:-]+$/, 'letters, digits and _ . @ : - only') });

  return {
    issue,
    verify,
    router({ cookieName, secureCookie, bodyLimitBytes }) {
      const router = Router();
      router.post('/dev/login', ...jsonBody(bodyLimitBytes), async (req, res) => {
        const { userId } = parseOr400(body, req.body);
        const token = await issue(userId);
        res.cookie(cookieName, token, { httpOnly: true, sameSite: 'lax', secure: secureCookie, path: '/', maxAge: 8 * 3600_000 });
        res.status(200).json({ userId, token, warning: 'Development login: never enabled in production.' });
      });
      router.post('/dev/logout', (_req, res) => {
        res.clearCookie(cookieName, { path: '/' });
        res.status(204).end();
      });
      return router;
    },
  };
}
