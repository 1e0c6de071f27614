import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, createConnectUrl, relay } from '../helpers/flows.js';
import { testDialects } from '../helpers/databases.js';
import { buildTestApp, type TestApp } from '../helpers/test-app.js';

describe.each(testDialects)('on %s', (dialect) => {
  describe.each([1, 2] as const)('connections API against a v%s sandbox UCW', (version) => {
    let t: TestApp;
    beforeAll(async () => {
      t = await buildTestApp({ dialect, sandbox: { version }, env: { UCW_DELETE_ENABLED: 'true', UCW_DATA_ENDPOINTS: 'true' } });
    });
    afterAll(() => t.close());

    /** Connects `userId` to a member the sandbox knows, the way the widget would report it. */
    const connect = async (userId: string) => {
      const member = t.sandbox!.members.create({ userId });
      const host = await createConnectUrl(t.app, userId, { jobTypes: ['transactions', 'accountOwner'] });
      const res = await relay(t.app, host.body.url, {
        type: 'connect/memberConnected',
        metadata: { aggregator: member.aggregator, connectionId: member.connectionId, aggregatorUserId: member.aggregatorUserId, ucpInstitutionId: member.institutionId },
      });
      return { id: res.body.forward.metadata.connectionId as string, member };
    };

    it('when the user reads a connection, then it has exactly the public shape', async () => {
      const { id, member } = await connect('reader');
      const res = await request(t.app).get(`/connections/${id}`).set('Authorization', await bearer('reader'));
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        id,
        aggregator: member.aggregator,
        institutionId: member.institutionId,
        status: 'connected',
        statusCode: 6,
        jobTypes: ['transactions', 'accountOwner'],
        verified: false,
        dataReady: false,
        duplicateOf: null,
        createdAt: expect.any(String),
        updatedAt: expect.any(String),
        lastConnectedAt: expect.any(String),
      });
      expect(res.text).not.toContain(member.connectionId);
      expect(res.text).not.toContain(member.aggregatorUserId);
    });

    it("when another user reads, deletes or fetches data of it, then 404 every time", async () => {
      const { id } = await connect('victim');
      const intruder = await bearer('intruder');
      for (const path of [`/connections/${id}`, `/connections/${id}/accounts`, `/connections/${id}/identity`, `/connections/${id}/transactions?accountId=x`]) {
        const res = await request(t.app).get(path).set('Authorization', intruder);
        expect(res.status, path).toBe(404);
      }
      expect((await request(t.app).delete(`/connections/${id}`).set('Authorization', intruder)).status).toBe(404);
      const still = await request(t.app).get(`/connections/${id}`).set('Authorization', await bearer('victim'));
      expect(still.body.status).toBe('connected');
    });

    it('when the owner fetches data, then the UCW data endpoints answer for that connection', async () => {
      const { id, member } = await connect('data-user');
      const accounts = await request(t.app).get(`/connections/${id}/accounts`).set('Authorization', await bearer('data-user'));
      expect(accounts.status).toBe(200);
      expect(Array.isArray(accounts.body.accounts)).toBe(true);
      expect(accounts.body.accounts.length).toBeGreaterThan(0);
      const identity = await request(t.app).get(`/connections/${id}/identity`).set('Authorization', await bearer('data-user'));
      expect(identity.status).toBe(200);
      const last = t.sandbox!.requests.filter((r) => r.path.includes('/api/data/')).at(-1)!;
      if (version === 2) expect(last.headers['ucw-connection-id']).toBe(member.connectionId);
      else expect(last.path).toContain(`/connection/${member.connectionId}/identity`);
      const bad = await request(t.app).get(`/connections/${id}/transactions?accountId=a&startDate=yesterday`).set('Authorization', await bearer('data-user'));
      expect(bad.status).toBe(400);
      expect(bad.body.errors).toEqual([{ field: 'startDate', message: 'must be YYYY-MM-DD' }]);
    });

    it('when the owner deletes it, then the UCW deletes the aggregator connection and the list drops it', async () => {
      const { id, member } = await connect('deleter');
      const res = await request(t.app).delete(`/connections/${id}`).set('Authorization', await bearer('deleter'));
      expect(res.status).toBe(204);
      expect(t.sandbox!.members.list().find((m) => m.connectionId === member.connectionId)!.deleted).toBe(true);
      const list = await request(t.app).get('/connections').set('Authorization', await bearer('deleter'));
      expect(list.body).toEqual({ connections: [] });
      const one = await request(t.app).get(`/connections/${id}`).set('Authorization', await bearer('deleter'));
      expect(one.body.status).toBe('deleted');
      expect((await request(t.app).delete(`/connections/${id}`).set('Authorization', await bearer('deleter'))).status).toBe(404);
    });
  });
});
