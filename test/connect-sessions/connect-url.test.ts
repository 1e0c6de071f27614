import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.js';
import { buildDependencies } from '../../src/dependencies.js';
import { testDialects } from '../helpers/databases.js';
import { bearer, createConnectUrl, relay, v1Connected } from '../helpers/flows.js';
import { buildTestApp, FRONTEND_ORIGIN, SANDBOX_BEARER, type TestApp } from '../helpers/test-app.js';

/** The sandbox UCW's requests to `path`, from request number `since` on. */
const upstream = (t: TestApp, path: string, since = 0) => t.sandbox!.requests.slice(since).filter((r) => r.path === path);

describe.each([1, 2] as const)('POST /connect-url against a v%s sandbox UCW', (version) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({ sandbox: { version } });
  });
  afterAll(() => t.close());

  it('when embed is "direct", then the widget URL is minted now with every parameter, and works exactly once', async () => {
    // Only this test's calls: others share the sandbox.
    const before = t.sandbox!.requests.length;
    const res = await createConnectUrl(t.app, 'user-a', {
      jobTypes: 'transactions,accountOwner,transactions',
      institutionId: 'sandbox-bank',
      singleAccountSelect: false,
      embed: 'direct',
      targetOrigin: FRONTEND_ORIGIN,
    });
    expect(res.status).toBe(201);
    expect(Object.keys(res.body).sort()).toEqual(['expiresAt', 'mode', 'sessionId', 'url']);
    expect(res.body.mode).toBe('new');
    const url = new URL(res.body.url);
    expect(url.origin).toBe(t.sandbox!.url);
    if (version === 1) {
      const [tokenCall] = upstream(t, '/api/token', before);
      expect(tokenCall!.query).toEqual({ userId: 'user-a' });
      expect(tokenCall!.headers.authorization).toBe(`Bearer ${SANDBOX_BEARER}`);
      expect(Object.fromEntries(url.searchParams)).toEqual({
        jobTypes: 'transactions,accountOwner',
        userId: 'user-a',
        targetOrigin: FRONTEND_ORIGIN,
        institutionId: 'sandbox-bank',
        singleAccountSelect: 'false',
        token: expect.stringMatching(/^[0-9a-f-]{36}$/),
      });
    } else {
      const [call] = upstream(t, '/widgetUrl', before);
      expect(call!.body).toEqual({ jobTypes: ['transactions', 'accountOwner'], userId: 'user-a', targetOrigin: FRONTEND_ORIGIN, institutionId: 'sandbox-bank', singleAccountSelect: false });
      expect(call!.headers.authorization).toBe(`Bearer ${SANDBOX_BEARER}`);
    }
    const first = await fetch(res.body.url);
    expect(first.status).toBe(200);
    expect(first.headers.get('set-cookie')).toMatch(/^authorizationToken=.*SameSite=Strict/);
    const second = await fetch(res.body.url);
    expect(await second.text()).toBe('token invalid or expired');
  });

  it('when embed is "host" (the default), then the URL is the signed host page and the UCW is not called', async () => {
    const before = t.sandbox!.requests.length;
    const res = await request(t.app)
      .post('/connect-url')
      .set('Authorization', await bearer('user-b'))
      .set('Origin', FRONTEND_ORIGIN)
      .send({ jobTypes: ['accountNumber'] });
    expect(res.status).toBe(201);
    expect(res.body.url).toMatch(new RegExp(`^${t.config.publicUrl}/connect/${res.body.sessionId}\\?exp=\\d+&sig=[\\w-]{43}$`));
    expect(t.sandbox!.requests.length).toBe(before);
    const row = await t.database.db.selectFrom('connect_sessions').selectAll().where('id', '=', res.body.sessionId).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ user_id: 'user-b', mode: 'new', status: 'created', target_origin: FRONTEND_ORIGIN, embed: 'host', presentation: 'auto', job_types: '["accountNumber"]' });
    expect(row.expires_at).toBe(res.body.expiresAt);
  });

  it("when connectionId names the user's connection, then it is a refresh filled from the BFF's records", async () => {
    const host = await createConnectUrl(t.app, 'user-r', { jobTypes: ['transactions'] });
    const connected = await relay(t.app, host.body.url, v1Connected('MBR-refresh-me', { ucpInstitutionId: 'sandbox-bank' }));
    const connectionId = connected.body.forward.metadata.connectionId as string;

    const res = await createConnectUrl(t.app, 'user-r', { jobTypes: ['transactions'], connectionId, embed: 'direct', targetOrigin: FRONTEND_ORIGIN });
    expect(res.status).toBe(201);
    expect(res.body.mode).toBe('refresh');
    const sent = version === 1 ? Object.fromEntries(new URL(res.body.url).searchParams) : upstream(t, '/widgetUrl').at(-1)!.body;
    expect(sent).toMatchObject({ connectionId: 'MBR-refresh-me', aggregator: 'sophtron', institutionId: 'sandbox-bank' });
    const session = await request(t.app).get(`/connect-sessions/${res.body.sessionId}`).set('Authorization', await bearer('user-r'));
    expect(session.body).toMatchObject({ mode: 'refresh', status: 'created', connection: { id: connectionId } });
  });

  it("when connectionId is another user's, unknown or malformed, then 404 without saying which", async () => {
    const host = await createConnectUrl(t.app, 'owner-x', { jobTypes: ['transactions'] });
    const connected = await relay(t.app, host.body.url, v1Connected('MBR-owner-x', { ucpInstitutionId: 'sandbox-bank' }));
    const theirs = connected.body.forward.metadata.connectionId as string;
    for (const connectionId of [theirs, 'conn_AAAAAAAAAAAAAAAAAAAAAA', "'; drop table connections; --", 'MBR-owner-x']) {
      const res = await createConnectUrl(t.app, 'intruder-x', { jobTypes: ['transactions'], connectionId });
      expect(res.status).toBe(404);
      expect(res.body).toMatchObject({ code: 'not_found', detail: 'No such connection.' });
    }
  });

  it('when the user already has a live connection at the institution, then the answer names it', async () => {
    const host = await createConnectUrl(t.app, 'user-dup', { jobTypes: ['transactions'] });
    const connected = await relay(t.app, host.body.url, v1Connected('MBR-dup-1', { ucpInstitutionId: 'mx-bank' }));
    const res = await createConnectUrl(t.app, 'user-dup', { jobTypes: ['transactions'], institutionId: 'mx-bank' });
    expect(res.status).toBe(201);
    expect(res.body.existingConnectionId).toBe(connected.body.forward.metadata.connectionId);
  });
});

