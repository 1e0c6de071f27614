import type { Express } from 'express';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { buildDependencies } from '../../src/dependencies.js';
import { createTestDatabase, testDialects } from '../helpers/databases.js';
import { bearer, createConnectUrl, relay, v1Connected } from '../helpers/flows.js';
import { captureLogs } from '../helpers/logs.js';
import { openSse } from '../helpers/sse.js';
import { buildTestApp, testEnv, type TestApp } from '../helpers/test-app.js';

const listen = async (app: Express) => {
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
};

const memberError = (guid: string) => ({ type: 'connect/memberError', metadata: { member: { guid, connection_status: 2 } } });

describe.each(testDialects)('connect session endings on %s', (dialect) => {
  let t: TestApp;
  let base: string;
  let server: Server;
  let now = new Date('2026-11-26T06:00:00.000Z');
  beforeAll(async () => {
    // A long heartbeat: these streams must end because of a recorded change, not a heartbeat check.
    t = await buildTestApp({ dialect, clock: () => now, env: { SESSION_TTL_SECONDS: '600', SSE_HEARTBEAT_SECONDS: '300' } });
    ({ server, url: base } = await listen(t.app));
  });
  afterAll(async () => {
    t.deps.streams.closeAll();
    await new Promise((resolve) => server.close(resolve));
    await t.close();
  });

  const systemLog = (sessionId: string) =>
    t.database.db.selectFrom('connection_events').select(['type', 'metadata']).where('session_id', '=', sessionId).where('source', '=', 'system').orderBy('seq').execute()
      .then((rows) => rows.map((row) => [row.type, JSON.parse(row.metadata)]));

  it('when a session outlives its TTL unfinished, then reading it shows expired, the ending is logged, and relays are refused with 410', async () => {
    now = new Date('2026-11-26T06:00:00.000Z');
    const res = await createConnectUrl(t.app, 'exp-user', { jobTypes: ['transactions'] });
    expect(res.body.expiresAt).toBe('2026-11-26T06:10:00.000Z');
    now = new Date('2026-11-26T06:10:01.000Z');
    const read = await request(t.app).get(`/connect-sessions/${res.body.sessionId}`).set('Authorization', await bearer('exp-user'));
    expect(read.body).toMatchObject({ status: 'expired', lastError: null });
    expect(await systemLog(res.body.sessionId)).toEqual([['status', { status: 'expired' }]]);
    const late = await relay(t.app, res.body.url, v1Connected('MBR-late'));
    expect(late.status).toBe(410);
    expect(await t.database.db.selectFrom('connections').select('id').where('user_id', '=', 'exp-user').execute()).toEqual([]);
  });

  it('when the sweep runs, then open sessions past expiry end (failed after an error, else expired) and the others stay', async () => {
    now = new Date('2026-11-26T07:00:00.000Z');
    const open = await createConnectUrl(t.app, 'sweep-user', { jobTypes: ['transactions'] });
    const errored = await createConnectUrl(t.app, 'sweep-user', { jobTypes: ['transactions'] });
    await relay(t.app, errored.body.url, memberError('MBR-err'));
    const done = await createConnectUrl(t.app, 'sweep-user', { jobTypes: ['transactions'] });
    await relay(t.app, done.body.url, v1Connected('MBR-sweep'));
    const fresh = await createConnectUrl(t.app, 'sweep-user', { jobTypes: ['transactions'] });
    now = new Date('2026-11-26T07:10:00.000Z');
    const fresher = await createConnectUrl(t.app, 'sweep-user', { jobTypes: ['transactions'] });
    expect(await t.deps.events.expireDueSessions()).toBe(3);
    const rows = await t.database.db.selectFrom('connect_sessions').select(['id', 'status', 'failure_reason']).where('user_id', '=', 'sweep-user').execute();
    expect(Object.fromEntries(rows.map((r) => [r.id, [r.status, r.failure_reason]]))).toEqual({
      [open.body.sessionId]: ['expired', null],
      [errored.body.sessionId]: ['failed', 'expired after memberError (status 2)'],
      [done.body.sessionId]: ['connected', null],
      [fresh.body.sessionId]: ['expired', null],
      [fresher.body.sessionId]: ['created', null],
    });
    expect(await systemLog(errored.body.sessionId)).toEqual([
      ['status', { status: 'opened' }],
      ['status', { status: 'failed' }],
      ['failed', { reason: 'expired after memberError (status 2)' }],
    ]);
    expect(await t.deps.events.expireDueSessions()).toBe(0);
  });

  it('when a session expires while its stream is open, then the sweep ends the stream with the final status', async () => {
    now = new Date('2026-11-26T08:00:00.000Z');
    const created = await createConnectUrl(t.app, 'sse-exp', { jobTypes: ['transactions'] });
    const stream = await openSse(`${base}/connect-sessions/${created.body.sessionId}/stream`, { Authorization: await bearer('sse-exp') });
    await stream.until((events) => events.some((e) => e.event === 'snapshot'));
    now = new Date('2026-11-26T08:10:00.000Z');
    await t.deps.maintenance.runOnce();
    await stream.finished();
    expect(stream.events.map((e) => [e.event, e.data.status])).toEqual([
      ['snapshot', 'created'],
      ['status', 'expired'],
    ]);
  });

  it('when a session with an error expires while its stream is open, then the stream ends at failed', async () => {
    now = new Date('2026-11-26T09:00:00.000Z');
    const created = await createConnectUrl(t.app, 'sse-fail', { jobTypes: ['transactions'] });
    const stream = await openSse(`${base}/connect-sessions/${created.body.sessionId}/stream`, { Authorization: await bearer('sse-fail') });
    await stream.until((events) => events.some((e) => e.event === 'snapshot'));
    await relay(t.app, created.body.url, memberError('MBR-sse-fail'));
    await stream.until((events) => events.some((e) => e.data.status === 'opened'));
    now = new Date('2026-11-26T09:10:00.000Z');
    const read = await request(t.app).get(`/connect-sessions/${created.body.sessionId}`).set('Authorization', await bearer('sse-fail'));
    expect(read.body).toMatchObject({ status: 'failed', lastError: { statusCode: 2, at: '2026-11-26T09:00:00.000Z' } });
    await stream.finished();
    expect(stream.events.map((e) => [e.event, e.data.status])).toEqual([
      ['snapshot', 'created'],
      ['status', 'opened'],
      ['status', 'failed'],
    ]);
  });

  it('when the person cancels while the stream is open, then the stream ends at cancelled', async () => {
    now = new Date('2026-11-26T10:00:00.000Z');
    const created = await createConnectUrl(t.app, 'sse-cancel', { jobTypes: ['transactions'] });
    const stream = await openSse(`${base}/connect-sessions/${created.body.sessionId}/stream`, { Authorization: await bearer('sse-cancel') });
    await stream.until((events) => events.some((e) => e.event === 'snapshot'));
    const u = new URL(created.body.url);
    await request(t.app).post(`${u.pathname}/cancel${u.search}`).expect(200);
    await stream.finished();
    expect(stream.events.map((e) => [e.event, e.data.status])).toEqual([
      ['snapshot', 'created'],
      ['status', 'cancelled'],
    ]);
  });

  it('when a stream opens on an ended session, then it sends the snapshot and the ending and closes', async () => {
    now = new Date('2026-11-26T11:00:00.000Z');
    const created = await createConnectUrl(t.app, 'sse-late', { jobTypes: ['transactions'] });
    now = new Date('2026-11-26T11:10:00.000Z');
    const stream = await openSse(`${base}/connect-sessions/${created.body.sessionId}/stream`, { Authorization: await bearer('sse-late') });
    await stream.finished();
    expect(stream.events.map((e) => [e.event, e.data.status])).toEqual([
      ['snapshot', 'expired'],
      ['status', 'expired'],
    ]);
  });
});

