import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { userToken } from './helpers/jwt.js';
import { testDialects } from './helpers/databases.js';
import { buildTestApp, type TestApp } from './helpers/test-app.js';

describe.each(testDialects)('on %s', (dialect) => {
  describe('request logging', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await buildTestApp({ dialect, env: { AUTH_COOKIE_NAME: 'platform_session' } });
    });
    afterAll(() => t.close());

    it('when requests carry tokens, cookies and signatures, then no log line contains them', async () => {
      const token = await userToken('user-7');
      await request(t.app).get('/me').set('Authorization', `Bearer ${token}`).set('X-Request-Id', 'log-test-1');
      await request(t.app).get('/me').set('Cookie', `platform_session=${token}`);
      await request(t.app).get('/connect/cs_x?sig=SECRETSIG123&exp=1').set('webhook-signature', 'v1,SIGVALUE');

      const text = t.logs.text();
      expect(text).toContain('log-test-1');
      expect(text).toContain('"path":"/connect/cs_x"');
      for (const secret of [token, token.split('.')[2]!, 'SECRETSIG123', 'SIGVALUE', 'platform_session=']) {
        expect(text).not.toContain(secret);
      }
    });

    it('when a log line holds secret-named fields, then they are redacted', () => {
      t.logs.logger.info({ event: { member_guid: 'MBR-SECRET', token: 'tok-SECRET', connectionId: 'PLAID-ACCESS-SECRET' } }, 'probe');
      const line = t.logs.lines().find((l) => l.includes('"probe"'))!;
      expect(line).toContain('[redacted]');
      expect(line).not.toMatch(/MBR-SECRET|tok-SECRET|PLAID-ACCESS-SECRET/);
    });

    it('when secret-named fields sit at any depth, in arrays, errors or child bindings, then they are redacted', () => {
      const error = Object.assign(new Error('upstream failed'), {
        config: { headers: { Authorization: 'Bearer DEEP-AUTH-SECRET', 'UCW-Connection-Id': 'DEEP-HEADER-CONN' } },
        cause: { response: { access_token: 'DEEP-CAUSE-TOKEN' } },
      });
      const child = t.logs.logger.child({ upstream: { credentials: { client_secret: 'DEEP-CHILD-SECRET' } } });
      child.warn(
        {
          a: { b: { c: { d: { member_guid: 'DEEP-MBR', user_guid: 'DEEP-USR' } } } },
          list: [{ nested: [{ aggregatorConnectionId: 'DEEP-AGG-CONN', aggregatorUserId: 'DEEP-AGG-USER' }] }],
          request: { headers: { cookie: 'DEEP-COOKIE', 'set-cookie': ['DEEP-SET-COOKIE'], 'webhook-signature': 'v1,DEEP-SIG', 'x-ucw-capability': 'DEEP-CAP' } },
          outer: { refreshToken: 'DEEP-REFRESH', idToken: 'DEEP-ID-TOKEN', password: 'DEEP-PASSWORD', apiKey: 'DEEP-API-KEY', sig: 'DEEP-QUERY-SIG' },
          err: error,
          kept: { userId: 'visible-user', route: '/api/token', status: 502, tokenLifetimeSeconds: 300 },
        },
        'deep probe',
      );
      const line = t.logs.lines().find((l) => l.includes('"deep probe"'))!;
      expect(line).not.toMatch(/DEEP-[A-Z-]+/);
      const parsed = JSON.parse(line);
      expect(parsed.a.b.c.d).toEqual({ member_guid: '[redacted]', user_guid: '[redacted]' });
      expect(parsed.err).toMatchObject({ type: 'Error', message: 'upstream failed' });
      expect(parsed.err.config.headers.Authorization).toBe('[redacted]');
      expect(parsed.kept).toEqual({ userId: 'visible-user', route: '/api/token', status: 502, tokenLifetimeSeconds: 300 });
    });

    it('when a logged object is cyclic or nests very deep, then the line is still written', () => {
      const cyclic: Record<string, unknown> = { name: 'loop' };
      cyclic.self = cyclic;
      let deep: Record<string, unknown> = { token: 'DEEPEST-TOKEN' };
      for (let i = 0; i < 5_000; i++) deep = { next: deep };
      t.logs.logger.info({ cyclic, deep }, 'odd shapes');
      const line = t.logs.lines().find((l) => l.includes('"odd shapes"'))!;
      expect(line).toBeDefined();
      expect(line).not.toContain('DEEPEST-TOKEN');
    });
  });
});
