import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDialects } from '../helpers/databases.js';
import { bearer, createConnectUrl, relay } from '../helpers/flows.js';
import { buildTestApp, type TestApp } from '../helpers/test-app.js';

describe.each(testDialects)('server-side verification on %s', (dialect) => {
  let t: TestApp;
  let now = new Date('2026-11-26T06:00:00.000Z');
  beforeAll(async () => {
    t = await buildTestApp({
      dialect,
      clock: () => now,
      sandbox: { version: 2 },
      env: { UCW_DATA_ENDPOINTS: 'true', PLATFORM_WEBHOOK_URL: 'http://127.0.0.1:9/hooks', PLATFORM_WEBHOOK_SECRET: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' },
      jobOptions: { baseDelayMs: 1000, maxDelayMs: 1000, random: () => 1 },
    });
  });
  afterAll(() => t.close());

  /** What the outbox holds for one user (each test has its own), in order. */
  const outboxTypes = async (userId: string) =>
    (await t.database.db.selectFrom('outbox').select('type').where('payload', 'like', `%"userId":"${userId}"%`).orderBy('created_at').orderBy('type').execute()).map((r) => r.type);

  it('when a relayed connection is confirmed by the UCW data endpoints, then it becomes verified and dataReady', async () => {
    const member = t.sandbox!.members.create({ userId: 'verified-user' });
    const host = await createConnectUrl(t.app, 'verified-user', { jobTypes: ['transactions'] });
    const relayed = await relay(t.app, host.body.url, {
      type: 'connect/memberConnected',
      metadata: { aggregator: member.aggregator, connectionId: member.connectionId, ucpInstitutionId: member.institutionId },
    });
    const id = relayed.body.forward.metadata.connectionId as string;
    const before = await request(t.app).get(`/connections/${id}`).set('Authorization', await bearer('verified-user'));
    expect([before.body.verified, before.body.dataReady]).toEqual([false, false]);

    expect(await t.deps.jobs.runOnce()).toBe(1);
    const after = await request(t.app).get(`/connections/${id}`).set('Authorization', await bearer('verified-user'));
    expect(after.body).toMatchObject({ status: 'connected', verified: true, dataReady: true });
    const job = await t.database.db.selectFrom('jobs').selectAll().where('subject_id', '=', id).executeTakeFirstOrThrow();
    expect(job.status).toBe('done');
    expect(await outboxTypes('verified-user')).toEqual(['connection.connected', 'connection.data_ready', 'connection.verified']);
  });

  it('when a verification job runs again after it verified (its worker died before recording it done), then nothing is announced twice', async () => {
    const member = t.sandbox!.members.create({ userId: 'rerun-user' });
    const host = await createConnectUrl(t.app, 'rerun-user', { jobTypes: ['transactions'] });
    const relayed = await relay(t.app, host.body.url, {
      type: 'connect/memberConnected',
      metadata: { aggregator: member.aggregator, connectionId: member.connectionId, ucpInstitutionId: member.institutionId },
    });
    const id = relayed.body.forward.metadata.connectionId as string;
    expect(await t.deps.jobs.runOnce()).toBe(1);
    const reads = () => t.sandbox!.requests.filter((r) => r.path.includes('accounts')).length;
    const readsBefore = reads();
    // What a lapsed lease looks like to the next worker: the job still pending, the connection already verified.
    await t.database.db.updateTable('jobs').set({ status: 'pending', claimed_until: null }).where('subject_id', '=', id).execute();

    expect(await t.deps.jobs.runOnce()).toBe(1);
    expect(await outboxTypes('rerun-user')).toEqual(['connection.connected', 'connection.data_ready', 'connection.verified']);
    expect(reads()).toBe(readsBefore);
    expect((await t.database.db.selectFrom('jobs').select('status').where('subject_id', '=', id).executeTakeFirstOrThrow()).status).toBe('done');
  });

  it('when the UCW never confirms the connection (a forged relay), then after the deadline it needs attention', async () => {
    const host = await createConnectUrl(t.app, 'forger', { jobTypes: ['transactions'] });
    const relayed = await relay(t.app, host.body.url, { type: 'connect/memberConnected', metadata: { aggregator: 'sophtron', connectionId: 'MBR-forged', ucpInstitutionId: 'sandbox-bank' } });
    const id = relayed.body.forward.metadata.connectionId as string;

    expect(await t.deps.jobs.runOnce()).toBe(1);
    const job = await t.database.db.selectFrom('jobs').selectAll().where('subject_id', '=', id).executeTakeFirstOrThrow();
    expect(job).toMatchObject({ status: 'pending', attempts: 1 });
    expect(job.last_error).toContain('not_found');

    now = new Date(job.deadline_at);
    expect(await t.deps.jobs.runOnce()).toBe(1);
    const res = await request(t.app).get(`/connections/${id}`).set('Authorization', await bearer('forger'));
    expect(res.body).toMatchObject({ status: 'needs_attention', verified: false, dataReady: false });
    expect((await t.database.db.selectFrom('jobs').select('status').where('subject_id', '=', id).executeTakeFirstOrThrow()).status).toBe('failed');
    expect(await outboxTypes('forger')).toEqual(['connection.connected', 'connection.needs_attention']);
    const payload = JSON.parse((await t.database.db.selectFrom('outbox').select('payload').where('type', '=', 'connection.needs_attention').executeTakeFirstOrThrow()).payload);
    expect(payload).toEqual({ type: 'connection.needs_attention', timestamp: now.toISOString(), data: { userId: 'forger', sessionId: host.body.sessionId, connection: expect.objectContaining({ id, status: 'needs_attention' }) } });
    expect(JSON.stringify(payload)).not.toContain('MBR-forged');
  });
});
