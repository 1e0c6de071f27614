import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDialects } from '../helpers/databases.js';
import { buildTestApp, type TestApp } from '../helpers/test-app.js';

describe.each(testDialects)('operations endpoints on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({ dialect, env: { METRICS_TOKEN: 'metrics-token-0123456789' } });
  });
  afterAll(() => t.close());

  it('when the process is alive, then /healthz is 200', async () => {
    const res = await request(t.app).get('/healthz');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok' });
  });

  it('when the database answers, then /readyz is 200 and lists it', async () => {
    const res = await request(t.app).get('/readyz');
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('ready');
    expect(res.body.dependencies.database).toEqual({ status: 'up', critical: true });
  });

  it('when metrics are protected, then they need the token', async () => {
    expect((await request(t.app).get('/metrics')).status).toBe(401);
    const res = await request(t.app).get('/metrics').set('Authorization', 'Bearer metrics-token-0123456789');
    expect(res.status).toBe(200);
    expect(res.text).toContain('ucw_bff_http_request_duration_seconds');
  });
});

describe('readiness when the database is gone', () => {
  it('when the database stops answering, then /readyz is 503 and says which dependency', async () => {
    const t = await buildTestApp();
    await t.database.close();
    const res = await request(t.app).get('/readyz');
    expect(res.status).toBe(503);
    expect(res.body.status).toBe('not_ready');
    expect(res.body.dependencies.database).toMatchObject({ status: 'down', critical: true });
  });
});
