import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signWebhook } from '../../src/lib/standard-webhooks.js';
import { testDialects } from '../helpers/databases.js';
import { bearer, createConnectUrl } from '../helpers/flows.js';
import { buildTestApp, type TestApp } from '../helpers/test-app.js';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const DEPTH_DETAIL = 'The JSON body nests deeper than 32 levels.';
const WIDTH_DETAIL = 'The JSON body has more than 1000 members and array elements.';

/** `{"a":{"a":…}}` nested `depth` levels as text (never built as an object, so any depth is cheap). */
const deepText = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
const deepMetadataEvent = (depth: number) => `{"type":"connect/memberConnected","metadata":${deepText(depth)}}`;
const wideMetadataEvent = (width: number) =>
  JSON.stringify({ type: 'connect/memberConnected', metadata: { list: new Array(width).fill(0) } });

describe.each(testDialects)('JSON shape limits at the edge on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({ dialect, env: { DEV_LOGIN: 'true', WEBHOOK_SECRETS: SECRET } });
  });
  afterAll(() => t.close());

  const expectLimitProblem = (res: request.Response, detail: string) => {
    expect(res.status).toBe(413);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({ code: 'payload_too_large', status: 413, detail });
  };
  const eventCount = async () => Number((await t.database.db.selectFrom('connection_events').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);

  it('when a relayed event nests 5,000 levels, then 413 naming the depth limit and nothing is recorded', async () => {
    const created = await createConnectUrl(t.app, 'deep-relay', { jobTypes: ['transactions'] });
    const url = new URL(created.body.url);
    const before = await eventCount();
    const res = await request(t.app).post(`${url.pathname}/events${url.search}`).set('Content-Type', 'application/json').send(deepMetadataEvent(5_000));
    expectLimitProblem(res, DEPTH_DETAIL);
    expect(await eventCount()).toBe(before);
  });

  it('when a relayed event nests 33 levels, then 413; at 30 levels in metadata it is recorded', async () => {
    const created = await createConnectUrl(t.app, 'deep-relay-2', { jobTypes: ['transactions'] });
    const url = new URL(created.body.url);
    const path = `${url.pathname}/events${url.search}`;
    expectLimitProblem(await request(t.app).post(path).set('Content-Type', 'application/json').send(deepMetadataEvent(32)), DEPTH_DETAIL);
    const ok = await request(t.app).post(path).set('Content-Type', 'application/json').send(deepMetadataEvent(30));
    expect(ok.status).toBe(200);
    expect(ok.body.recorded).toBe(true);
  });

  it('when a relayed event has 1,001 array elements, then 413 naming the entry limit', async () => {
    const created = await createConnectUrl(t.app, 'wide-relay', { jobTypes: ['transactions'] });
    const url = new URL(created.body.url);
    const res = await request(t.app).post(`${url.pathname}/events${url.search}`).set('Content-Type', 'application/json').send(wideMetadataEvent(1_001));
    expectLimitProblem(res, WIDTH_DETAIL);
  });

  it('when a direct-embed user relays deep metadata, then 413', async () => {
    const created = await createConnectUrl(t.app, 'deep-direct', { jobTypes: ['transactions'] });
    const res = await request(t.app)
      .post(`/connect/${created.body.sessionId}/events`)
      .set('Authorization', await bearer('deep-direct'))
      .set('Content-Type', 'application/json')
      .send(deepMetadataEvent(5_000));
    expectLimitProblem(res, DEPTH_DETAIL);
  });

  it('when a signed /events body nests 5,000 levels, then 413 after verification and nothing is recorded', async () => {
    const body = `{"type":"connect/memberConnected","userId":"deep-webhook","metadata":${deepText(5_000)}}`;
    const headers = signWebhook({ id: 'msg_deep', timestamp: Math.floor(Date.now() / 1000), body, secret: SECRET });
    const before = await eventCount();
    const res = await request(t.app).post('/events').set('Content-Type', 'application/json').set({ ...headers }).send(body);
    expectLimitProblem(res, DEPTH_DETAIL);
    expect(await eventCount()).toBe(before);
  });

  it('when an unsigned /events body nests deep, then the signature is judged first (401)', async () => {
    const res = await request(t.app).post('/events').set('Content-Type', 'application/json').send(`{"metadata":${deepText(5_000)}}`);
    expect(res.status).toBe(401);
  });

  it('when /connect-url or /dev/login get a deep body, then 413', async () => {
    const connectUrl = await request(t.app)
      .post('/connect-url')
      .set('Authorization', await bearer('deep-connect'))
      .set('Content-Type', 'application/json')
      .send(`{"jobTypes":${'['.repeat(5_000)}${']'.repeat(5_000)}}`);
    expectLimitProblem(connectUrl, DEPTH_DETAIL);
    const login = await request(t.app).post('/dev/login').set('Content-Type', 'application/json').send(`{"userId":${deepText(40)}}`);
    expectLimitProblem(login, DEPTH_DETAIL);
  });
});
