import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { createSandboxUcwApp, type SandboxUcwOptions } from '../../src/sandbox/sandbox-ucw.js';

const BEARER = 'm2m-good-token';
const AUTH = { Authorization: `Bearer ${BEARER}` };
const WIDGET_QUERY = { jobTypes: 'transactions,accountOwner', userId: 'user-1', targetOrigin: 'http://localhost:3000' };

function buildV1(overrides: Partial<SandboxUcwOptions> = {}) {
  let clock = 1_000_000;
  const { app, state } = createSandboxUcwApp({
    version: 1,
    isValidBearer: (token) => token === BEARER,
    now: () => clock,
    ...overrides,
  });
  return { app, state, advance: (ms: number) => (clock += ms) };
}

async function mintToken(app: Parameters<typeof request>[0], userId = 'user-1'): Promise<string> {
  const res = await request(app).get('/api/token').query({ userId }).set(AUTH);
  expect(res.status).toBe(200);
  return (res.body as { token: string }).token;
}

describe('v1 GET /api/token', () => {
  it('when called with a valid bearer and a userId, then it answers 200 {"token": <uuid>}', async () => {
    const { app } = buildV1();
    const res = await request(app).get('/api/token').query({ userId: 'user-1' }).set(AUTH);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(Object.keys(res.body as object)).toEqual(['token']);
    expect((res.body as { token: string }).token).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('when no bearer is sent, then it answers 401 text/html "Unauthorized" without WWW-Authenticate', async () => {
    const { app } = buildV1();
    const res = await request(app).get('/api/token').query({ userId: 'user-1' });
    expect(res.status).toBe(401);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.text).toBe('Unauthorized');
    expect(res.headers['www-authenticate']).toBeUndefined();
  });

  it('when the bearer is rejected by isValidBearer, then it answers 401 "Unauthorized"', async () => {
    const { app } = buildV1();
    const res = await request(app).get('/api/token').query({ userId: 'user-1' }).set({ Authorization: 'Bearer wrong' });
    expect(res.status).toBe(401);
    expect(res.text).toBe('Unauthorized');
  });

  it('when userId is missing, then it answers 400 with the HTML-encoded Joi message', async () => {
    const { app } = buildV1();
    const res = await request(app).get('/api/token').set(AUTH);
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.text).toBe('&#x22;userId&#x22; is required');
  });

  it('when the UCW authentication is off, then /api/token does not exist (404)', async () => {
    const { app } = buildV1({ isValidBearer: undefined });
    const res = await request(app).get('/api/token').query({ userId: 'user-1' }).set(AUTH);
    expect(res.status).toBe(404);
  });

  it('when any route answers, then it carries Access-Control-Allow-Origin: *', async () => {
    const { app } = buildV1();
    for (const res of [
      await request(app).get('/api/token').query({ userId: 'u' }).set(AUTH),
      await request(app).get('/api/token'),
      await request(app).get('/nowhere'),
      await request(app).get('/widget').query({ ...WIDGET_QUERY, token: 'nope' }),
    ]) {
      expect(res.headers['access-control-allow-origin']).toBe('*');
    }
  });
});

describe('v1 GET /widget with authentication on', () => {
  it('when a fresh token is used by its user, then it answers 200 HTML and sets the authorizationToken cookie to the bearer', async () => {
    const { app } = buildV1();
    const token = await mintToken(app);
    const res = await request(app).get('/widget').query({ ...WIDGET_QUERY, token });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.text).toContain('<!doctype html>');
    expect(res.headers['set-cookie']).toEqual([`authorizationToken=${BEARER}; Path=/; HttpOnly; Secure; SameSite=Strict`]);
    expect(res.headers['x-frame-options']).toBeUndefined();
    expect(res.headers['content-security-policy']).toBeUndefined();
  });

  it('when the same token is used a second time, then it answers 200 "token invalid or expired" with no cookie', async () => {
    const { app } = buildV1();
    const token = await mintToken(app);
    await request(app).get('/widget').query({ ...WIDGET_QUERY, token }).expect(200);
    const res = await request(app).get('/widget').query({ ...WIDGET_QUERY, token });
    expect(res.status).toBe(200);
    expect(res.text).toBe('token invalid or expired');
    expect(res.headers['set-cookie']).toBeUndefined();
  });

  it('when an unknown token is used, then it answers 200 "token invalid or expired"', async () => {
    const { app } = buildV1();
    const res = await request(app).get('/widget').query({ ...WIDGET_QUERY, token: 'b3555f3e-ef53-4182-bc6b-a7bc0fa3767d' });
    expect(res.status).toBe(200);
    expect(res.text).toBe('token invalid or expired');
  });

  it('when a token is used with another userId, then that fails and the token is not consumed', async () => {
    const { app } = buildV1();
    const token = await mintToken(app, 'user-1');
    const other = await request(app).get('/widget').query({ ...WIDGET_QUERY, userId: 'user-2', token });
    expect(other.status).toBe(200);
    expect(other.text).toBe('token invalid or expired');
    const own = await request(app).get('/widget').query({ ...WIDGET_QUERY, userId: 'user-1', token });
    expect(own.status).toBe(200);
    expect(own.text).toContain('<!doctype html>');
  });

  it('when the token is older than 300 s, then it is expired; just under 300 s it still works', async () => {
    const { app, advance } = buildV1();
    const stale = await mintToken(app);
    const fresh = await mintToken(app);
    advance(299_999);
    expect((await request(app).get('/widget').query({ ...WIDGET_QUERY, token: fresh })).text).toContain('<!doctype html>');
    advance(1);
    const res = await request(app).get('/widget').query({ ...WIDGET_QUERY, token: stale });
    expect(res.status).toBe(200);
    expect(res.text).toBe('token invalid or expired');
  });

  it('when a valid token comes with bad widget parameters, then the token is consumed and the answer is 400 with the Joi message', async () => {
    const { app } = buildV1();
    const token = await mintToken(app);
    const bad = await request(app).get('/widget').query({ ...WIDGET_QUERY, jobTypes: 'everything', token });
    expect(bad.status).toBe(400);
    expect(bad.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(bad.text).toBe(
      '&#x22;jobTypes&#x22; must be one of [accountNumber, accountOwner, transactions, transactionHistory]',
    );
    const retry = await request(app).get('/widget').query({ ...WIDGET_QUERY, token });
    expect(retry.text).toBe('token invalid or expired');
  });

  it('when no token is given, then the page loads without a cookie (its API calls will then need one)', async () => {
    const { app } = buildV1();
    const res = await request(app).get('/widget').query(WIDGET_QUERY);
    expect(res.status).toBe(200);
    expect(res.headers['set-cookie']).toBeUndefined();
  });
});

