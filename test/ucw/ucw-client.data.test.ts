import { describe, expect, it } from 'vitest';
import { STATIC_BEARER, UCW_BASE, buildClient, html, json, rejectionOf, scriptedAgent } from './ucw-fakes.js';

const ref = { aggregator: 'mx', userId: 'user 1/é', connectionId: 'MBR-1 &/?' };
const accounts = { accounts: [{ depositAccount: { accountId: 'ACT-1' } }] };

describe('data endpoints, v1 (path style)', () => {
  it('when reading accounts and identity, then every id is a path segment, encoded', async () => {
    const { agent, calls } = scriptedAgent({ [UCW_BASE]: () => json(200, accounts) });
    const client = buildClient({ dispatcher: agent, apiVersion: '1' });

    expect(await client.getAccounts(ref)).toEqual(accounts);
    await client.getIdentity(ref);
    expect(calls.map((call) => `${call.method} ${call.path}`)).toEqual([
      'GET /api/data/aggregator/mx/user/user%201%2F%C3%A9/connection/MBR-1%20%26%2F%3F/accounts',
      'GET /api/data/aggregator/mx/user/user%201%2F%C3%A9/connection/MBR-1%20%26%2F%3F/identity',
    ]);
    expect(calls[0]!.headers['authorization']).toBe(`Bearer ${STATIC_BEARER}`);
    expect(calls[0]!.headers['ucw-connection-id']).toBeUndefined();
  });

  it('when reading transactions, then the account is in the path and the dates in the query', async () => {
    const { agent, calls } = scriptedAgent({ [UCW_BASE]: () => json(200, { transactions: [] }) });
    const client = buildClient({ dispatcher: agent, apiVersion: '1' });

    await client.getTransactions(ref, { accountId: 'ACT 9', startDate: '2025-01-01', endDate: '2025-05-20' });
    await client.getTransactions(ref, { accountId: 'ACT-9' });
    expect(calls.map((call) => call.path)).toEqual([
      '/api/data/aggregator/mx/user/user%201%2F%C3%A9/account/ACT%209/transactions?startDate=2025-01-01&endDate=2025-05-20',
      '/api/data/aggregator/mx/user/user%201%2F%C3%A9/account/ACT-9/transactions',
    ]);
  });

  it('when deleting, then DELETE /api/aggregator/…/user/…/connection/… and an empty 200 is success', async () => {
    const { agent, calls } = scriptedAgent({ [UCW_BASE]: () => ({ status: 200 }) });
    await expect(buildClient({ dispatcher: agent, apiVersion: '1' }).deleteConnection(ref)).resolves.toBeUndefined();
    expect(calls.map((call) => `${call.method} ${call.path}`)).toEqual(['DELETE /api/aggregator/mx/user/user%201%2F%C3%A9/connection/MBR-1%20%26%2F%3F']);
  });
});

describe('data endpoints, v2 (UCW-Connection-Id header)', () => {
  it('when reading accounts and identity, then aggregator and userId are query values and the connection id a header', async () => {
    const { agent, calls } = scriptedAgent({ [UCW_BASE]: () => json(200, accounts) });
    const client = buildClient({ dispatcher: agent, apiVersion: '2' });

    expect(await client.getAccounts(ref)).toEqual(accounts);
    await client.getIdentity(ref);
    expect(calls.map((call) => call.path)).toEqual([
      '/api/data/accounts?aggregator=mx&userId=user%201%2F%C3%A9',
      '/api/data/identity?aggregator=mx&userId=user%201%2F%C3%A9',
    ]);
    expect(calls[0]!.headers['ucw-connection-id']).toBe('MBR-1 &/?');
    expect(calls[0]!.url.searchParams.get('userId')).toBe('user 1/é');
  });

  it('when reading transactions, then accountId, aggregator, userId and the dates are query values, plus the header', async () => {
    const { agent, calls } = scriptedAgent({ [UCW_BASE]: () => json(200, { transactions: [] }) });
    await buildClient({ dispatcher: agent }).getTransactions(ref, { accountId: 'ACT-9', startDate: '2025-01-01' });
    expect(calls[0]!.path).toBe('/api/data/transactions?accountId=ACT-9&aggregator=mx&userId=user%201%2F%C3%A9&startDate=2025-01-01');
    expect(calls[0]!.headers['ucw-connection-id']).toBe('MBR-1 &/?');
  });

  it('when deleting, then DELETE /api/connection?aggregator&userId with the header', async () => {
    const { agent, calls } = scriptedAgent({ [UCW_BASE]: () => json(200, { ok: true }) });
    await buildClient({ dispatcher: agent }).deleteConnection(ref);
    expect(calls.map((call) => `${call.method} ${call.path}`)).toEqual(['DELETE /api/connection?aggregator=mx&userId=user%201%2F%C3%A9']);
    expect(calls[0]!.headers['ucw-connection-id']).toBe('MBR-1 &/?');
  });
});

describe('data and delete failures', () => {
  it.each(['1', '2'] as const)('when the UCW answers 404 (v%s), then not_found for data and delete', async (apiVersion) => {
    const { agent } = scriptedAgent({ [UCW_BASE]: () => html(404, 'Not Found') });
    const client = buildClient({ dispatcher: agent, apiVersion });
    expect(await rejectionOf(client.getAccounts(ref))).toMatchObject({ code: 'not_found', status: 404 });
    expect(await rejectionOf(client.getIdentity(ref))).toMatchObject({ code: 'not_found' });
    expect(await rejectionOf(client.getTransactions(ref, { accountId: 'a' }))).toMatchObject({ code: 'not_found' });
    expect(await rejectionOf(client.deleteConnection(ref))).toMatchObject({ code: 'not_found' });
  });

  it('when a delete is refused with a JSON message, then ucw_rejected_request carries it', async () => {
    const { agent } = scriptedAgent({ [UCW_BASE]: () => json(400, { message: 'Failed to delete connection' }) });
    const error = await rejectionOf(buildClient({ dispatcher: agent }).deleteConnection(ref));
    expect(error).toMatchObject({ code: 'ucw_rejected_request', message: 'The UCW rejected the request (400): Failed to delete connection' });
  });

  it.each([
    ['not JSON', html(200, '<html>')],
    ['a JSON string', json(200, 'accounts')],
    ['JSON null', json(200, null)],
  ])('when data comes back as %s, then ucw_bad_response', async (_label, reply) => {
    const { agent } = scriptedAgent({ [UCW_BASE]: () => reply });
    expect(await rejectionOf(buildClient({ dispatcher: agent }).getAccounts(ref))).toMatchObject({ code: 'ucw_bad_response' });
  });

  it('when the UCW fails with 5xx on data, then ucw_bad_response naming the route template, not the ids', async () => {
    const { agent } = scriptedAgent({ [UCW_BASE]: () => html(503, 'unavailable') });
    const error = await rejectionOf(buildClient({ dispatcher: agent, apiVersion: '1' }).getAccounts(ref));
    expect(error.message).toBe('The UCW answered 503 to GET /api/data/aggregator/:aggregator/user/:userId/connection/:connectionId/accounts');
  });

  it('when the version is auto, then data calls use the detected form', async () => {
    const { agent, calls } = scriptedAgent({ [UCW_BASE]: (call) => (call.method === 'POST' ? html(404, 'nope') : json(200, accounts)) });
    await buildClient({ dispatcher: agent, apiVersion: 'auto' }).getAccounts(ref);
    expect(calls.map((call) => call.path)).toEqual(['/widgetUrl', '/api/data/aggregator/mx/user/user%201%2F%C3%A9/connection/MBR-1%20%26%2F%3F/accounts']);
  });
});