describe('POST /connect-url validation', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({ sandbox: { version: 2 }, env: { ALLOWED_REDIRECT_URIS: 'myapp://connected' } });
  });
  afterAll(() => t.close());

  it.each([
    [{ jobTypes: ['transactions'], userId: 'someone-else' }, 'userId', 'userId is not accepted: the user comes from authentication.'],
    [{ jobTypes: [] }, 'jobTypes', 'at least one job type is required'],
    [{ jobTypes: 'transactions,bogus' }, 'jobTypes.1', 'must be one of accountNumber, accountOwner, transactions, transactionHistory'],
    [{}, 'jobTypes', 'must be an array of job types or a comma-separated string'],
    [{ jobTypes: ['transactions'], colour: 'red' }, 'colour', 'unknown field(s): colour'],
    [{ jobTypes: ['transactions'], embed: 'inline' }, 'embed', expect.stringContaining('host')],
    [{ jobTypes: ['transactions'], targetOrigin: 'https://evil.test' }, 'targetOrigin', 'not an allowed origin'],
    [{ jobTypes: ['transactions'], redirectUri: 'https://evil.test/cb' }, 'redirectUri', 'not an allowed redirect URI'],
    [{ jobTypes: ['transactions'], singleAccountSelect: 'no' }, 'singleAccountSelect', expect.any(String)],
    [{ jobTypes: ['transactions'], embed: 'direct' }, 'targetOrigin', 'required for embed "direct"'],
  ])('when the body is %j, then 400 names %s', async (body, field, message) => {
    const res = await createConnectUrl(t.app, 'v-user', body);
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body.code).toBe('validation_failed');
    expect(res.body.errors).toContainEqual({ field, message });
  });

  it('when an allowed redirect URI is given, then it is accepted and stored', async () => {
    const res = await createConnectUrl(t.app, 'v-user', { jobTypes: ['transactions'], redirectUri: 'myapp://connected', presentation: 'popup' });
    expect(res.status).toBe(201);
    const row = await t.database.db.selectFrom('connect_sessions').selectAll().where('id', '=', res.body.sessionId).executeTakeFirstOrThrow();
    expect([row.redirect_uri, row.presentation]).toEqual(['myapp://connected', 'popup']);
  });

  it('when there is no user, then 401 and nothing is created', async () => {
    const res = await request(t.app).post('/connect-url').send({ jobTypes: ['transactions'] });
    expect(res.status).toBe(401);
    expect(await t.database.db.selectFrom('connect_sessions').select('id').where('user_id', '=', '').execute()).toEqual([]);
  });

  it('when the auth cookie comes with a foreign Origin, then 403 (CSRF)', async () => {
    const token = (await bearer('csrf-user')).slice(7);
    const res = await request(t.app)
      .post('/connect-url')
      .set('Cookie', `${t.config.auth.cookieName}=${token}`)
      .set('Origin', 'https://evil.test')
      .send({ jobTypes: ['transactions'] });
    expect(res.status).toBe(403);
    const ok = await request(t.app).post('/connect-url').set('Cookie', `${t.config.auth.cookieName}=${token}`).set('Origin', FRONTEND_ORIGIN).send({ jobTypes: ['transactions'] });
    expect(ok.status).toBe(201);
  });
});

