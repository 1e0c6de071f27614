import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDialects } from '../helpers/databases.js';
import { bearer, createConnectUrl, relay, v1Connected, v2Connected } from '../helpers/flows.js';
import { buildTestApp, FRONTEND_ORIGIN, type TestApp } from '../helpers/test-app.js';

const SEED_EXAMPLE = { type: 'connect/memberConnected', metadata: { aggregator: 'sophtron', member_guid: 'MBR-345' } };

describe.each(testDialects)('event relay and connection state on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({ dialect });
  });
  afterAll(() => t.close());

  const newSession = async (userId: string, body: Record<string, unknown> = {}) => {
    const res = await createConnectUrl(t.app, userId, { jobTypes: ['transactions'], ...body });
    expect(res.status).toBe(201);
    return res.body as { sessionId: string; url: string };
  };

  it("when the seed's example memberConnected is relayed, then the session is connected and the connection listed", async () => {
    const { sessionId, url } = await newSession('seed-user');
    const res = await relay(t.app, url, SEED_EXAMPLE);
    expect(res.status).toBe(200);
    const connectionId = res.body.forward.metadata.connectionId as string;
    expect(connectionId).toMatch(/^conn_[\w-]{22}$/);
    expect(res.body).toEqual({
      recorded: true,
      sessionStatus: 'connected',
      forward: { type: 'connect/memberConnected', metadata: { sessionId, connectionId, aggregator: 'sophtron', institutionId: null, status: 'connected' } },
    });
    const list = await request(t.app).get('/connections').set('Authorization', await bearer('seed-user'));
    expect(list.body.connections).toHaveLength(1);
    expect(list.body.connections[0]).toMatchObject({ id: connectionId, aggregator: 'sophtron', status: 'connected', statusCode: 6, jobTypes: ['transactions'], verified: false, dataReady: false, duplicateOf: null });
    expect(JSON.stringify(list.body)).not.toContain('MBR-345');
    const session = await request(t.app).get(`/connect-sessions/${sessionId}`).set('Authorization', await bearer('seed-user'));
    expect(session.body).toMatchObject({ id: sessionId, status: 'connected', mode: 'new', connection: { id: connectionId, status: 'connected' } });
  });

  it('when v1 and v2 payloads arrive, then both normalize to the same record shape', async () => {
    const a = await newSession('gen-user');
    const r1 = await relay(t.app, a.url, v1Connected('MBR-gen-1'));
    const b = await newSession('gen-user');
    const r2 = await relay(t.app, b.url, v2Connected('CONN-gen-2'));
    const rows = await t.database.db.selectFrom('connections').selectAll().where('user_id', '=', 'gen-user').orderBy('aggregator').execute();
    expect(rows.map((r) => [r.aggregator, r.institution_id, r.status])).toEqual([
      ['mx', 'inst-2', 'connected'],
      ['sophtron', 'inst-1', 'connected'],
    ]);
    expect(r1.body.forward.metadata.institutionId).toBe('inst-1');
    expect(r2.body.forward.metadata.institutionId).toBe('inst-2');
  });

  it('when the same event is relayed twice, then the second changes nothing and says so', async () => {
    const { url } = await newSession('dup-user');
    const first = await relay(t.app, url, v1Connected('MBR-dup'));
    const second = await relay(t.app, url, v1Connected('MBR-dup'));
    expect(second.status).toBe(200);
    expect(second.body.recorded).toBe(false);
    expect(second.body.forward).toEqual(first.body.forward);
    const events = await t.database.db.selectFrom('connection_events').select('type').where('user_id', '=', 'dup-user').where('source', '=', 'relay').execute();
    expect(events).toEqual([{ type: 'connect/memberConnected' }]);
  });

  it('when a status update arrives after memberConnected, then it does not demote the connection', async () => {
    const { url } = await newSession('order-user');
    await relay(t.app, url, { type: 'connect/memberStatusUpdate', metadata: { aggregator: 'mx', connectionId: 'CONN-ord', connectionStatus: 3 } });
    await relay(t.app, url, v2Connected('CONN-ord'));
    const late = await relay(t.app, url, { type: 'connect/memberStatusUpdate', metadata: { aggregator: 'mx', connectionId: 'CONN-ord', connectionStatus: 0 } });
    expect(late.body.sessionStatus).toBe('connected');
    const row = await t.database.db.selectFrom('connections').selectAll().where('user_id', '=', 'order-user').executeTakeFirstOrThrow();
    expect([row.status, row.status_code]).toEqual(['connected', 6]);
  });

  it('when the widget reports a failure, then the session is failed and the connection needs attention', async () => {
    const { sessionId, url } = await newSession('fail-user');
    await relay(t.app, url, { type: 'connect/memberStatusUpdate', metadata: { aggregator: 'sophtron', member_guid: 'MBR-f', user_guid: 'USR-f', connection_status: 2 } });
    const res = await relay(t.app, url, { type: 'connect/memberError', metadata: { member: { guid: 'MBR-f', connection_status: 2 } } });
    expect(res.body.sessionStatus).toBe('failed');
    const session = await request(t.app).get(`/connect-sessions/${sessionId}`).set('Authorization', await bearer('fail-user'));
    expect(session.body.status).toBe('failed');
    expect(session.body.connection).toMatchObject({ status: 'needs_attention', statusCode: 2 });
  });

  it("when another user presents an aggregator connection someone already owns, then 409 and a security log without the secret", async () => {
    const owner = await newSession('owner');
    await relay(t.app, owner.url, v1Connected('MBR-stolen'));
    const thief = await newSession('thief');
    const res = await relay(t.app, thief.url, v1Connected('MBR-stolen'));
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('conflict');
    const rows = await t.database.db.selectFrom('connections').select('user_id').where('user_id', '=', 'thief').execute();
    expect(rows).toEqual([]);
    const thiefEvents = await t.database.db.selectFrom('connection_events').select('seq').where('user_id', '=', 'thief').execute();
    expect(thiefEvents).toEqual([]);
    expect(t.logs.text()).toContain('connection_claim_refused');
    expect(t.logs.text()).not.toContain('MBR-stolen');
  });

  it('when the capability is tampered, missing or for another session, then the relay refuses', async () => {
    const a = await newSession('cap-user');
    const b = await newSession('cap-user');
    const tampered = a.url.replace(/sig=./, (m) => (m.endsWith('A') ? 'sig=B' : 'sig=A'));
    expect((await relay(t.app, tampered, SEED_EXAMPLE)).status).toBe(403);
    const swapped = `${new URL(a.url).origin}/connect/${b.sessionId}${new URL(a.url).search}`;
    expect((await relay(t.app, swapped, SEED_EXAMPLE)).status).toBe(403);
    const unknown = `${new URL(a.url).origin}/connect/cs_AAAAAAAAAAAAAAAAAAAAAA${new URL(a.url).search}`;
    expect((await relay(t.app, unknown, SEED_EXAMPLE)).status).toBe(404);
    const noCap = await request(t.app).post(`/connect/${a.sessionId}/events`).send(SEED_EXAMPLE);
    expect(noCap.status).toBe(401);
  });

  it('when a direct-embed frontend relays with its user auth, then only into its own session', async () => {
    const { sessionId } = await newSession('direct-user');
    const own = await request(t.app).post(`/connect/${sessionId}/events`).set('Authorization', await bearer('direct-user')).send(v1Connected('MBR-direct'));
    expect(own.status).toBe(200);
    expect(own.body.sessionStatus).toBe('connected');
    const other = await request(t.app).post(`/connect/${sessionId}/events`).set('Authorization', await bearer('intruder')).send(v1Connected('MBR-direct-2'));
    expect(other.status).toBe(404);
    const cookieForeign = await request(t.app)
      .post(`/connect/${sessionId}/events`)
      .set('Cookie', `${t.config.auth.cookieName}=${(await bearer('direct-user')).slice(7)}`)
      .set('Origin', 'https://evil.test')
      .send(v1Connected('MBR-direct-3'));
    expect(cookieForeign.status).toBe(403);
  });

  it('when the event is malformed, then 400 names the field and nothing is written', async () => {
    const { url } = await newSession('shape-user');
    const res = await relay(t.app, url, { type: 'memberConnected', metadata: 'x' } as never);
    expect(res.status).toBe(400);
    expect(res.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(['metadata', 'type']);
    const events = await t.database.db.selectFrom('connection_events').select('seq').where('user_id', '=', 'shape-user').execute();
    expect(events).toEqual([]);
    void FRONTEND_ORIGIN;
  });

  it('when a relayed event carries secrets, then no response and no log line contains them', async () => {
    const { url } = await newSession('leak-user');
    const res = await relay(t.app, url, {
      type: 'connect/memberConnected',
      metadata: { aggregator: 'plaid', connectionId: 'access-sandbox-SECRET-TOKEN', aggregatorUserId: 'AGG-USER-SECRET', akoyaAuthCode: 'AUTHCODE-SECRET' },
    });
    expect(res.status).toBe(200);
    const list = await request(t.app).get('/connections').set('Authorization', await bearer('leak-user'));
    const stored = await t.database.db.selectFrom('connection_events').select('metadata').where('user_id', '=', 'leak-user').execute();
    for (const text of [JSON.stringify(res.body), JSON.stringify(list.body), t.logs.text(), JSON.stringify(stored)]) {
      expect(text).not.toMatch(/SECRET/);
    }
  });
});