describe.each(testDialects)('SSE heartbeats on %s', (dialect) => {
  it('when a stream stays open, then heartbeats arrive at SSE_HEARTBEAT_SECONDS, and one past expiry ends the stream without the sweep', async () => {
    let now = new Date('2026-11-26T06:00:00.000Z');
    const t = await buildTestApp({ dialect, clock: () => now, env: { SESSION_TTL_SECONDS: '600', SSE_HEARTBEAT_SECONDS: '1' } });
    const { server, url } = await listen(t.app);
    try {
      const created = await createConnectUrl(t.app, 'beat-user', { jobTypes: ['transactions'] });
      const stream = await openSse(`${url}/connect-sessions/${created.body.sessionId}/stream`, { Authorization: await bearer('beat-user') });
      await stream.untilHeartbeats(2, 40_000);
      expect(stream.ended).toBe(false);
      now = new Date('2026-11-26T06:10:00.000Z');
      await stream.finished();
      expect(stream.events.map((e) => [e.event, e.data.status])).toEqual([
        ['snapshot', 'created'],
        ['status', 'expired'],
      ]);
    } finally {
      t.deps.streams.closeAll();
      await new Promise((resolve) => server.close(resolve));
      await t.close();
    }
    // Real one-second heartbeats: generous on a loaded machine (nothing here is timed).
  }, 60_000);
});

