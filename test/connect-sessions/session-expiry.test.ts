import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expireSessions } from '../../src/connect-sessions/connect-session.repository.js';
import { testDialects } from '../helpers/databases.js';
import { bearer, createConnectUrl, relay, v1Connected } from '../helpers/flows.js';
import { buildTestApp, type TestApp } from '../helpers/test-app.js';

describe.each(testDialects)('connect session expiry on %s', (dialect) => {
  let t: TestApp;
  let now = new Date('2026-11-26T06:00:00.000Z');
  beforeAll(async () => {
    t = await buildTestApp({ dialect, clock: () => now, env: { SESSION_TTL_SECONDS: '600' } });
  });
  afterAll(() => t.close());

  it('when a session outlives its TTL unfinished, then reading it shows expired and relays are refused with 410', async () => {
    const res = await createConnectUrl(t.app, 'exp-user', { jobTypes: ['transactions'] });
    expect(res.body.expiresAt).toBe('2026-11-26T06:10:00.000Z');
    now = new Date('2026-11-26T06:10:01.000Z');
    const read = await request(t.app).get(`/connect-sessions/${res.body.sessionId}`).set('Authorization', await bearer('exp-user'));
    expect(read.body.status).toBe('expired');
    const late = await relay(t.app, res.body.url, v1Connected('MBR-late'));
    expect(late.status).toBe(410);
    expect(await t.database.db.selectFrom('connections').select('id').where('user_id', '=', 'exp-user').execute()).toEqual([]);
  });

  it('when the sweep runs, then only open sessions past expiry are marked', async () => {
    now = new Date('2026-11-26T07:00:00.000Z');
    const open = await createConnectUrl(t.app, 'sweep-user', { jobTypes: ['transactions'] });
    const done = await createConnectUrl(t.app, 'sweep-user', { jobTypes: ['transactions'] });
    await relay(t.app, done.body.url, v1Connected('MBR-sweep'));
    const fresh = await createConnectUrl(t.app, 'sweep-user', { jobTypes: ['transactions'] });
    await t.database.db.updateTable('connect_sessions').set({ expires_at: '2026-11-26T06:59:00.000Z' }).where('id', 'in', [open.body.sessionId, done.body.sessionId]).execute();
    expect(await expireSessions(t.database.db, now.toISOString())).toBe(1);
    const rows = await t.database.db.selectFrom('connect_sessions').select(['id', 'status']).where('user_id', '=', 'sweep-user').execute();
    const status = Object.fromEntries(rows.map((r) => [r.id, r.status]));
    expect(status).toEqual({ [open.body.sessionId]: 'expired', [done.body.sessionId]: 'connected', [fresh.body.sessionId]: 'created' });
  });
});
