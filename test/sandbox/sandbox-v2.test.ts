import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { createSandboxUcwApp, type SandboxUcwOptions } from '../../src/sandbox/sandbox-ucw.js';

const BEARER = 'm2m-good-token';
const AUTH = { Authorization: `Bearer ${BEARER}` };
const BODY = { jobTypes: ['transactions', 'accountOwner'], userId: 'user-1', targetOrigin: 'http://localhost:3000' };

function buildV2(overrides: Partial<SandboxUcwOptions> = {}) {
  let clock = 5_000_000;
  const { app, state } = createSandboxUcwApp({
    version: 2,
    isValidBearer: (token) => token === BEARER,
    now: () => clock,
    ...overrides,
  });
  return { app, state, advance: (ms: number) => (clock += ms) };
}

const widgetPath = (widgetUrl: string) => {
  const url = new URL(widgetUrl);
  return `${url.pathname}${url.search}`;
};

describe('v2 POST /widgetUrl', () => {
  it('when the body is valid and the bearer accepted, then it answers 200 {"widgetUrl": "<UCW>/widget?token=<uuid>"}', async () => {
    const { app } = buildV2();
    const res = await request(app).post('/widgetUrl').set(AUTH).send(BODY);
    expect(res.status).toBe(200);
    expect(Object.keys(res.body as object)).toEqual(['widgetUrl']);
    expect((res.body as { widgetUrl: string }).widgetUrl).toMatch(
      /^http:\/\/127\.0\.0\.1:\d+\/widget\?token=[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
  });

  it('when publicUrl is configured, then widgetUrl starts with it', async () => {
    const { app } = buildV2({ publicUrl: 'http://localhost:3001/' });
    const res = await request(app).post('/widgetUrl').set(AUTH).send(BODY);
    expect((res.body as { widgetUrl: string }).widgetUrl).toMatch(/^http:\/\/localhost:3001\/widget\?token=/);
  });

  it('when no bearer is sent, then it answers 401 "Unauthorized"', async () => {
    const { app } = buildV2();
    const res = await request(app).post('/widgetUrl').send(BODY);
    expect(res.status).toBe(401);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.text).toBe('Unauthorized');
    expect(res.headers['www-authenticate']).toBeUndefined();
  });

  it('when authentication is off, then no bearer is needed', async () => {
    const { app } = buildV2({ isValidBearer: undefined });
    const res = await request(app).post('/widgetUrl').send(BODY);
    expect(res.status).toBe(200);
  });

  const cases: Array<[string, unknown, string]> = [
    ['the body is empty', undefined, '"jobTypes" is required'],
    ['jobTypes is a comma string', { ...BODY, jobTypes: 'transactions,accountOwner' }, '"jobTypes" must be an array'],
    ['a job type is unknown', { ...BODY, jobTypes: ['transactions', 'foo'] }, '"jobTypes[1]" must be one of [accountNumber, accountOwner, transactions, transactionHistory]'],
    ['the first job type is unknown', { ...BODY, jobTypes: ['all'] }, '"jobTypes[0]" must be one of [accountNumber, accountOwner, transactions, transactionHistory]'],
    ['userId is missing', { jobTypes: BODY.jobTypes, targetOrigin: BODY.targetOrigin }, '"userId" is required'],
    ['userId is not a string', { ...BODY, userId: 42 }, '"userId" must be a string'],
    ['targetOrigin is missing', { jobTypes: BODY.jobTypes, userId: 'u' }, '"targetOrigin" is required'],
    ['targetOrigin is "*"', { ...BODY, targetOrigin: '*' }, '"targetOrigin" must be a valid uri'],
    ['targetOrigin is not a URI', { ...BODY, targetOrigin: 'localhost:3000' }, '"targetOrigin" must be a valid uri with a scheme matching the http|https pattern'],
    ['targetOrigin is a non-http URI', { ...BODY, targetOrigin: 'ftp://example.com' }, '"targetOrigin" must be a valid uri with a scheme matching the http|https pattern'],
    ['an unknown field is present', { ...BODY, foo: 1 }, '"foo" is not allowed'],
    ['aggregator comes without its peers', { ...BODY, aggregator: 'mx' }, 'aggregator missing required peer connectionId'],
    ['connectionId comes without aggregator', { ...BODY, connectionId: 'MBR-1', institutionId: 'i' }, 'connectionId missing required peer aggregator'],
    ['aggregator is unknown', { ...BODY, aggregator: 'acme', connectionId: 'c', institutionId: 'i' }, '"aggregator" must be one of [mx, mx_int, sophtron, finicity, finicity_sandbox, plaid, plaid_sandbox]'],
    ['singleAccountSelect is not a boolean', { ...BODY, singleAccountSelect: 'yes' }, '"singleAccountSelect" must be a boolean'],
    ['the body is a JSON array', [BODY], '"value" must be of type object'],
  ];

  it.each(cases)('when %s, then 400 text/html with that one Joi message, HTML-encoded', async (_name, body, message) => {
    const { app } = buildV2();
    const req = request(app).post('/widgetUrl').set(AUTH);
    const res = body === undefined ? await req : await req.send(body as object);
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.text).toBe(message.replaceAll('"', '&#x22;'));
  });

  it('when the body is malformed JSON, then 400 "Bad Request" and the request is still recorded', async () => {
    const { app, state } = buildV2();
    const res = await request(app).post('/widgetUrl').set(AUTH).set('Content-Type', 'application/json').send('{"jobTypes":');
    expect(res.status).toBe(400);
    expect(res.text).toBe('Bad Request');
    expect(state.requests.map((r) => [r.method, r.path, r.body])).toEqual([['POST', '/widgetUrl', undefined]]);
  });

  it('when a refresh has all its peers, then it is accepted', async () => {
    const { app } = buildV2();
    const res = await request(app)
      .post('/widgetUrl')
      .set(AUTH)
      .send({ ...BODY, connectionId: 'MBR-1', aggregator: 'mx', institutionId: 'mx-bank', singleAccountSelect: false });
    expect(res.status).toBe(200);
  });

  it('when a request is received, then it is recorded with method, path, query, headers and parsed body', async () => {
    const { app, state } = buildV2();
    await request(app).post('/widgetUrl').set(AUTH).send(BODY);
    expect(state.requests).toHaveLength(1);
    const [recorded] = state.requests;
    expect(recorded).toMatchObject({ method: 'POST', path: '/widgetUrl', query: {}, body: BODY });
    expect(recorded?.headers['authorization']).toBe(`Bearer ${BEARER}`);
  });
});

