import { afterEach, describe, expect, it } from 'vitest';
import { MockAgent } from 'undici';
import { createUcwClient } from '../../src/ucw/ucw-client.js';
import { createCredentialProvider } from '../../src/ucw/ucw-credentials.js';
import { createLogger } from '../../src/logger.js';
import { STATIC_BEARER, UCW_BASE, buildClient, captureLogger, closedPortUrl, html, json, rejectionOf, scriptedAgent, startServer, type TestServer } from './ucw-fakes.js';

const request = { userId: 'u-1', jobTypes: ['accountNumber'], targetOrigin: 'https://app.example.com' } as const;
const silent = createLogger({ level: 'silent' });

let servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.map((server) => server.close()));
  servers = [];
});

/**
 * A client on its own keep-alive pool (no dispatcher passed), as in production. The default
 * deadline is generous: only the timeout test wants a short one, and a busy machine must not
 * turn an answered call into a timeout.
 */
function realClient(baseUrl: string, timeoutMs = 10_000) {
  return createUcwClient({
    baseUrl,
    apiVersion: '2',
    timeoutMs,
    credentials: createCredentialProvider({ mode: 'static', bearerToken: STATIC_BEARER }, { timeoutMs, logger: silent }),
    logger: silent,
  });
}

function mockAgent() {
  const agent = new MockAgent();
  agent.disableNetConnect();
  return { agent, pool: agent.get(UCW_BASE) };
}

