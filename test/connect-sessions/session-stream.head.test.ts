import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, createConnectUrl } from '../helpers/flows.js';
import { testDialects } from '../helpers/databases.js';
import { buildTestApp, type TestApp } from '../helpers/test-app.js';

describe.each(testDialects)('on %s', (dialect) => {
  describe('HEAD /connect-sessions/:id/stream', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await buildTestApp({ dialect });
    });
    afterAll(() => t.close());

    it('when a HEAD asks for a live session stream, then it answers 200 and ends, holding no stream open', async () => {
      const created = await createConnectUrl(t.app, 'head-user', { jobTypes: ['transactions'] });
      // Before the fix this never completed: HEAD ran the GET handler and opened an endless stream.
      const res = await request(t.app).head(`/connect-sessions/${created.body.sessionId}/stream`).set('Authorization', await bearer('head-user'));
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toBe('text/event-stream; charset=utf-8');
      expect(t.deps.streams.size).toBe(0);
    }, 5_000);
  });
});
