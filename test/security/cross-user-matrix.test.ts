import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signWebhook } from '../../src/lib/standard-webhooks.js';
import { testDialects } from '../helpers/databases.js';
import { bearer, capabilityOf, createConnectUrl, relay } from '../helpers/flows.js';
import { buildTestApp, FRONTEND_ORIGIN, type TestApp } from '../helpers/test-app.js';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const BOB = 'bob-matrix';
const ALICE = 'alice-matrix';

/**
 * Every route that takes an id, presented by Alice with Bob's ids (and tampered, expired,
 * case- and Unicode-varied ones): each answer is the SPEC's refusal, and no answer carries any
 * of Bob's data. Bob's rows are unchanged at the end, and the UCW never heard of his connection
 * on Alice's behalf.
 */
describe.each(testDialects)('cross-user matrix on %s', (dialect) => {
  let t: TestApp;
  let now = new Date();
  const bob = {} as { connectionId: string; hostSession: string; hostUrl: string; directSession: string };
  const alice = {} as { connectionId: string; hostSession: string; hostUrl: string };
  // What must never reach Alice: Bob's aggregator ids, institution, user id, and ids she was not given.
  const BOB_SECRETS = ['MBR-BOB-SECRET', 'USR-BOB-SECRET', 'inst-bob-only', BOB];

  beforeAll(async () => {
    t = await buildTestApp({
      dialect,
      sandbox: { version: 2 },
      clock: () => now,
      env: { WEBHOOK_SECRETS: SECRET, UCW_DATA_ENDPOINTS: 'true', UCW_DELETE_ENABLED: 'true', RATE_LIMIT_AUTH_FAILURES_PER_MIN: '100000' },
    });
    const bobHost = await createConnectUrl(t.app, BOB, { jobTypes: ['transactions'] });
    const connected = await relay(t.app, bobHost.body.url, {
      type: 'connect/memberConnected',
      metadata: { aggregator: 'mx', connectionId: 'MBR-BOB-SECRET', aggregatorUserId: 'USR-BOB-SECRET', ucpInstitutionId: 'inst-bob-only' },
    });
    expect(connected.status).toBe(200);
    Object.assign(bob, {
      connectionId: connected.body.forward.metadata.connectionId,
      hostSession: bobHost.body.sessionId,
      hostUrl: (await createConnectUrl(t.app, BOB, { jobTypes: ['transactions'] })).body.url,
      directSession: (await createConnectUrl(t.app, BOB, { jobTypes: ['transactions'], embed: 'direct', targetOrigin: FRONTEND_ORIGIN })).body.sessionId,
    });
    const aliceHost = await createConnectUrl(t.app, ALICE, { jobTypes: ['transactions'] });
    const aliceConnected = await relay(t.app, aliceHost.body.url, { type: 'connect/memberConnected', metadata: { aggregator: 'mx', connectionId: 'MBR-ALICE-1' } });
    Object.assign(alice, {
      connectionId: aliceConnected.body.forward.metadata.connectionId,
      hostSession: (await createConnectUrl(t.app, ALICE, { jobTypes: ['transactions'] })).body.sessionId,
    });
    alice.hostUrl = (await createConnectUrl(t.app, ALICE, { jobTypes: ['transactions'] })).body.url;
  });
  afterAll(() => t.close());

  const snapshot = async () => ({
    connections: await t.database.db.selectFrom('connections').selectAll().where('user_id', '=', BOB).orderBy('id').execute(),
    sessions: await t.database.db.selectFrom('connect_sessions').selectAll().where('user_id', '=', BOB).orderBy('id').execute(),
  });

  /** Bob's connection id respelled: case flips, full-width, Cyrillic look-alikes, padding, invisible characters. */
  const variants = (id: string) => {
    const [prefix, rest] = [id.slice(0, id.indexOf('_') + 1), id.slice(id.indexOf('_') + 1)];
    const flip = (s: string) => [...s].map((c) => (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase())).join('');
    return [
      id.toUpperCase(),
      `${prefix}${flip(rest)}`,
      [...id].map((c) => (/[a-z]/.test(c) ? String.fromCharCode(c.charCodeAt(0) + 0xfee0) : c)).join(''),
      id.replace('c', '\u0441').replace('o', '\u043e'),
      ` ${id}`,
      `${id} `,
      `${id}\u200b`,
      `${id}%00`,
      `${id}/..`,
    ].map((variant) => variant.replace(/[^A-Za-z0-9_-]/g, (c) => (c === '%' ? c : encodeURIComponent(c))));
  };

  const expectNoLeak = (label: string, res: { status: number; text: string }) => {
    for (const secret of BOB_SECRETS) expect(res.text, `${label} leaked ${secret}`).not.toContain(secret);
    expect(res.status, label).toBeLessThan(500);
  };

  it('when Alice presents Bob’s connection and session ids (and respellings of them) on every user route, then every answer is 404 or 401 and nothing leaks', async () => {
    const before = await snapshot();
    const ucwCallsBefore = t.sandbox!.requests.length;
    const aliceAuth = await bearer(ALICE);
    const connectionIds = [bob.connectionId, ...variants(bob.connectionId)];
    const sessionIds = [bob.hostSession, bob.directSession, ...variants(bob.hostSession)];
    const cases: Array<{ label: string; send: (auth: string | undefined) => request.Test }> = [];
    for (const id of connectionIds) {
      cases.push({ label: `GET /connections/${id}`, send: (auth) => withAuth(request(t.app).get(`/connections/${id}`), auth) });
      cases.push({ label: `DELETE /connections/${id}`, send: (auth) => withAuth(request(t.app).delete(`/connections/${id}`), auth) });
      for (const kind of ['accounts', 'identity', 'transactions?accountId=acc-1']) {
        cases.push({ label: `GET /connections/${id}/${kind}`, send: (auth) => withAuth(request(t.app).get(`/connections/${id}/${kind}`), auth) });
      }
      cases.push({
        label: `POST /connect-url connectionId=${id}`,
        send: (auth) => withAuth(request(t.app).post('/connect-url'), auth).send({ jobTypes: ['transactions'], connectionId: decodeURIComponent(id.replace('%00', '%2500')) }),
      });
    }
    for (const id of sessionIds) {
      cases.push({ label: `GET /connect-sessions/${id}`, send: (auth) => withAuth(request(t.app).get(`/connect-sessions/${id}`), auth) });
      cases.push({ label: `GET /connect-sessions/${id}/stream`, send: (auth) => withAuth(request(t.app).get(`/connect-sessions/${id}/stream`), auth) });
      cases.push({
        label: `POST /connect/${id}/events (direct embed, Alice's auth)`,
        send: (auth) => withAuth(request(t.app).post(`/connect/${id}/events`), auth).send({ type: 'connect/loaded', metadata: {} }),
      });
    }

    const seen: string[] = [];
    for (const testCase of cases) {
      const asAlice = await testCase.send(aliceAuth);
      expectNoLeak(testCase.label, asAlice);
      const expected = testCase.label.startsWith('POST /connect-url') ? [404, 400] : [404];
      expect(expected, `${testCase.label} as Alice answered ${asAlice.status}`).toContain(asAlice.status);
      const anonymous = await testCase.send(undefined);
      expectNoLeak(`${testCase.label} without auth`, anonymous);
      // Unauthenticated: 401 wherever a user is required; the relay treats a session it cannot
      // resolve without a capability as unknown only after authentication, so 401 there too.
      expect([401], `${testCase.label} without auth answered ${anonymous.status}`).toContain(anonymous.status);
      seen.push(testCase.label);
    }
    expect(seen).toHaveLength(10 * 6 + 11 * 3);

    // No session was created for Alice as a refresh of anything, Bob's rows are as they were, and
    // the UCW was never asked about Bob's aggregator connection.
    expect(await t.database.db.selectFrom('connect_sessions').select('id').where('user_id', '=', ALICE).where('mode', '=', 'refresh').execute()).toEqual([]);
    expect(await snapshot()).toEqual(before);
    const upstream = t.sandbox!.requests.slice(ucwCallsBefore);
    expect(JSON.stringify(upstream)).not.toContain('MBR-BOB-SECRET');
  });

  it('when the host page, widget-url and relay get another session’s, a tampered or an expired capability, then 403 or 410 and nothing leaks', async () => {
    const before = await snapshot();
    const bobCap = capabilityOf(bob.hostUrl);
    const aliceCap = capabilityOf(alice.hostUrl);
    const aliceSession = new URL(alice.hostUrl).pathname.split('/').pop()!;
    const bobSession = new URL(bob.hostUrl).pathname.split('/').pop()!;
    const params = new URLSearchParams(bobCap);
    const sig = params.get('sig')!;
    const flipped = `${sig.slice(0, -1)}${sig.endsWith('A') ? 'B' : 'A'}`;
    const tampered = [
      `exp=${params.get('exp')}&sig=${flipped}`,
      `exp=${Number(params.get('exp')) + 3600}&sig=${sig}`,
      `exp=${params.get('exp')}&sig=${sig.toUpperCase()}`,
      `exp=${params.get('exp')}`,
      `sig=${sig}`,
    ];
    const attempts: Array<[string, string, number[]]> = [
      // Bob's capability on Alice's session, and Alice's on Bob's.
      [aliceSession, bobCap, [403]],
      [bobSession, aliceCap, [403]],
      ...tampered.map((query): [string, string, number[]] => [bobSession, query, [403]]),
    ];
    for (const [session, query, statuses] of attempts) {
      const page = await request(t.app).get(`/connect/${session}?${query}`);
      const mint = await request(t.app).post(`/connect/${session}/widget-url?${query}`);
      const relayed = await request(t.app).post(`/connect/${session}/events?${query}`).send({ type: 'connect/loaded', metadata: {} });
      for (const [label, res] of [['page', page], ['widget-url', mint], ['relay', relayed]] as const) {
        expectNoLeak(`${label} ${session}?${query}`, res);
        expect(statuses, `${label} ${session}?${query} answered ${res.status}`).toContain(res.status);
      }
    }
    // Alice's direct-embed relay into Bob's direct session (she is authenticated, but not as Bob).
    const direct = await request(t.app).post(`/connect/${bob.directSession}/events`).set('Authorization', await bearer(ALICE)).send({ type: 'connect/loaded', metadata: {} });
    expect(direct.status).toBe(404);
    // A signed /events naming Bob's session for Alice is refused, not applied.
    const body = JSON.stringify({ type: 'connect/memberConnected', metadata: { aggregator: 'mx', connectionId: 'MBR-ALICE-2' }, userId: ALICE, sessionId: bob.hostSession });
    const signed = await request(t.app)
      .post('/events')
      .set('Content-Type', 'application/json')
      .set(signWebhook({ id: 'msg_matrix_1', timestamp: Math.floor(Date.now() / 1000), body, secret: SECRET }) as unknown as Record<string, string>)
      .send(body);
    expect([signed.status, signed.body.code]).toEqual([400, 'validation_failed']);
    expectNoLeak('signed /events into Bob’s session', signed);

    // Expired: Bob's own valid capability after the session's life.
    const saved = now;
    now = new Date(now.getTime() + 2 * 3600_000);
    try {
      const page = await request(t.app).get(`/connect/${bobSession}?${bobCap}`);
      const relayed = await request(t.app).post(`/connect/${bobSession}/events?${bobCap}`).send({ type: 'connect/loaded', metadata: {} });
      expect([page.status, relayed.status]).toEqual([410, 410]);
      expectNoLeak('expired page', page);
      expectNoLeak('expired relay', relayed);
    } finally {
      now = saved;
    }
    const after = await snapshot();
    // Expiry may mark Bob's open session expired on read; nothing else of his may change.
    expect(after.connections).toEqual(before.connections);
    expect(after.sessions.map((s) => ({ ...s, status: s.id === bobSession ? 'x' : s.status, updated_at: 'x' }))).toEqual(
      before.sessions.map((s) => ({ ...s, status: s.id === bobSession ? 'x' : s.status, updated_at: 'x' })),
    );
  });

  it('when Alice relays Bob’s aggregator connection under case and Unicode variants of the aggregator, then 409 or 400, never her own copy of it', async () => {
    const before = await snapshot();
    for (const [aggregator, status] of [['mx', 409], ['MX', 409], [' Mx ', 409], ['mX\t', 409], ['ｍｘ', 400], ['\u212A', 400], ['m\u0445', 400]] as const) {
      const res = await relay(t.app, alice.hostUrl, { type: 'connect/memberConnected', metadata: { aggregator, connectionId: 'MBR-BOB-SECRET', ucpInstitutionId: 'inst-x' } });
      expect([aggregator, res.status]).toEqual([aggregator, status]);
      expectNoLeak(`relay as ${aggregator}`, res);
    }
    const body = JSON.stringify({ type: 'connect/memberConnected', metadata: { aggregator: 'MX', connectionId: 'MBR-BOB-SECRET' }, userId: ALICE });
    const signed = await request(t.app)
      .post('/events')
      .set('Content-Type', 'application/json')
      .set(signWebhook({ id: 'msg_matrix_2', timestamp: Math.floor(Date.now() / 1000), body, secret: SECRET }) as unknown as Record<string, string>)
      .send(body);
    expect(signed.status).toBe(409);
    // A respelled aggregator *connection* id is another id at the aggregator: Alice may own that
    // one, and it is a row of her own that carries nothing of Bob's.
    const other = await relay(t.app, alice.hostUrl, { type: 'connect/memberConnected', metadata: { aggregator: 'mx', connectionId: 'mbr-bob-secret' } });
    expect(other.status).toBe(200);
    expect(other.body.forward.metadata.connectionId).not.toBe(bob.connectionId);
    expectNoLeak('respelled aggregator connection id', other);
    const aliceRows = await t.database.db.selectFrom('connections').select(['id', 'user_id']).where('user_id', '=', ALICE).execute();
    expect(aliceRows.map((r) => r.id)).not.toContain(bob.connectionId);
    expect(await snapshot()).toEqual(before);
  });
});

function withAuth(test: request.Test, auth: string | undefined): request.Test {
  return auth ? test.set('Authorization', auth) : test;
}
