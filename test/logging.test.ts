import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { userToken } from './helpers/jwt.js';
import { buildTestApp, type TestApp } from './helpers/test-app.js';

describe('request logging', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({ env: { AUTH_COOKIE_NAME: 'platform_session' } });
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
});
