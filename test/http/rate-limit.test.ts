import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConnectUrl } from '../helpers/flows.js';
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
      for (let i = 0; i < 3; i += 1) expect((await createConnectUrl(t.app, 'greedy', { jobTypes: ['transactions'] })).status).toBe(201);
      const limited = await createConnectUrl(t.app, 'greedy', { jobTypes: ['transactions'] });
      expect(limited.status).toBe(429);
      expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(limited.body).toMatchObject({ code: 'rate_limited', status: 429 });
      expect((await createConnectUrl(t.app, 'modest', { jobTypes: ['transactions'] })).status).toBe(201);
    });

    it('when one client IP sends too many unauthenticated requests, then 429', async () => {
      const statuses: number[] = [];
      for (let i = 0; i < 6; i += 1) statuses.push((await request(t.app).get('/openapi.json')).status);
      expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
      expect((await request(t.app).get('/healthz')).status).toBe(200);
    });
  });

  describe('the per-IP limit', () => {
    it('when requests carry a made-up bearer on an unauthenticated route, then they still count', async () => {
      const t = await buildTestApp({ dialect, env: { RATE_LIMIT_IP_PER_MIN: '2' } });
      try {
        const statuses: number[] = [];
        for (let i = 0; i < 3; i += 1) statuses.push((await request(t.app).get('/openapi.json').set('Authorization', `Bearer fake-${i}`)).status);
        expect(statuses).toEqual([200, 200, 429]);
      } finally {
        await t.close();
      }
    });
  });
});
