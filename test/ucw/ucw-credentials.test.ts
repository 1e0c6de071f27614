import { afterEach, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { createCredentialProvider } from '../../src/ucw/ucw-credentials.js';
import { UCW_BASE, buildClient, captureLogger, closedPortUrl, json, rejectionOf, scriptedAgent, startServer, type TestServer } from './ucw-fakes.js';

const CLIENT_SECRET = 'client-secret-d41d8cd98f00b204';
const silent = createLogger({ level: 'silent' });

type ClientCredentials = Extract<Config['ucw']['auth'], { mode: 'client_credentials' }>;
const ccAuth = (tokenUrl: string, extra: Partial<ClientCredentials> = {}): ClientCredentials => ({
  mode: 'client_credentials',
  tokenUrl,
  clientId: 'bff-client',
  clientSecret: CLIENT_SECRET,
  audience: 'https://ucw.example.com',
  scope: 'widget:create data:read',
  ...extra,
});

let servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.map((server) => server.close()));
  servers = [];
});

/** A token endpoint issuing tok-1, tok-2, … with the given lifetime, after an optional delay. */
async function tokenEndpoint(options: { expiresIn?: number; delayMs?: number } = {}) {
  let issued = 0;
  const server = await startServer((_req, res) => {
    issued += 1;
    const body = JSON.stringify({ access_token: `tok-${issued}`, token_type: 'Bearer', expires_in: options.expiresIn ?? 3600 });
    setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end(body), options.delayMs ?? 0);
  });
  servers.push(server);
  return server;
}

describe('none and static', () => {
  it('when auth is none, then there is no bearer', async () => {
    const provider = createCredentialProvider({ mode: 'none' }, { timeoutMs: 1000, logger: silent });
    expect(provider.mode).toBe('none');
    expect(await provider.bearer()).toBeUndefined();
  });

  it('when auth is static, then the configured token is the bearer and invalidate changes nothing', async () => {
    const provider = createCredentialProvider({ mode: 'static', bearerToken: 'static-1' }, { timeoutMs: 1000, logger: silent });
    expect(provider.mode).toBe('static');
    expect(await provider.bearer()).toBe('static-1');
    provider.invalidate('static-1');
    expect(await provider.bearer()).toBe('static-1');
  });
});

