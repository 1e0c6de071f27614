import type pg from 'pg';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signWebhook } from '../../src/lib/standard-webhooks.js';
import { createConnectUrl, relay, v2Connected } from '../helpers/flows.js';
import { bearer } from '../helpers/flows.js';
import { testDialects } from '../helpers/databases.js';
import { buildTestApp, type TestApp } from '../helpers/test-app.js';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

// Pool exhaustion is a PostgreSQL matter: SQLite has one connection and no pool to wait on.
describe.runIf(testDialects.includes('postgres'))('an exhausted PostgreSQL pool', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({ dialect: 'postgres', pool: { poolSize: 1, poolTimeoutMs: 200 }, env: { WEBHOOK_SECRETS: SECRET } });
  });
  afterAll(() => t.close());

  const signedEvent = (id: string) => {
    const body = JSON.stringify({ ...v2Connected('CONN-overload'), userId: 'busy-user' });
    const headers = signWebhook({ id, timestamp: Math.floor(Date.now() / 1000), body, secret: SECRET });
    return request(t.app).post('/events').set('Content-Type', 'application/json').set(headers as unknown as Record<string, string>).send(body);
  };

  it('when no connection becomes free in DATABASE_POOL_TIMEOUT_MS, then 503 overloaded with Retry-After, nothing written, and the same requests succeed afterwards', async () => {
    const session = await createConnectUrl(t.app, 'busy-user', { jobTypes: ['transactions'] });
    expect(session.status).toBe(201);

    let held: pg.PoolClient | undefined = await t.database.pgPool!.connect();
    try {
      const answers = [
        await signedEvent('msg_overload_1'),
        await relay(t.app, session.body.url, v2Connected('CONN-overload-relay')),
        await request(t.app).get('/connections').set('Authorization', await bearer('busy-user')),
      ];
      // The host page answers HTML: the same 503 as an error page that offers a retry.
      const u = new URL(session.body.url);
      const page = await request(t.app).get(`${u.pathname}${u.search}`);
      expect([page.status, page.headers['retry-after'], page.headers['content-type']]).toEqual([503, '1', expect.stringMatching(/^text\/html/)]);
      for (const res of answers) {
        expect(res.status).toBe(503);
        expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
        expect(res.headers['retry-after']).toBe('1');
        expect(res.body).toMatchObject({ code: 'overloaded', title: 'Service overloaded', status: 503 });
      }
    } finally {
      held.release();
      held = undefined;
    }
    expect(t.logs.lines().filter((line) => line.includes('unhandled error'))).toEqual([]);
    expect(await t.database.db.selectFrom('connections').select('id').execute()).toEqual([]);
    expect(await t.database.db.selectFrom('inbound_webhooks').select('webhook_id').execute()).toEqual([]);
    expect(await t.database.db.selectFrom('connection_events').select('seq').where('source', '!=', 'system').execute()).toEqual([]);

    const retried = await signedEvent('msg_overload_1');
    expect([retried.status, retried.body.duplicate]).toEqual([200, false]);
    const relayed = await relay(t.app, session.body.url, v2Connected('CONN-overload-relay'));
    expect([relayed.status, relayed.body.recorded]).toEqual([200, true]);
  });

  it('when POST /connect-url finds the pool busy, then 503 overloaded and no session is left behind', async () => {
    const before = await t.database.db.selectFrom('connect_sessions').select('id').execute();
    const held = await t.database.pgPool!.connect();
    try {
      const answer = await createConnectUrl(t.app, 'busy-user', { jobTypes: ['transactions'], institutionId: 'sandbox-bank' });
      expect([answer.status, answer.headers['retry-after'], answer.body.code]).toEqual([503, '1', 'overloaded']);
    } finally {
      held.release();
    }
    expect(await t.database.db.selectFrom('connect_sessions').select('id').execute()).toEqual(before);
  });
});
