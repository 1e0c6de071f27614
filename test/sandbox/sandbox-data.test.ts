import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { createSandboxUcwApp } from '../../src/sandbox/sandbox-ucw.js';

const BEARER = 'm2m-good-token';
const AUTH = { Authorization: `Bearer ${BEARER}` };
// 2025-06-15T12:00:00Z: transactions are dated 1, 3, 10 and 60 days before.
const NOW = Date.UTC(2025, 5, 15, 12);

function build(version: 1 | 2) {
  const { app, state } = createSandboxUcwApp({ version, isValidBearer: (t) => t === BEARER, now: () => NOW });
  const mine = state.members.create({ userId: 'user-1', aggregator: 'mx', institutionId: 'mx-bank' });
  const theirs = state.members.create({ userId: 'user-2', aggregator: 'mx', institutionId: 'mx-bank' });
  return { app, state, mine, theirs };
}

type Accounts = { accounts: Array<{ depositAccount: { accountId: string; accountType: string } }> };

describe('v1 data endpoints', () => {
  const accountsPath = (userId: string, connectionId: string, aggregator = 'mx') =>
    `/api/data/aggregator/${aggregator}/user/${userId}/connection/${connectionId}/accounts`;

  it("when a user reads their own connection's accounts, then 200 { accounts: [{ depositAccount }] } with stable ids", async () => {
    const { app, mine } = build(1);
    const res = await request(app).get(accountsPath('user-1', mine.connectionId)).set(AUTH);
    expect(res.status).toBe(200);
    const body = res.body as Accounts;
    expect(body.accounts.map((a) => a.depositAccount.accountType)).toEqual(['CHECKING', 'SAVINGS']);
    expect(body.accounts[0]?.depositAccount.accountId).toMatch(/^ACT-[0-9a-f-]{36}$/);
    const again = await request(app).get(accountsPath('user-1', mine.connectionId)).set(AUTH);
    expect(again.body).toEqual(res.body);
  });

  it("when a user asks for another user's connection, then 404 { message: 'Connection not found' }", async () => {
    const { app, theirs } = build(1);
    const res = await request(app).get(accountsPath('user-1', theirs.connectionId)).set(AUTH);
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ message: 'Connection not found' });
  });

  it('when the connection is unknown or asked for at another aggregator, then 404', async () => {
    const { app, mine } = build(1);
    expect((await request(app).get(accountsPath('user-1', 'MBR-unknown')).set(AUTH)).status).toBe(404);
    expect((await request(app).get(accountsPath('user-1', mine.connectionId, 'sophtron')).set(AUTH)).status).toBe(404);
  });

  it('when the aggregator is not one the UCW knows, then 400 with the encoded Joi message', async () => {
    const { app, mine } = build(1);
    const res = await request(app).get(accountsPath('user-1', mine.connectionId, 'acme')).set(AUTH);
    expect(res.status).toBe(400);
    expect(res.text).toBe('&#x22;aggregator&#x22; must be one of [mx, mx_int, sophtron, finicity, finicity_sandbox]');
  });

  it('when no bearer is sent, then 401 "Unauthorized"', async () => {
    const { app, mine } = build(1);
    const res = await request(app).get(accountsPath('user-1', mine.connectionId));
    expect(res.status).toBe(401);
    expect(res.text).toBe('Unauthorized');
  });

  it('when identity is read, then 200 { customers } whose accounts are the connection\'s accounts', async () => {
    const { app, mine } = build(1);
    const accounts = (await request(app).get(accountsPath('user-1', mine.connectionId)).set(AUTH)).body as Accounts;
    const res = await request(app).get(`/api/data/aggregator/mx/user/user-1/connection/${mine.connectionId}/identity`).set(AUTH);
    expect(res.status).toBe(200);
    const { customers } = res.body as { customers: Array<{ accounts: Array<{ accountId: string }>; name: unknown }> };
    expect(customers).toHaveLength(1);
    expect(customers[0]?.name).toEqual({ first: 'Sandy', last: 'Box' });
    expect(customers[0]?.accounts).toEqual(accounts.accounts.map((a) => ({ accountId: a.depositAccount.accountId })));
  });

  it('when transactions are read for an owned account within a date range, then only those dates are returned', async () => {
    const { app, mine } = build(1);
    const accounts = (await request(app).get(accountsPath('user-1', mine.connectionId)).set(AUTH)).body as Accounts;
    const accountId = accounts.accounts[0]!.depositAccount.accountId;
    const path = `/api/data/aggregator/mx/user/user-1/account/${accountId}/transactions`;
    const all = await request(app).get(path).set(AUTH);
    expect(all.status).toBe(200);
    type Tx = { transactions: Array<{ depositTransaction: { accountId: string; postedTimestamp: string; description: string } }> };
    expect((all.body as Tx).transactions.map((t) => t.depositTransaction.postedTimestamp)).toEqual([
      '2025-06-14T12:00:00.000Z',
      '2025-06-12T12:00:00.000Z',
      '2025-06-05T12:00:00.000Z',
      '2025-04-16T12:00:00.000Z',
    ]);
    const ranged = await request(app).get(path).query({ startDate: '2025-06-05', endDate: '2025-06-12' }).set(AUTH);
    expect((ranged.body as Tx).transactions.map((t) => t.depositTransaction.description)).toEqual(['Grocery Store', 'Power Company']);
  });

  it('when transactions are read for an account of another user, then 404 { message: "Account not found" }', async () => {
    const { app, theirs } = build(1);
    const accounts = (await request(app).get(`/api/data/aggregator/mx/user/user-2/connection/${theirs.connectionId}/accounts`).set(AUTH)).body as Accounts;
    const accountId = accounts.accounts[0]!.depositAccount.accountId;
    const res = await request(app).get(`/api/data/aggregator/mx/user/user-1/account/${accountId}/transactions`).set(AUTH);
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ message: 'Account not found' });
  });

  it('when startDate is not YYYY-MM-DD, then 400 with the pattern message', async () => {
    const { app } = build(1);
    const res = await request(app).get('/api/data/aggregator/mx/user/user-1/account/ACT-1/transactions').query({ startDate: '2025-06-05T00:00:00Z' }).set(AUTH);
    expect(res.status).toBe(400);
    expect(res.text).toBe('&#x22;startDate&#x22; with value &#x22;2025-06-05T00:00:00Z&#x22; fails to match the required pattern: /^\\d{4}-\\d{2}-\\d{2}$/');
  });

  it('when a user deletes their connection, then 200, the member is marked deleted and its data is gone (404)', async () => {
    const { app, state, mine } = build(1);
    const res = await request(app).delete(`/api/aggregator/mx/user/user-1/connection/${mine.connectionId}`).set(AUTH);
    expect(res.status).toBe(200);
    expect(res.text).toBe('');
    expect(state.members.list().find((m) => m.connectionId === mine.connectionId)?.deleted).toBe(true);
    expect((await request(app).get(accountsPath('user-1', mine.connectionId)).set(AUTH)).status).toBe(404);
    const again = await request(app).delete(`/api/aggregator/mx/user/user-1/connection/${mine.connectionId}`).set(AUTH);
    expect(again.status).toBe(404);
    expect(again.body).toEqual({ message: 'Connection not found' });
  });

  it("when a user tries to delete another user's connection, then 404 and it stays", async () => {
    const { app, state, theirs } = build(1);
    const res = await request(app).delete(`/api/aggregator/mx/user/user-1/connection/${theirs.connectionId}`).set(AUTH);
    expect(res.status).toBe(404);
    expect(state.members.list().find((m) => m.connectionId === theirs.connectionId)?.deleted).toBe(false);
  });

  it('when an aggregator user is deleted, then 204 and all of their members there are deleted, nobody else\'s', async () => {
    const { app, state } = build(1);
    const res = await request(app).delete('/api/aggregator/mx/user/user-1').set(AUTH);
    expect(res.status).toBe(204);
    expect(state.members.list().map((m) => [m.userId, m.deleted])).toEqual([
      ['user-1', true],
      ['user-2', false],
    ]);
  });
});

