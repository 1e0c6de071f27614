import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer } from '../helpers/flows.js';
import { testDialects } from '../helpers/databases.js';
import { untilRefused } from '../helpers/rate-limits.js';
import { buildTestApp, type TestApp } from '../helpers/test-app.js';

describe.each(testDialects)('on %s', (dialect) => {
  describe('failed authentications per client IP', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await buildTestApp({ dialect, env: { RATE_LIMIT_AUTH_FAILURES_PER_MIN: '3', TRUST_PROXY: 'true' } });
    });
    afterAll(() => t.close());

    const fromIp = (ip: string, path = '/connections') => request(t.app).get(path).set('X-Forwarded-For', ip);

    it('when an IP keeps failing authentication, then after the configured number it gets 429 with Retry-After; good tokens and other IPs are unaffected', async () => {
      const paths = ['/connections', '/me', '/connect-sessions/cs_whatever'];
      let sent = 0;
      const { admitted: failures, refused: limited } = await untilRefused(dialect, 3, () =>
        fromIp('203.0.113.7', paths[sent++ % paths.length]).set('Authorization', 'Bearer not-a-token'),
      );
      expect(failures.map((r) => r.status)).toEqual(failures.map(() => 401));
      expect([limited.status, limited.body.code]).toEqual([429, 'rate_limited']);
      expect(limited.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
      const missing = await fromIp('203.0.113.7');
      expect(missing.status).toBe(429);

      const good = await fromIp('203.0.113.7').set('Authorization', await bearer('limited-ip-user'));
      expect(good.status).toBe(200);
      const otherIp = await fromIp('198.51.100.1').set('Authorization', 'Bearer nope');
      expect(otherIp.status).toBe(401);
    });
  });

  describe('data routes per user', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await buildTestApp({ dialect, sandbox: { version: 2 }, env: { UCW_DATA_ENDPOINTS: 'true', RATE_LIMIT_DATA_PER_MIN: '2' } });
    });
    afterAll(() => t.close());

    it('when a user exceeds the data limit, then 429 with Retry-After across accounts, identity and transactions; another user is unaffected', async () => {
      const auth = await bearer('data-heavy');
      const unknown = 'conn_AAAAAAAAAAAAAAAAAAAAAA';
      const routes = [`/connections/${unknown}/accounts`, `/connections/${unknown}/identity`, `/connections/${unknown}/transactions?accountId=a`];
      let sent = 0;
      const { admitted, refused: third } = await untilRefused(dialect, 2, () => request(t.app).get(routes[sent++ % routes.length]!).set('Authorization', auth));
      expect(admitted.map((r) => r.status)).toEqual(admitted.map(() => 404));
      expect([third.status, third.body.code]).toEqual([429, 'rate_limited']);
      expect(Number(third.headers['retry-after'])).toBeGreaterThan(0);
      // The list route is not a data route.
      expect((await request(t.app).get('/connections').set('Authorization', auth)).status).toBe(200);
      const other = await request(t.app).get(`/connections/${unknown}/accounts`).set('Authorization', await bearer('data-light'));
      expect(other.status).toBe(404);
    });
  });
});
