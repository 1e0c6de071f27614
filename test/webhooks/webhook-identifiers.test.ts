import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signWebhook } from '../../src/lib/standard-webhooks.js';
import { testDialects } from '../helpers/databases.js';
import { buildTestApp, type TestApp } from '../helpers/test-app.js';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

describe.each(testDialects)('identifiers of POST /events on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({ dialect, env: { WEBHOOK_SECRETS: SECRET } });
  });
  afterAll(() => t.close());

  const body = (userId: string, member = 'CONN-ids-1') =>
    JSON.stringify({ type: 'connect/memberConnected', metadata: { aggregator: 'mx', connectionId: member }, userId });
  const send = (text: string, id: string) =>
    request(t.app)
      .post('/events')
      .set('Content-Type', 'application/json')
      .set({ ...signWebhook({ id, timestamp: Math.floor(Date.now() / 1000), body: text, secret: SECRET }) })
      .send(text);
  const eventCount = async () => Number((await t.database.db.selectFrom('connection_events').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);

  it.each([
    ['257 characters long', `msg_${'x'.repeat(253)}`],
    ['16 kB long', `msg_${'x'.repeat(16_000)}`],
    ['non-ASCII', 'msg_é'],
    ['holding a space', 'msg_a b'],
  ])('when a correctly signed webhook-id is %s, then 400 naming webhook-id and nothing is recorded', async (_name, id) => {
    const before = await eventCount();
    const res = await send(body('ids-user'), id);
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({
      code: 'validation_failed',
      errors: [{ field: 'webhook-id', message: 'at most 256 printable ASCII characters, no spaces' }],
    });
    expect(await eventCount()).toBe(before);
  });

  it('when the webhook-id is 256 printable characters, then it is accepted', async () => {
    const res = await send(body('ids-user-ok', 'CONN-ids-2'), `msg_${'~'.repeat(252)}`);
    expect(res.status).toBe(200);
    expect(res.body.duplicate).toBe(false);
  });

  it.each([
    ['a newline', 'alice\nadmin'],
    ['a NUL', 'alice\u0000'],
    ['a C1 control', 'alice\u0085'],
  ])('when the body userId holds %s, then 400 naming userId and nothing is recorded', async (_name, userId) => {
    const before = await eventCount();
    const res = await send(body(userId, 'CONN-ids-3'), `msg_ctl_${Math.random().toString(36).slice(2)}`);
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('validation_failed');
    expect(res.body.errors).toEqual([{ field: 'userId', message: 'must not contain control characters' }]);
    expect(await eventCount()).toBe(before);
  });
});