describe('v2 GET /widget?token=', () => {
  it('when the widget URL is loaded the first time, then 200 HTML and the authorizationToken cookie', async () => {
    const { app } = buildV2();
    const minted = await request(app).post('/widgetUrl').set(AUTH).send(BODY);
    const res = await request(app).get(widgetPath((minted.body as { widgetUrl: string }).widgetUrl));
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.text).toContain('<!doctype html>');
    expect(res.headers['set-cookie']).toEqual([`authorizationToken=${BEARER}; Path=/; HttpOnly; Secure; SameSite=Strict`]);
  });

  it('when the same widget URL is reloaded, then 200 "token invalid or expired"', async () => {
    const { app } = buildV2();
    const minted = await request(app).post('/widgetUrl').set(AUTH).send(BODY);
    const path = widgetPath((minted.body as { widgetUrl: string }).widgetUrl);
    await request(app).get(path).expect(200);
    const res = await request(app).get(path);
    expect(res.status).toBe(200);
    expect(res.text).toBe('token invalid or expired');
    expect(res.headers['set-cookie']).toBeUndefined();
  });

  it('when the widget URL is older than 300 s, then 200 "token invalid or expired"', async () => {
    const { app, advance } = buildV2();
    const minted = await request(app).post('/widgetUrl').set(AUTH).send(BODY);
    advance(300_000);
    const res = await request(app).get(widgetPath((minted.body as { widgetUrl: string }).widgetUrl));
    expect(res.text).toBe('token invalid or expired');
  });

  it('when no token is given, then 400 "A valid token is required"', async () => {
    const { app } = buildV2();
    const res = await request(app).get('/widget');
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.text).toBe('A valid token is required');
  });

  it('when authentication is off, then the widget loads without setting a cookie', async () => {
    const { app } = buildV2({ isValidBearer: undefined });
    const minted = await request(app).post('/widgetUrl').send(BODY);
    const res = await request(app).get(widgetPath((minted.body as { widgetUrl: string }).widgetUrl));
    expect(res.status).toBe(200);
    expect(res.headers['set-cookie']).toBeUndefined();
  });

  it('when frameAncestors is configured, then /widget sends CSP frame-ancestors with those origins', async () => {
    const { app } = buildV2({ frameAncestors: ['http://localhost:3000', 'https://app.example'] });
    const minted = await request(app).post('/widgetUrl').set(AUTH).send(BODY);
    const res = await request(app).get(widgetPath((minted.body as { widgetUrl: string }).widgetUrl));
    expect(res.headers['content-security-policy']).toBe('frame-ancestors http://localhost:3000 https://app.example');
  });
});
