import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConnectUrl } from '../helpers/flows.js';
import { untilRefused } from '../helpers/rate-limits.js';
import { testDialects } from '../helpers/databases.js';
import { buildTestApp, type TestApp } from '../helpers/test-app.js';

describe.each(testDialects)('on %s', (dialect) => {
  describe('rate limits', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await buildTestApp({ dialect, env: { RATE_LIMIT_CONNECT_URL_PER_MIN: '3', RATE_LIMIT_IP_PER_MIN: '5' } });
    });
    afterAll(() => t.close());

    it('when one user asks for more connect URLs than allowed, then 429 with Retry-After, and other users are unaffected', async () => {
      const { admitted, refused: limited } = await untilRefused(dialect, 3, () => createConnectUrl(t.app, 'greedy', { jobTypes: ['transactions'] }));
      expect(admitted.map((res) => res.status)).toEqual(admitted.map(() => 201));
      expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(limited.body).toMatchObject({ code: 'rate_limited', status: 429 });
      expect((await createConnectUrl(t.app, 'modest', { jobTypes: ['transactions'] })).status).toBe(201);
    });

    it('when one client IP sends too many unauthenticated requests, then 429', async () => {
      const { admitted } = await untilRefused(dialect, 5, () => request(t.app).get('/openapi.json'));
      expect(admitted.map((res) => res.status)).toEqual(admitted.map(() => 200));
      expect((await request(t.app).get('/healthz')).status).toBe(200);
    });
  });

  describe('the per-IP limit', () => {
    it('when requests carry a made-up bearer on an unauthenticated route, then they still count', async () => {
      const t = await buildTestApp({ dialect, env: { RATE_LIMIT_IP_PER_MIN: '2' } });
      try {
        let i = 0;
        const { admitted } = await untilRefused(dialect, 2, () => request(t.app).get('/openapi.json').set('Authorization', `Bearer fake-${(i += 1)}`));
        expect(admitted.map((res) => res.status)).toEqual(admitted.map(() => 200));
      } finally {
        await t.close();
      }
    });
  });
});