describe('transport failures (MockAgent)', () => {
  it('when the UCW answers later than timeoutMs, then ucw_timeout (504) without waiting for it', async () => {
    const { agent, pool } = mockAgent();
    pool.intercept({ path: '/widgetUrl', method: 'POST' }).reply(200, { widgetUrl: `${UCW_BASE}/w` }).delay(2_000);
    const started = Date.now();
    const error = await rejectionOf(buildClient({ dispatcher: agent, timeoutMs: 150 }).mintWidgetUrl(request));
    expect(error).toMatchObject({ code: 'ucw_timeout', status: 504, message: 'The UCW did not answer within 150 ms' });
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('when the socket is reset before a response, then ucw_unavailable (503) with Retry-After', async () => {
    const { agent, pool } = mockAgent();
    pool.intercept({ path: '/widgetUrl', method: 'POST' }).replyWithError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
    const error = await rejectionOf(buildClient({ dispatcher: agent }).mintWidgetUrl(request));
    expect(error).toMatchObject({ code: 'ucw_unavailable', status: 503, headers: { 'Retry-After': '5' }, message: 'The UCW is unreachable (ECONNRESET)' });
    expect(error.cause).toBeInstanceOf(Error);
  });

  it('when the transport fails with an unknown error, then still ucw_unavailable (never a raw error)', async () => {
    const { agent, pool } = mockAgent();
    pool.intercept({ path: '/widgetUrl', method: 'POST' }).replyWithError(new Error('boom'));
    const error = await rejectionOf(buildClient({ dispatcher: agent }).mintWidgetUrl(request));
    expect(error).toMatchObject({ code: 'ucw_unavailable', message: 'The UCW is unreachable' });
  });

  it('when the UCW rate-limits with Retry-After, then ucw_unavailable passes its delay on', async () => {
    const { agent } = scriptedAgent({ [UCW_BASE]: () => ({ status: 429, body: 'slow down', headers: { 'retry-after': '12' } }) });
    const error = await rejectionOf(buildClient({ dispatcher: agent }).mintWidgetUrl(request));
    expect(error).toMatchObject({ code: 'ucw_unavailable', headers: { 'Retry-After': '12' } });
  });

  it('when the UCW redirects, then the redirect is not followed and the answer is ucw_bad_response', async () => {
    const { agent, calls } = scriptedAgent({ [UCW_BASE]: () => ({ status: 302, headers: { location: 'http://elsewhere.test/' } }) });
    const error = await rejectionOf(buildClient({ dispatcher: agent }).mintWidgetUrl(request));
    expect(error).toMatchObject({ code: 'ucw_bad_response' });
    expect(calls).toHaveLength(1);
  });

  it('when a 400 body is a long HTML page, then the message is decoded, stripped and capped', async () => {
    const { agent } = scriptedAgent({ [UCW_BASE]: () => html(400, `<pre>&#x22;jobTypes[0]&#x22; must be one of [a, b]</pre>${'<p>x</p>'.repeat(500)}`) });
    const error = await rejectionOf(buildClient({ dispatcher: agent }).mintWidgetUrl(request));
    expect(error.code).toBe('ucw_rejected_request');
    expect(error.message.startsWith('The UCW rejected the request (400): "jobTypes[0]" must be one of [a, b] x x')).toBe(true);
    expect(error.message.length).toBeLessThan(400);
  });
});

describe('transport failures (real sockets on 127.0.0.1)', () => {
  it('when nothing listens on the UCW port, then ucw_unavailable (503) with Retry-After', async () => {
    const client = realClient(await closedPortUrl());
    const error = await rejectionOf(client.mintWidgetUrl(request));
    expect(error).toMatchObject({ code: 'ucw_unavailable', status: 503, headers: { 'Retry-After': '5' }, message: 'The UCW is unreachable (ECONNREFUSED)' });
    await client.close();
  });

  it('when the UCW sends headers and then stalls the body, then ucw_timeout', async () => {
    const server = await startServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"widgetUrl":');
    });
    servers.push(server);
    const client = realClient(server.url, 200);
    const started = Date.now();
    expect(await rejectionOf(client.mintWidgetUrl(request))).toMatchObject({ code: 'ucw_timeout' });
    expect(Date.now() - started).toBeLessThan(1_500);
    await client.close();
  });

  it('when the UCW drops the connection without answering, then ucw_unavailable', async () => {
    const server = await startServer((req) => req.socket.destroy());
    servers.push(server);
    const client = realClient(server.url);
    expect(await rejectionOf(client.mintWidgetUrl(request))).toMatchObject({ code: 'ucw_unavailable', headers: { 'Retry-After': '5' } });
    await client.close();
  });

  it('when several calls are made, then the pool keeps the connection alive and close() ends it', async () => {
    const server = await startServer((req, res) =>
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ widgetUrl: `http://${req.headers.host}/w` })),
    );
    servers.push(server);
    const client = realClient(server.url);
    for (let i = 0; i < 6; i++) await client.mintWidgetUrl(request);
    expect(server.requests).toHaveLength(6);
    // undici's pool may open a second socket while the first is being released; never one per call.
    expect(server.connections()).toBeLessThanOrEqual(2);
    await client.close();
    await client.close(); // idempotent
  });
});

describe('secrets and logs', () => {
  it('when calls succeed and fail, then debug logs name method, route, status and duration, but no query values, ids or bearer', async () => {
    const { agent } = scriptedAgent({
      [UCW_BASE]: (call) =>
        call.url.pathname === '/api/token' ? json(200, { token: 'one-time-token-123' }) : html(500, `oops Bearer ${STATIC_BEARER}`),
    });
    const { logger, text } = captureLogger();
    const client = buildClient({ dispatcher: agent, apiVersion: '1', logger });
    await client.mintWidgetUrl({ ...request, userId: 'user-private-42' });
    await rejectionOf(client.getAccounts({ aggregator: 'mx', userId: 'user-private-42', connectionId: 'MBR-secret-777' }));

    const lines = text().trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines[0]).toMatchObject({ level: 20, upstream: 'UCW', method: 'GET', route: '/api/token', status: 200, durationMs: expect.any(Number) });
    expect(lines.some((line) => line['route'] === '/api/data/aggregator/:aggregator/user/:userId/connection/:connectionId/accounts' && line['status'] === 500)).toBe(true);
    for (const secret of ['user-private-42', 'MBR-secret-777', 'one-time-token-123', STATIC_BEARER]) expect(text()).not.toContain(secret);
  });
});
