import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signWebhook } from '../../src/lib/standard-webhooks.js';
import { testDialects } from '../helpers/databases.js';
import { createConnectUrl } from '../helpers/flows.js';
import { buildTestApp, type TestApp } from '../helpers/test-app.js';

const CURRENT = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const PREVIOUS = 'whsec_dGhlLXByZXZpb3VzLXNlY3JldC1rZXktMTIzNA==';
const OTHER = 'whsec_c29tZWJvZHktZWxzZXMtc2VjcmV0LWtleS0xMjM=';

describe.each(testDialects)('POST /events on %s', (dialect) => {
  let t: TestApp;
  let now = new Date('2026-11-26T06:00:00.000Z');
  const seconds = () => Math.floor(now.getTime() / 1000);
  beforeAll(async () => {
    t = await buildTestApp({ dialect, clock: () => now, env: { WEBHOOK_SECRETS: `${CURRENT},${PREVIOUS}`, BODY_LIMIT_BYTES: '4096' } });
  });
  afterAll(() => t.close());

  const event = (userId: string, member: string, extra: Record<string, unknown> = {}) =>
    JSON.stringify({ type: 'connect/memberConnected', metadata: { aggregator: 'mx', connectionId: member, ucpInstitutionId: 'mx-bank' }, userId, ...extra });

  const send = (body: string, headers: object, contentType = 'application/json') =>
    request(t.app).post('/events').set('Content-Type', contentType).set(headers as Record<string, string>).send(body);

  const signed = (body: string, options: { id?: string; secret?: string; timestamp?: number } = {}) =>
    signWebhook({ id: options.id ?? `msg_${Math.random().toString(36).slice(2)}`, timestamp: options.timestamp ?? seconds(), body, secret: options.secret ?? CURRENT });

  const connectionsOf = (userId: string) => t.database.db.selectFrom('connections').select(['id', 'status']).where('user_id', '=', userId).execute();

  it('when a correctly signed event arrives, then it is applied', async () => {
    const body = event('wh-user', 'CONN-wh-1');
    const res = await send(body, signed(body));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ received: true, duplicate: false, connectionId: expect.stringMatching(/^conn_/), sessionStatus: null });
    expect(await connectionsOf('wh-user')).toEqual([{ id: res.body.connectionId, status: 'connected' }]);
  });

  it('when the same webhook is redelivered, then it answers 2xx and changes nothing', async () => {
    const body = event('redeliver-user', 'CONN-wh-2');
    const headers = signed(body, { id: 'msg_redelivered' });
    expect((await send(body, headers)).body.duplicate).toBe(false);
    const before = await t.database.db.selectFrom('connection_events').select('seq').where('user_id', '=', 'redeliver-user').execute();
    now = new Date(now.getTime() + 60_000);
    const again = await send(body, signed(body, { id: 'msg_redelivered' }));
    expect(again.status).toBe(200);
    expect(again.body.duplicate).toBe(true);
    const after = await t.database.db.selectFrom('connection_events').select('seq').where('user_id', '=', 'redeliver-user').execute();
    expect(after).toEqual(before);
  });

  it('when the event is for a session, then the session completes', async () => {
    const created = await createConnectUrl(t.app, 'sess-user', { jobTypes: ['transactions'] });
    const body = event('sess-user', 'CONN-wh-3', { sessionId: created.body.sessionId });
    const res = await send(body, signed(body));
    expect(res.body.sessionStatus).toBe('connected');
    const other = event('someone-else', 'CONN-wh-4', { sessionId: created.body.sessionId });
    const refused = await send(other, signed(other));
    expect(refused.status).toBe(400);
    expect(refused.body.errors).toEqual([{ field: 'sessionId', message: 'no such session for this user' }]);
  });

  it('when signed with the previous secret of a rotation, then it verifies', async () => {
    const body = event('rotated-user', 'CONN-wh-5');
    expect((await send(body, signed(body, { secret: PREVIOUS }))).status).toBe(200);
  });

  it('when the header carries several signatures, then one valid among them is enough', async () => {
    const body = event('multi-user', 'CONN-wh-6');
    const good = signed(body);
    const bad = signed(body, { secret: OTHER, id: good['webhook-id'] });
    const header = `v1a,ZmFrZQ== ${bad['webhook-signature']} ${good['webhook-signature']}`;
    expect((await send(body, { ...good, 'webhook-signature': header })).status).toBe(200);
  });

  it('when JSON spacing and key order differ from a re-serialisation, then the raw bytes still verify', async () => {
    const body = `{ "userId" : "raw-user",\n  "metadata": {"ucpInstitutionId":"x", "connectionId":"CONN-raw", "aggregator":"mx"},  "type":"connect/memberConnected" }`;
    expect((await send(body, signed(body))).status).toBe(200);
  });

  it.each([
    ['tampered body', (body: string) => ({ body: body.replace('CONN-bad', 'CONN-evil'), headers: signed(body) })],
    ['wrong secret', (body: string) => ({ body, headers: signed(body, { secret: OTHER }) })],
    ['timestamp 6 minutes old', (body: string) => ({ body, headers: signed(body, { timestamp: seconds() - 360 }) })],
    ['timestamp 6 minutes ahead', (body: string) => ({ body, headers: signed(body, { timestamp: seconds() + 360 }) })],
    ['no webhook-id', (body: string) => ({ body, headers: { ...signed(body), 'webhook-id': '' } })],
    ['no webhook-signature', (body: string) => ({ body, headers: { ...signed(body), 'webhook-signature': '' } })],
    ['no webhook-timestamp', (body: string) => ({ body, headers: { ...signed(body), 'webhook-timestamp': '' } })],
  ])('when the delivery has a %s, then 401 and nothing is written', async (_name, make) => {
    const { body, headers } = make(event('bad-user', 'CONN-bad'));
    const res = await send(body, headers);
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('invalid_signature');
    expect(await connectionsOf('bad-user')).toEqual([]);
    expect(await t.database.db.selectFrom('inbound_webhooks').select('webhook_id').where('webhook_id', '=', headers['webhook-id'] || '-').execute()).toEqual([]);
  });

  it('when the signed body has a bad shape, then 400 names the field and nothing is written', async () => {
    const body = JSON.stringify({ type: 'memberConnected', metadata: {}, extra: 1 });
    const headers = signed(body);
    const res = await send(body, headers);
    expect(res.status).toBe(400);
    expect(res.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(['extra', 'type', 'userId']);
    expect(await t.database.db.selectFrom('inbound_webhooks').select('webhook_id').where('webhook_id', '=', headers['webhook-id']).execute()).toEqual([]);
  });

  it('when the body is not JSON, then 415; when it is too large, 413', async () => {
    const body = event('type-user', 'CONN-type');
    expect((await send(body, signed(body), 'text/plain')).status).toBe(415);
    const big = event('big-user', 'CONN-big', { metadata: { pad: 'x'.repeat(5000) } });
    const res = await send(big, signed(big));
    expect(res.status).toBe(413);
    expect(res.body.code).toBe('payload_too_large');
  });
});