describe('v1 GET /widget parameter validation (auth off)', () => {
  const cases: Array<[string, Record<string, string>, string]> = [
    ['jobTypes is missing', { userId: 'u' }, '"jobTypes" is required'],
    ['jobTypes and userId are missing', {}, '"jobTypes" is required'],
    ['a job type is unknown', { jobTypes: 'transactions,foo', userId: 'u' }, '"jobTypes" must be one of [accountNumber, accountOwner, transactions, transactionHistory]'],
    ['userId is missing', { jobTypes: 'transactions' }, '"userId" is required'],
    ['userId is empty', { jobTypes: 'transactions', userId: '' }, '"userId" is not allowed to be empty'],
    ['aggregator is unknown', { jobTypes: 'transactions', userId: 'u', aggregator: 'acme', connectionId: 'c', institutionId: 'i' }, '"aggregator" must be one of [mx, mx_int, sophtron, finicity, finicity_sandbox]'],
    ['aggregator comes without its peers', { jobTypes: 'transactions', userId: 'u', aggregator: 'mx' }, 'aggregator missing required peer connectionId'],
    ['connectionId comes without aggregator', { jobTypes: 'transactions', userId: 'u', connectionId: 'MBR-1', institutionId: 'i' }, 'connectionId missing required peer aggregator'],
    ['connectionId and aggregator come without institutionId', { jobTypes: 'transactions', userId: 'u', connectionId: 'MBR-1', aggregator: 'mx' }, 'connectionId missing required peer institutionId'],
    ['singleAccountSelect is not a boolean', { jobTypes: 'transactions', userId: 'u', singleAccountSelect: 'maybe' }, '"singleAccountSelect" must be a boolean'],
    ['an unknown parameter is present', { jobTypes: 'transactions', userId: 'u', foo: 'bar' }, '"foo" is not allowed'],
  ];

  it.each(cases)('when %s, then 400 with that one message, HTML-encoded', async (_name, query, message) => {
    const { app } = buildV1({ isValidBearer: undefined });
    const res = await request(app).get('/widget').query(query);
    expect(res.status).toBe(400);
    expect(res.text).toBe(message.replaceAll('"', '&#x22;'));
  });

  it('when a refresh has all three peers and singleAccountSelect=false, then the page is served without any token', async () => {
    const { app } = buildV1({ isValidBearer: undefined });
    const res = await request(app).get('/widget').query({
      ...WIDGET_QUERY,
      connectionId: 'MBR-1',
      aggregator: 'mx',
      institutionId: 'mx-bank',
      singleAccountSelect: 'false',
      token: 'ignored-when-auth-is-off',
    });
    expect(res.status).toBe(200);
    expect(res.text).toContain('<!doctype html>');
    expect(res.headers['set-cookie']).toBeUndefined();
  });
});

describe('v2 mode has no /api/token', () => {
  it('when /api/token is called on a v2 simulator, then it answers 404', async () => {
    const { app } = createSandboxUcwApp({ version: 2, isValidBearer: (t) => t === BEARER });
    const res = await request(app).get('/api/token').query({ userId: 'u' }).set(AUTH);
    expect(res.status).toBe(404);
  });
});