describe.runIf(testDialects.includes('postgres'))('session expiry across two BFF instances on one PostgreSQL', () => {
  it('when instance A sweeps an expired session, then a stream held open on instance B ends with it', async () => {
    const database = await createTestDatabase('postgres');
    let now = new Date('2026-11-26T06:00:00.000Z');
    const config = loadConfig(testEnv({ SESSION_TTL_SECONDS: '600', SSE_HEARTBEAT_SECONDS: '300' }));
    const instances = await Promise.all(
      [0, 1].map(async () => {
        const deps = await buildDependencies(config, captureLogs().logger, { database: { ...database, close: async () => undefined }, clock: () => now });
        const app = createApp(deps);
        const { server, url } = await listen(app);
        return { deps, app, server, url };
      }),
    );
    const [a, b] = instances as [(typeof instances)[0], (typeof instances)[0]];
    try {
      const created = await createConnectUrl(a.app, 'multi-exp', { jobTypes: ['transactions'] });
      const stream = await openSse(`${b.url}/connect-sessions/${created.body.sessionId}/stream`, { Authorization: await bearer('multi-exp') });
      await stream.until((events) => events.some((e) => e.event === 'snapshot'));
      now = new Date('2026-11-26T06:10:00.000Z');
      await a.deps.maintenance.runOnce();
      await stream.finished();
      expect(stream.events.map((e) => [e.event, e.data.status])).toEqual([
        ['snapshot', 'created'],
        ['status', 'expired'],
      ]);
    } finally {
      for (const instance of instances) {
        instance.deps.streams.closeAll();
        await new Promise((resolve) => instance.server.close(resolve));
        await instance.deps.close();
      }
      await database.destroy();
    }
  });
});

describe.each(testDialects)('outbound webhooks for session endings on %s', (dialect) => {
  it('when sessions end cancelled, failed and expired, then each ending is in the outbox once, with lastError and the connection, never an aggregator id', async () => {
    let now = new Date('2026-11-26T06:00:00.000Z');
    const t = await buildTestApp({
      dialect,
      clock: () => now,
      env: { SESSION_TTL_SECONDS: '600', PLATFORM_WEBHOOK_URL: 'http://127.0.0.1:9/hooks', PLATFORM_WEBHOOK_SECRET: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' },
    });
    try {
      const cancelled = await createConnectUrl(t.app, 'hook-user', { jobTypes: ['transactions'] });
      const u = new URL(cancelled.body.url);
      await request(t.app).post(`${u.pathname}/cancel${u.search}`).expect(200);
      await request(t.app).post(`${u.pathname}/cancel${u.search}`).expect(200);
      const failed = await createConnectUrl(t.app, 'hook-user', { jobTypes: ['transactions'] });
      await relay(t.app, failed.body.url, { type: 'connect/memberStatusUpdate', metadata: { aggregator: 'mx', connectionId: 'CONN-hook-secret', connectionStatus: 0 } });
      await relay(t.app, failed.body.url, memberError('CONN-hook-secret'));
      const expired = await createConnectUrl(t.app, 'hook-user', { jobTypes: ['transactions'] });
      now = new Date('2026-11-26T06:10:00.000Z');
      await t.deps.events.expireDueSessions();
      await t.deps.events.expireDueSessions();

      const rows = await t.database.db.selectFrom('outbox').select(['type', 'payload']).where('type', 'like', 'session.%').orderBy('created_at').execute();
      expect(JSON.stringify(rows)).not.toContain('CONN-hook-secret');
      const byType = Object.fromEntries(rows.map((row) => [row.type, (JSON.parse(row.payload) as { data: Record<string, unknown> }).data]));
      expect(rows.map((row) => row.type).sort()).toEqual(['session.cancelled', 'session.expired', 'session.failed']);
      expect(byType['session.cancelled']).toEqual({ userId: 'hook-user', sessionId: cancelled.body.sessionId, status: 'cancelled', lastError: null, connection: null });
      expect(byType['session.expired']).toEqual({ userId: 'hook-user', sessionId: expired.body.sessionId, status: 'expired', lastError: null, connection: null });
      expect(byType['session.failed']).toMatchObject({
        userId: 'hook-user',
        sessionId: failed.body.sessionId,
        status: 'failed',
        lastError: { statusCode: 2, at: '2026-11-26T06:00:00.000Z' },
        connection: { aggregator: 'mx', status: 'needs_attention', statusCode: 2 },
      });
    } finally {
      await t.close();
    }
  });
});