describe('client_credentials', () => {
  it('when a bearer is needed, then the token endpoint gets exactly the form-encoded grant', async () => {
    const server = await tokenEndpoint();
    const provider = createCredentialProvider(ccAuth(`${server.url}/oauth/token`), { timeoutMs: 1000, logger: silent });

    expect(await provider.bearer()).toBe('tok-1');
    expect(server.requests).toHaveLength(1);
    const [request] = server.requests;
    expect(request).toMatchObject({ method: 'POST', url: '/oauth/token' });
    expect(request!.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(request!.headers['authorization']).toBeUndefined();
    expect([...new URLSearchParams(request!.body)]).toEqual([
      ['grant_type', 'client_credentials'],
      ['client_id', 'bff-client'],
      ['client_secret', CLIENT_SECRET],
      ['audience', 'https://ucw.example.com'],
      ['scope', 'widget:create data:read'],
    ]);
  });

  it('when audience and scope are not configured, then they are not sent', async () => {
    const server = await tokenEndpoint();
    const provider = createCredentialProvider(ccAuth(server.url, { audience: undefined, scope: undefined }), { timeoutMs: 1000, logger: silent });
    await provider.bearer();
    expect([...new URLSearchParams(server.requests[0]!.body).keys()]).toEqual(['grant_type', 'client_id', 'client_secret']);
  });

  it('when 10 mints start at once, then the token endpoint is called once and every UCW call carries that token', async () => {
    const server = await tokenEndpoint({ delayMs: 50 });
    const provider = createCredentialProvider(ccAuth(server.url), { timeoutMs: 2000, logger: silent });
    const { agent, calls } = scriptedAgent({ [UCW_BASE]: () => json(200, { widgetUrl: `${UCW_BASE}/widget?token=t` }) });
    const client = buildClient({ dispatcher: agent, credentials: provider });

    const request = { userId: 'u', jobTypes: ['transactions'], targetOrigin: 'https://app.example.com' } as const;
    await Promise.all(Array.from({ length: 10 }, () => client.mintWidgetUrl(request)));

    expect(server.requests).toHaveLength(1);
    expect(calls).toHaveLength(10);
    expect(new Set(calls.map((call) => call.headers['authorization']))).toEqual(new Set(['Bearer tok-1']));
  });

  it('when the cached token nears expiry, then it is refetched (30 s margin on a 1 h token)', async () => {
    const server = await tokenEndpoint({ expiresIn: 3600 });
    let now = 1_000_000;
    const provider = createCredentialProvider(ccAuth(server.url), { timeoutMs: 1000, logger: silent, now: () => now });

    expect(await provider.bearer()).toBe('tok-1');
    now += 3600_000 - 30_001;
    expect(await provider.bearer()).toBe('tok-1');
    now += 2;
    expect(await provider.bearer()).toBe('tok-2');
    expect(server.requests).toHaveLength(2);
  });

  it('when the token is short-lived, then the margin is 10% of its lifetime', async () => {
    const server = await tokenEndpoint({ expiresIn: 60 });
    let now = 0;
    const provider = createCredentialProvider(ccAuth(server.url), { timeoutMs: 1000, logger: silent, now: () => now });
    await provider.bearer();
    now = 53_999;
    expect(await provider.bearer()).toBe('tok-1');
    now = 54_000;
    expect(await provider.bearer()).toBe('tok-2');
  });

  it('when expires_in is missing and the token is a JWT, then its exp claim sets the lifetime', async () => {
    const now = 1_700_000_000_000;
    const jwt = `e30.${Buffer.from(JSON.stringify({ exp: now / 1000 + 120 })).toString('base64url')}.sig`;
    const server = await startServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ access_token: jwt })));
    servers.push(server);
    let clock = now;
    const provider = createCredentialProvider(ccAuth(server.url), { timeoutMs: 1000, logger: silent, now: () => clock });
    await provider.bearer();
    clock = now + 107_000; // 120 s lifetime, 12 s margin
    await provider.bearer();
    expect(server.requests).toHaveLength(1);
    clock = now + 108_000;
    await provider.bearer();
    expect(server.requests).toHaveLength(2);
  });

  it('when the token endpoint answers form-encoded, then the token is accepted', async () => {
    const server = await startServer((_req, res) =>
      res.writeHead(200, { 'content-type': 'application/x-www-form-urlencoded' }).end('access_token=form-tok&token_type=bearer&expires_in=60'),
    );
    servers.push(server);
    const provider = createCredentialProvider(ccAuth(server.url), { timeoutMs: 1000, logger: silent });
    expect(await provider.bearer()).toBe('form-tok');
  });

  it('when invalidate names another token, then the cache is kept; when it names the cached one, then the next bearer refetches', async () => {
    const server = await tokenEndpoint();
    const provider = createCredentialProvider(ccAuth(server.url), { timeoutMs: 1000, logger: silent });
    await provider.bearer();
    provider.invalidate('tok-0');
    expect(await provider.bearer()).toBe('tok-1');
    provider.invalidate('tok-1');
    expect(await provider.bearer()).toBe('tok-2');
    expect(server.requests).toHaveLength(2);
  });

  it('when the token endpoint rejects the client (401 invalid_client), then ucw_credentials_rejected without the secret, and nothing is cached', async () => {
    let reject = true;
    let issued = 0;
    const server = await startServer((_req, res) => {
      if (reject) {
        res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'invalid_client', error_description: `bad secret ${CLIENT_SECRET}` }));
      } else {
        issued += 1;
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ access_token: `ok-${issued}`, expires_in: 600 }));
      }
    });
    servers.push(server);
    const { logger, text } = captureLogger();
    const provider = createCredentialProvider(ccAuth(server.url), { timeoutMs: 1000, logger });

    const error = await rejectionOf(provider.bearer());
    expect(error).toMatchObject({ code: 'ucw_credentials_rejected', status: 502 });
    expect(error.message).toBe("The UCW token endpoint rejected the BFF's client credentials (401 invalid_client)");
    expect(text()).not.toContain(CLIENT_SECRET);

    reject = false;
    expect(await provider.bearer()).toBe('ok-1');
  });

  it('when the token endpoint fails with 5xx, then ucw_unavailable with Retry-After', async () => {
    const server = await startServer((_req, res) => res.writeHead(503).end('down'));
    servers.push(server);
    const provider = createCredentialProvider(ccAuth(server.url), { timeoutMs: 1000, logger: silent });
    const error = await rejectionOf(provider.bearer());
    expect(error).toMatchObject({ code: 'ucw_unavailable', status: 503, headers: { 'Retry-After': '5' } });
  });

  it.each([
    ['not JSON', 'application/json', '<html>'],
    ['no access_token', 'application/json', '{"token_type":"Bearer"}'],
    ['a non-bearer token type', 'application/json', '{"access_token":"x","token_type":"MAC"}'],
  ])('when the token endpoint answers 200 with %s, then ucw_bad_response', async (_label, contentType, body) => {
    const server = await startServer((_req, res) => res.writeHead(200, { 'content-type': contentType }).end(body));
    servers.push(server);
    const provider = createCredentialProvider(ccAuth(server.url), { timeoutMs: 1000, logger: silent });
    expect(await rejectionOf(provider.bearer())).toMatchObject({ code: 'ucw_bad_response' });
  });

  it('when the token endpoint does not answer in time, then ucw_timeout', async () => {
    const server = await tokenEndpoint({ delayMs: 2_000 });
    const provider = createCredentialProvider(ccAuth(server.url), { timeoutMs: 150, logger: silent });
    const started = Date.now();
    expect(await rejectionOf(provider.bearer())).toMatchObject({ code: 'ucw_timeout', status: 504 });
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('when the token endpoint refuses connections, then ucw_unavailable with Retry-After', async () => {
    const provider = createCredentialProvider(ccAuth(`${await closedPortUrl()}/token`), { timeoutMs: 1000, logger: silent });
    const error = await rejectionOf(provider.bearer());
    expect(error).toMatchObject({ code: 'ucw_unavailable', headers: { 'Retry-After': '5' } });
    expect(error.message).toBe('The UCW token endpoint is unreachable (ECONNREFUSED)');
    expect(error.message).not.toContain(CLIENT_SECRET);
  });

  it('when tokens are fetched and used, then neither the secret nor the token appears in the logs', async () => {
    const server = await tokenEndpoint();
    const { logger, text } = captureLogger();
    const provider = createCredentialProvider(ccAuth(server.url), { timeoutMs: 1000, logger });
    await provider.bearer();
    expect(text()).toContain('UCW access token fetched');
    expect(text()).not.toContain(CLIENT_SECRET);
    expect(text()).not.toContain('tok-1');
  });
});
