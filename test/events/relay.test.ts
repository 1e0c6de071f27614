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

  it('when the widget reports an error, then the session stays opened with lastError, the connection needs attention, and a retry connects', async () => {
    const { sessionId, url } = await newSession('fail-user');
    const update = await relay(t.app, url, { type: 'connect/memberStatusUpdate', metadata: { aggregator: 'sophtron', member_guid: 'MBR-f', user_guid: 'USR-f', connection_status: 2, ucpInstitutionId: 'inst-f' } });
    const connectionId = update.body.forward.metadata.connectionId as string;
    const res = await relay(t.app, url, { type: 'connect/memberError', metadata: { member: { guid: 'MBR-f', connection_status: 2 } } });
    expect(res.body).toEqual({
      recorded: true,
      sessionStatus: 'opened',
      forward: {
        type: 'connect/memberError',
        metadata: { sessionId, connectionId, aggregator: 'sophtron', institutionId: 'inst-f', status: 'opened', error: { statusCode: 2 } },
      },
    });
    const auth = await bearer('fail-user');
    const session = await request(t.app).get(`/connect-sessions/${sessionId}`).set('Authorization', auth);
    expect(session.body.status).toBe('opened');
    expect(session.body.lastError).toEqual({ statusCode: 2, at: expect.stringMatching(/^\d{4}-.*Z$/) });
    expect(session.body.connection).toMatchObject({ id: connectionId, status: 'needs_attention', statusCode: 2 });
    const errorRow = await t.database.db.selectFrom('connection_events').selectAll().where('session_id', '=', sessionId).where('type', '=', 'connect/memberError').executeTakeFirstOrThrow();
    expect([errorRow.status_code, errorRow.connection_id]).toEqual([2, connectionId]);

    // The person corrects the password in the same widget: same member, now connected.
    await relay(t.app, url, { type: 'connect/memberStatusUpdate', metadata: { aggregator: 'sophtron', member_guid: 'MBR-f', connection_status: 6, ucpInstitutionId: 'inst-f' } });
    const connected = await relay(t.app, url, { type: 'connect/memberConnected', metadata: { aggregator: 'sophtron', member_guid: 'MBR-f', ucpInstitutionId: 'inst-f' } });
    expect(connected.body.sessionStatus).toBe('connected');
    expect(connected.body.forward.metadata).toEqual({ sessionId, connectionId, aggregator: 'sophtron', institutionId: 'inst-f', status: 'connected' });
    const after = await request(t.app).get(`/connect-sessions/${sessionId}`).set('Authorization', auth);
    expect(after.body).toMatchObject({ status: 'connected', lastError: { statusCode: 2 }, connection: { id: connectionId, status: 'connected' } });
  });

  it('when a connection exists, then every later forwarded event carries its aggregator and institution, whatever the event carried', async () => {
    const { sessionId, url } = await newSession('meta-user');
    const before = await relay(t.app, url, { type: 'connect/stepChange', metadata: { current: 'search', previous: 'loaded' } });
    expect(before.body.forward.metadata).toEqual({ sessionId, connectionId: null, aggregator: null, institutionId: null, status: 'opened' });
    const update = await relay(t.app, url, { type: 'connect/memberStatusUpdate', metadata: { aggregator: 'mx', connectionId: 'CONN-meta', connectionStatus: 0, ucpInstitutionId: 'inst-m' } });
    const expected = { sessionId, connectionId: update.body.forward.metadata.connectionId, aggregator: 'mx', institutionId: 'inst-m', status: 'opened' };
    expect(update.body.forward.metadata).toEqual(expected);
    for (const event of [
      { type: 'connect/stepChange', metadata: { current: 'mfa', previous: 'connecting' } },
      { type: 'connect/updateCredentials', metadata: {} },
    ]) {
      expect((await relay(t.app, url, event)).body.forward.metadata).toEqual(expected);
    }
    const error = await relay(t.app, url, { type: 'connect/memberError', metadata: { member: { guid: 'CONN-meta', connection_status: 4 } } });
    expect(error.body.forward.metadata).toEqual({ ...expected, error: { statusCode: 4 } });
  });

  it('when a refresh session relays its first event, then the forwarded metadata already names its connection', async () => {
    const first = await newSession('refresh-meta');
    const made = await relay(t.app, first.url, v2Connected('CONN-rm', { ucpInstitutionId: 'inst-rm' }));
    const connectionId = made.body.forward.metadata.connectionId as string;
    const refresh = await newSession('refresh-meta', { connectionId });
    const loaded = await relay(t.app, refresh.url, { type: 'connect/loaded', metadata: { initial_step: 'enterCreds' } });
    expect(loaded.body.forward.metadata).toEqual({ sessionId: refresh.sessionId, connectionId, aggregator: 'mx', institutionId: 'inst-rm', status: 'opened' });
  });

  it('when the host page cancels, then the session is cancelled for every reader, and a second cancel changes nothing', async () => {
    const { sessionId, url } = await newSession('cancel-user');
    await relay(t.app, url, { type: 'connect/loaded', metadata: {} });
    const u = new URL(url);
    const cancel = () => request(t.app).post(`${u.pathname}/cancel${u.search}`);
    const res = await cancel();
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      sessionStatus: 'cancelled',
      forward: { type: 'connect/cancelled', metadata: { sessionId, connectionId: null, aggregator: null, institutionId: null, status: 'cancelled' } },
    });
    const read = await request(t.app).get(`/connect-sessions/${sessionId}`).set('Authorization', await bearer('cancel-user'));
    expect(read.body.status).toBe('cancelled');
    const log = await t.database.db.selectFrom('connection_events').select(['type', 'metadata']).where('session_id', '=', sessionId).where('source', '=', 'system').orderBy('seq').execute();
    expect(log.map((row) => [row.type, JSON.parse(row.metadata)])).toEqual([
      ['status', { status: 'opened' }],
      ['status', { status: 'cancelled' }],
    ]);
    expect((await cancel()).body.sessionStatus).toBe('cancelled');
    expect(await t.database.db.selectFrom('connection_events').select('seq').where('session_id', '=', sessionId).where('source', '=', 'system').execute()).toHaveLength(2);
  });

  it('when cancel comes without a valid capability, then it is refused and nothing changes', async () => {
    const { sessionId, url } = await newSession('cancel-forger');
    const u = new URL(url);
    const forged = await request(t.app).post(`${u.pathname}/cancel?exp=${u.searchParams.get('exp')}&sig=AAAA`);
    expect(forged.status).toBe(403);
    const read = await request(t.app).get(`/connect-sessions/${sessionId}`).set('Authorization', await bearer('cancel-forger'));
    expect(read.body.status).toBe('created');
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