describe('v2 data endpoints', () => {
  it('when accounts are read with the UCW-Connection-Id header, then 200 { accounts }', async () => {
    const { app, mine } = build(2);
    const res = await request(app).get('/api/data/accounts').query({ aggregator: 'mx', userId: 'user-1' }).set(AUTH).set('UCW-Connection-Id', mine.connectionId);
    expect(res.status).toBe(200);
    expect((res.body as Accounts).accounts).toHaveLength(2);
  });

  it("when the header names another user's connection, then 404", async () => {
    const { app, theirs } = build(2);
    const res = await request(app).get('/api/data/accounts').query({ aggregator: 'mx', userId: 'user-1' }).set(AUTH).set('UCW-Connection-Id', theirs.connectionId);
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ message: 'Connection not found' });
  });

  it('when the UCW-Connection-Id header or userId is missing, then 400 naming it', async () => {
    const { app, mine } = build(2);
    const noHeader = await request(app).get('/api/data/identity').query({ aggregator: 'mx', userId: 'user-1' }).set(AUTH);
    expect(noHeader.status).toBe(400);
    expect(noHeader.text).toBe('&#x22;ucw-connection-id&#x22; is required');
    const noUser = await request(app).get('/api/data/identity').query({ aggregator: 'mx' }).set(AUTH).set('UCW-Connection-Id', mine.connectionId);
    expect(noUser.text).toBe('&#x22;userId&#x22; is required');
  });

  it('when identity and transactions are read for an owned connection, then 200', async () => {
    const { app, mine } = build(2);
    const identity = await request(app).get('/api/data/identity').query({ aggregator: 'mx', userId: 'user-1' }).set(AUTH).set('UCW-Connection-Id', mine.connectionId);
    expect(identity.status).toBe(200);
    const accountId = (identity.body as { customers: Array<{ accounts: Array<{ accountId: string }> }> }).customers[0]!.accounts[0]!.accountId;
    const tx = await request(app).get('/api/data/transactions').query({ accountId, aggregator: 'mx', userId: 'user-1', startDate: '2025-06-01' }).set(AUTH);
    expect(tx.status).toBe(200);
    expect((tx.body as { transactions: unknown[] }).transactions).toHaveLength(3);
  });

  it('when a connection is deleted via DELETE /api/connection, then 200 and later reads are 404', async () => {
    const { app, state, mine } = build(2);
    const res = await request(app).delete('/api/connection').query({ aggregator: 'mx', userId: 'user-1' }).set(AUTH).set('UCW-Connection-Id', mine.connectionId);
    expect(res.status).toBe(200);
    expect(state.members.list()[0]?.deleted).toBe(true);
    const read = await request(app).get('/api/data/accounts').query({ aggregator: 'mx', userId: 'user-1' }).set(AUTH).set('UCW-Connection-Id', mine.connectionId);
    expect(read.status).toBe(404);
  });

  it("when DELETE /api/connection names another user's connection, then 404 and nothing is deleted", async () => {
    const { app, state, theirs } = build(2);
    const res = await request(app).delete('/api/connection').query({ aggregator: 'mx', userId: 'user-1' }).set(AUTH).set('UCW-Connection-Id', theirs.connectionId);
    expect(res.status).toBe(404);
    expect(state.members.list().every((m) => !m.deleted)).toBe(true);
  });

  it('when v1 data paths are called on a v2 simulator, then 404', async () => {
    const { app, mine } = build(2);
    const res = await request(app).get(`/api/data/aggregator/mx/user/user-1/connection/${mine.connectionId}/accounts`).set(AUTH);
    expect(res.status).toBe(404);
  });
});