describe.each(testDialects)('POST /connect-url when the UCW fails (%s)', (dialect) => {
  it('when the UCW is unreachable, then 503 with Retry-After and no session is left behind', async () => {
    const t = await buildTestApp({ dialect, env: { UCW_URL: 'http://127.0.0.1:9', UCW_API_VERSION: '2', UCW_TIMEOUT_MS: '2000' } });
    try {
      const res = await createConnectUrl(t.app, 'down-user', { jobTypes: ['transactions'], embed: 'direct', targetOrigin: FRONTEND_ORIGIN });
      expect(res.status).toBe(503);
      expect(res.headers['retry-after']).toBe('5');
      expect(res.body.code).toBe('ucw_unavailable');
      expect(res.text).not.toMatch(/at .*\.ts:\d+/);
      expect(await t.database.db.selectFrom('connect_sessions').select('id').execute()).toEqual([]);
    } finally {
      await t.close();
    }
  });

  it("when the UCW refuses the BFF's credentials, then 502 naming credentials", async () => {
    const t = await buildTestApp({ dialect, sandbox: { version: 2 }, env: { UCW_BEARER_TOKEN: 'wrong-token' } });
    try {
      const res = await createConnectUrl(t.app, 'cred-user', { jobTypes: ['transactions'], embed: 'direct', targetOrigin: FRONTEND_ORIGIN });
      expect(res.status).toBe(502);
      expect(res.body).toMatchObject({ code: 'ucw_credentials_rejected', detail: "UCW rejected the BFF's credentials" });
      expect(res.text).not.toContain('wrong-token');
    } finally {
      await t.close();
    }
  });
});

describe.each([1, 2] as const)('UCW_API_VERSION=auto against a v%s sandbox', (version) => {
  it('when two URLs are minted, then the version is probed once and the right flow is used', async () => {
    const t = await buildTestApp({ sandbox: { version }, env: { UCW_API_VERSION: 'auto' } });
    try {
      for (const user of ['auto-1', 'auto-2']) {
        const res = await createConnectUrl(t.app, user, { jobTypes: ['transactions'], embed: 'direct', targetOrigin: FRONTEND_ORIGIN });
        expect(res.status).toBe(201);
      }
      const probes = t.sandbox!.requests.filter((r) => r.path === '/widgetUrl' && JSON.stringify(r.body ?? {}) === '{}');
      expect(probes).toHaveLength(1);
      expect(upstream(t, '/api/token')).toHaveLength(version === 1 ? 2 : 0);
    } finally {
      await t.close();
    }
  });
});

describe('UCW_USER_ID_MODE=hmac', () => {
  it('when pseudonyms are on, then the UCW sees a stable pseudonym, never the platform user id', async () => {
    const t = await buildTestApp({ sandbox: { version: 1 }, env: { UCW_USER_ID_MODE: 'hmac', UCW_USER_ID_SECRET: 'pseudonym-secret-0123456789abcdefghij' } });
    try {
      const sent: string[] = [];
      for (let i = 0; i < 2; i += 1) {
        const res = await createConnectUrl(t.app, 'platform-user-42', { jobTypes: ['transactions'], embed: 'direct', targetOrigin: FRONTEND_ORIGIN });
        sent.push(new URL(res.body.url).searchParams.get('userId')!);
      }
      expect(sent[0]).toMatch(/^u_[\w-]{32}$/);
      expect(sent[1]).toBe(sent[0]);
      expect(JSON.stringify(t.sandbox!.requests)).not.toContain('platform-user-42');
    } finally {
      await t.close();
    }
  });
});

describe('POST /connect-url redirectUri schemes', () => {
  // A Config built by hand (as tests and embedders may) skips loadConfig's check: the request
  // path must refuse dangerous schemes by itself.
  let t: TestApp;
  beforeAll(async () => {
    const base = await buildTestApp({ sandbox: { version: 2 } });
    const config = { ...base.config, allowedRedirectUris: ['javascript:alert(document.domain)', 'data:text/html,hi', 'http://app.example/cb', 'myapp://connected'] };
    const deps = await buildDependencies(config, base.logs.logger, { database: base.database });
    t = {
      ...base,
      app: createApp(deps),
      close: async () => {
        await deps.close();
        await base.close();
      },
    };
  });
  afterAll(() => t.close());

  it.each([
    ['javascript:alert(document.domain)', 'the javascript: scheme is never allowed'],
    ['data:text/html,hi', 'the data: scheme is never allowed'],
    ['http://app.example/cb', 'http: is allowed only for loopback hosts (use https:)'],
  ])('when redirectUri is %s, even though listed, then 400 names redirectUri', async (redirectUri, message) => {
    const res = await createConnectUrl(t.app, 'r-user', { jobTypes: ['transactions'], redirectUri });
    expect([res.status, res.body.code]).toEqual([400, 'validation_failed']);
    expect(res.body.errors).toContainEqual({ field: 'redirectUri', message });
    expect(await t.database.db.selectFrom('connect_sessions').select('id').where('user_id', '=', 'r-user').execute()).toEqual([]);
  });

  it('when redirectUri is a listed custom app scheme, then 201', async () => {
    const res = await createConnectUrl(t.app, 'r-user-ok', { jobTypes: ['transactions'], redirectUri: 'myapp://connected' });
    expect(res.status).toBe(201);
  });
});
