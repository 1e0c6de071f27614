import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import {
  cancelAnswerSchema,
  connectSessionSchema,
  connectUrlResultSchema,
  connectionListSchema,
  connectionSchema,
  problemSchema,
  readinessSchema,
  relayAnswerSchema,
} from '../src/api/response-schemas.js';
import { bearer, createConnectUrl, relay, v2Connected } from './helpers/flows.js';
import { testDialects } from './helpers/databases.js';
import { buildTestApp, type TestApp } from './helpers/test-app.js';

interface Layer {
  route?: { path: string | string[]; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
}

/** Every "METHOD /path" the Express app answers, in OpenAPI's `{param}` style. */
function appRoutes(stack: Layer[]): string[] {
  return stack.flatMap((layer) => {
    if (layer.route) {
      const paths = Array.isArray(layer.route.path) ? layer.route.path : [layer.route.path];
      return paths.flatMap((path) =>
        Object.keys(layer.route!.methods).filter((m) => m !== '_all').map((m) => `${m.toUpperCase()} ${path.replace(/:(\w+)/g, '{$1}')}`),
      );
    }
    return layer.handle?.stack ? appRoutes(layer.handle.stack) : [];
  });
}

const conforms = <T extends z.ZodType>(schema: T, body: unknown) => {
  const result = schema.safeParse(body);
  expect(result.success ? 'ok' : result.error.issues).toBe('ok');
};

describe.each(testDialects)('on %s', (dialect) => {
  describe('GET /openapi.json', () => {
    let t: TestApp;
    let doc: { openapi: string; paths: Record<string, Record<string, unknown>>; components: { securitySchemes: Record<string, { name?: string }> } };
    beforeAll(async () => {
      t = await buildTestApp({ dialect, sandbox: { version: 2 }, env: { DEV_LOGIN: 'true', AUTH_COOKIE_NAME: 'platform_session' } });
      doc = (await request(t.app).get('/openapi.json')).body;
    });
    afterAll(() => t.close());

    it('when fetched, then it is OpenAPI 3.1 and documents exactly the routes the app serves', () => {
      expect(doc.openapi).toBe('3.1.0');
      expect(doc.components.securitySchemes['cookieAuth']!.name).toBe('platform_session');
      const documented = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));
      const served = appRoutes((t.app as unknown as { router: { stack: Layer[] } }).router.stack);
      expect([...new Set(served)].sort()).toEqual([...new Set(documented)].sort());
    });

    it('when the main flow runs, then every response matches its documented schema', async () => {
      const created = await createConnectUrl(t.app, 'doc-user', { jobTypes: ['transactions'], institutionId: 'sandbox-bank' });
      conforms(connectUrlResultSchema, created.body);
      const relayed = await relay(t.app, created.body.url, v2Connected('CONN-doc', { ucpInstitutionId: 'sandbox-bank' }));
      conforms(relayAnswerSchema, relayed.body);
      const auth = await bearer('doc-user');
      conforms(connectSessionSchema, (await request(t.app).get(`/connect-sessions/${created.body.sessionId}`).set('Authorization', auth)).body);
      conforms(connectionListSchema, (await request(t.app).get('/connections').set('Authorization', auth)).body);
      conforms(connectionSchema, (await request(t.app).get(`/connections/${relayed.body.forward.metadata.connectionId}`).set('Authorization', auth)).body);
      const again = await createConnectUrl(t.app, 'doc-user', { jobTypes: ['transactions'], institutionId: 'sandbox-bank' });
      conforms(connectUrlResultSchema, again.body);
      expect(again.body.existingConnectionId).toBe(relayed.body.forward.metadata.connectionId);
      conforms(problemSchema, (await createConnectUrl(t.app, 'doc-user', { jobTypes: 'nope' })).body);
      conforms(readinessSchema, (await request(t.app).get('/readyz')).body);

      // A retryable error, then a cancel: lastError, the error field and the cancel answer.
      const third = await createConnectUrl(t.app, 'doc-user', { jobTypes: ['transactions'] });
      await relay(t.app, third.body.url, { type: 'connect/memberStatusUpdate', metadata: { aggregator: 'mx', connectionId: 'CONN-doc3', connectionStatus: 0 } });
      const errored = await relay(t.app, third.body.url, { type: 'connect/memberError', metadata: { member: { guid: 'CONN-doc3', connection_status: 2 } } });
      conforms(relayAnswerSchema, errored.body);
      expect(errored.body.forward.metadata.error).toEqual({ statusCode: 2 });
      const withError = (await request(t.app).get(`/connect-sessions/${third.body.sessionId}`).set('Authorization', auth)).body;
      conforms(connectSessionSchema, withError);
      expect(withError.lastError).toMatchObject({ statusCode: 2 });
      const u = new URL(third.body.url);
      const cancelled = await request(t.app).post(`${u.pathname}/cancel${u.search}`);
      conforms(cancelAnswerSchema, cancelled.body);
      conforms(connectSessionSchema, (await request(t.app).get(`/connect-sessions/${third.body.sessionId}`).set('Authorization', auth)).body);
    });
  });
});
