import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { signWebhook } from '../../src/lib/standard-webhooks.js';
import { testDialects } from '../helpers/databases.js';
import { createConnectUrl } from '../helpers/flows.js';
import { buildTestApp, type TestApp } from '../helpers/test-app.js';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

/**
 * Events that name no connection and leave their session as it is (steps, anything after the
 * session opened) take a short path: one statement on PostgreSQL. These pin what it must keep
 * of the general path (idempotency, ownership, duplicates) and what it costs.
 */
describe.each(testDialects)('POST /events that leave the session as it is, on %s', (dialect) => {
  let t: TestApp;
  let statements: string[] = [];
  const now = new Date('2026-11-26T06:00:00.000Z');
  let counter = 0;
  beforeAll(async () => {
    t = await buildTestApp({ dialect, clock: () => now, env: { WEBHOOK_SECRETS: SECRET }, onStatement: (sql) => statements.push(sql) });
  });
  afterAll(() => t.close());
  beforeEach(() => {
    statements = [];
  });

  const send = (body: Record<string, unknown>, id = `msg_quiet_${(counter += 1)}`) => {
    const raw = JSON.stringify(body);
    const headers = signWebhook({ id, timestamp: Math.floor(now.getTime() / 1000), body: raw, secret: SECRET });
    return request(t.app).post('/events').set('Content-Type', 'application/json').set({ ...headers }).send(raw);
  };
  const step = (userId: string, sessionId: string | undefined, current: string) => ({
    type: 'connect/stepChange',
    userId,
    ...(sessionId ? { sessionId } : {}),
    metadata: { current, previous: 'start' },
  });
  /** A session of `userId`, opened by a first event (created → opened moves it: the general path). */
  const openedSession = async (userId: string): Promise<string> => {
    const sessionId = (await createConnectUrl(t.app, userId, { jobTypes: ['transactions'] })).body.sessionId as string;
    const first = await send(step(userId, sessionId, 'first'));
    expect(first.body).toEqual({ received: true, duplicate: false, connectionId: null, sessionStatus: 'opened' });
    return sessionId;
  };
  const eventsOf = (sessionId: string) =>
    t.database.db.selectFrom('connection_events').select(['type', 'source', 'metadata', 'connection_id']).where('session_id', '=', sessionId).orderBy('seq').execute();
  const remembered = async (id: string) =>
    (await t.database.db.selectFrom('inbound_webhooks').select('webhook_id').where('webhook_id', '=', id).execute()).length === 1;
  const sessionRow = (id: string) => t.database.db.selectFrom('connect_sessions').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

  it('when a step arrives for an opened session, then it is appended and the session stays as it was', async () => {
    const sessionId = await openedSession('quiet-user-1');
    const before = await sessionRow(sessionId);
    statements = [];
    const res = await send(step('quiet-user-1', sessionId, 'second'), 'msg_quiet_second');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ received: true, duplicate: false, connectionId: null, sessionStatus: 'opened' });
    // PostgreSQL: one statement, no BEGIN/COMMIT. SQLite: one transaction's three statements (they
    // cost no round trip; its savepoint and the group's COMMIT are the dialect's own, not logged).
    expect(statements).toHaveLength(dialect === 'postgres' ? 1 : 3);
    expect(await sessionRow(sessionId)).toEqual(before);
    expect(await remembered('msg_quiet_second')).toBe(true);
    expect(await eventsOf(sessionId)).toEqual([
      { type: 'connect/stepChange', source: 'webhook', metadata: JSON.stringify({ current: 'first', previous: 'start' }), connection_id: null },
      { type: 'status', source: 'system', metadata: JSON.stringify({ status: 'opened' }), connection_id: null },
      { type: 'connect/stepChange', source: 'webhook', metadata: JSON.stringify({ current: 'second', previous: 'start' }), connection_id: null },
    ]);
  });

  it('when the same delivery comes again, then it answers duplicate and writes nothing', async () => {
    const sessionId = await openedSession('quiet-user-2');
    const body = step('quiet-user-2', sessionId, 'again');
    expect((await send(body, 'msg_quiet_again')).body.duplicate).toBe(false);
    const before = await eventsOf(sessionId);
    statements = [];
    const again = await send(body, 'msg_quiet_again');
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ received: true, duplicate: true, connectionId: null, sessionStatus: 'opened' });
    // PostgreSQL answers a redelivery from the one statement too (the session comes with it).
    if (dialect === 'postgres') expect(statements).toHaveLength(1);
    expect(await eventsOf(sessionId)).toEqual(before);
  });

  it('when the same event comes under another webhook id, then it answers duplicate and that id is not remembered', async () => {
    const sessionId = await openedSession('quiet-user-3');
    const body = step('quiet-user-3', sessionId, 'same');
    expect((await send(body, 'msg_quiet_same_1')).body.duplicate).toBe(false);
    const before = await eventsOf(sessionId);
    statements = [];
    const res = await send(body, 'msg_quiet_same_2');
    expect(res.body).toEqual({ received: true, duplicate: true, connectionId: null, sessionStatus: 'opened' });
    // PostgreSQL: one statement (the event is found in the log before the id would be remembered).
    if (dialect === 'postgres') expect(statements).toHaveLength(1);
    expect(await eventsOf(sessionId)).toEqual(before);
    expect(await remembered('msg_quiet_same_1')).toBe(true);
    expect(await remembered('msg_quiet_same_2')).toBe(false);
  });

  it('when two deliveries of one event race, then it is recorded once and only the winning id is remembered', async () => {
    const sessionId = await openedSession('quiet-user-4');
    const body = step('quiet-user-4', sessionId, 'race');
    const answers = await Promise.all([send(body, 'msg_quiet_race_1'), send(body, 'msg_quiet_race_2')]);
    expect(answers.map((a) => a.body.duplicate).sort()).toEqual([false, true]);
    expect((await eventsOf(sessionId)).filter((e) => e.metadata.includes('race'))).toHaveLength(1);
    const winner = answers[0].body.duplicate ? 'msg_quiet_race_2' : 'msg_quiet_race_1';
    const loser = winner === 'msg_quiet_race_1' ? 'msg_quiet_race_2' : 'msg_quiet_race_1';
    expect([await remembered(winner), await remembered(loser)]).toEqual([true, false]);
  });

  it("when the session is another user's or does not exist, then 400 and nothing is written", async () => {
    const sessionId = await openedSession('quiet-owner');
    for (const [userId, session, id] of [
      ['quiet-intruder', sessionId, 'msg_quiet_intruder'],
      ['quiet-owner', 'cs_does_not_exist', 'msg_quiet_missing'],
    ] as const) {
      const before = await t.database.db.selectFrom('connection_events').select('seq').execute();
      const res = await send(step(userId, session, 'intrude'), id);
      expect(res.status).toBe(400);
      expect(res.body.errors).toEqual([{ field: 'sessionId', message: 'no such session for this user' }]);
      expect(await remembered(id)).toBe(false);
      expect(await t.database.db.selectFrom('connection_events').select('seq').execute()).toEqual(before);
    }
  });

  it('when a step arrives for a session that already ended, then it is recorded and the session keeps its ending', async () => {
    const sessionId = await openedSession('quiet-user-5');
    const connected = await send({ type: 'connect/memberConnected', userId: 'quiet-user-5', sessionId, metadata: { aggregator: 'mx', connectionId: 'CONN-quiet-5' } });
    expect(connected.body.sessionStatus).toBe('connected');
    const before = await sessionRow(sessionId);
    const late = await send(step('quiet-user-5', sessionId, 'late'));
    expect(late.body).toEqual({ received: true, duplicate: false, connectionId: null, sessionStatus: 'connected' });
    expect(await sessionRow(sessionId)).toEqual(before);
    expect((await eventsOf(sessionId)).at(-1)).toEqual({ type: 'connect/stepChange', source: 'webhook', metadata: JSON.stringify({ current: 'late', previous: 'start' }), connection_id: null });
  });

  it('when a memberConnected arrives, then the event and the changes it announces go into the log in one insert, in that order, and its redelivery appends nothing', async () => {
    const sessionId = await openedSession('quiet-user-8');
    statements = [];
    const body = { type: 'connect/memberConnected', userId: 'quiet-user-8', sessionId, metadata: { aggregator: 'mx', connectionId: 'CONN-quiet-8', ucpInstitutionId: 'bank-8' } };
    const res = await send(body);
    expect(res.body).toMatchObject({ received: true, duplicate: false, sessionStatus: 'connected' });
    // id, session, connection by key, live connection at the bank, its insert, the session's move,
    // the log; PostgreSQL adds BEGIN and COMMIT (SQLite's savepoint and group COMMIT are not logged).
    expect(statements.filter((sql) => /insert into "connection_events"/.test(sql))).toHaveLength(1);
    expect(statements).toHaveLength(dialect === 'postgres' ? 9 : 7);
    const logged = (await eventsOf(sessionId)).slice(-3).map((e) => [e.type, e.source]);
    expect(logged).toEqual([
      ['connect/memberConnected', 'webhook'],
      ['status', 'system'],
      ['connected', 'system'],
    ]);
    const again = await send(body);
    expect(again.body).toMatchObject({ received: true, duplicate: true, sessionStatus: 'connected' });
    expect(await eventsOf(sessionId)).toHaveLength(5); // the first step and its status, then the three above
  });

  it('when a memberError naming no connection arrives for an opened session, then the session remembers it', async () => {
    const sessionId = await openedSession('quiet-user-6');
    const res = await send({ type: 'connect/memberError', userId: 'quiet-user-6', sessionId, metadata: { connection_status: 17 } });
    expect(res.body).toEqual({ received: true, duplicate: false, connectionId: null, sessionStatus: 'opened' });
    const row = await sessionRow(sessionId);
    expect([row.status, row.last_error_code, row.last_error_at]).toEqual(['opened', 17, now.toISOString()]);
  });

  it('when an event names no session, then it is appended for the user alone', async () => {
    statements = [];
    const res = await send(step('quiet-user-7', undefined, 'sessionless'));
    expect(res.body).toEqual({ received: true, duplicate: false, connectionId: null, sessionStatus: null });
    expect(statements).toHaveLength(dialect === 'postgres' ? 1 : 2);
    const rows = await t.database.db.selectFrom('connection_events').select(['session_id', 'type']).where('user_id', '=', 'quiet-user-7').execute();
    expect(rows).toEqual([{ session_id: null, type: 'connect/stepChange' }]);
  });
});
