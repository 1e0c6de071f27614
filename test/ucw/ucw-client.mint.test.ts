import { describe, expect, it } from 'vitest';
import type { WidgetRequest } from '../../src/ucw/ucw-client.js';
import { STATIC_BEARER, UCW_BASE, buildClient, html, json, rejectionOf, scriptedAgent, type RecordedCall } from './ucw-fakes.js';

const newRequest: WidgetRequest = { userId: 'user-1', jobTypes: ['transactions', 'accountNumber'], targetOrigin: 'https://app.example.com' };

const refreshRequest: WidgetRequest = {
  userId: 'user 1&é',
  jobTypes: ['accountOwner'],
  targetOrigin: 'https://app.example.com',
  institutionId: 'not-this-one',
  refresh: { connectionId: 'MBR-9 &=?', aggregator: 'sophtron', institutionId: 'inst/1 é' },
  singleAccountSelect: false,
};

/** A v2 UCW: 400 for an empty body (the version probe), a widget URL otherwise. */
const v2Ucw = (call: RecordedCall) =>
  call.body === '{}' ? html(400, '&#x22;jobTypes&#x22; is required') : json(200, { widgetUrl: `${UCW_BASE}/widget?token=w-${Math.random()}` });

/** A v1 UCW with authentication: no /widgetUrl route, a token per GET /api/token. */
const v1Ucw = (call: RecordedCall) =>
  call.url.pathname.endsWith('/api/token') ? json(200, { token: '6f1c0e2a-5b1e-4d3c-9a7f-0c1d2e3f4a5b' }) : html(404, 'Cannot POST /widgetUrl');

describe('v2 mint (POST /widgetUrl)', () => {
  it('when minting a new connection, then exactly the documented JSON is posted with the bearer and the widgetUrl returned', async () => {
    const { agent, calls } = scriptedAgent({ [UCW_BASE]: () => json(200, { widgetUrl: `${UCW_BASE}/widget?token=abc` }) });
    const client = buildClient({ dispatcher: agent, apiVersion: '2' });

    expect(await client.mintWidgetUrl(newRequest)).toBe(`${UCW_BASE}/widget?token=abc`);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ method: 'POST', path: '/widgetUrl' });
    expect(calls[0]!.body).toBe('{"jobTypes":["transactions","accountNumber"],"userId":"user-1","targetOrigin":"https://app.example.com"}');
    expect(calls[0]!.headers).toMatchObject({ authorization: `Bearer ${STATIC_BEARER}`, 'content-type': 'application/json' });
  });

  it('when refreshing with every optional parameter, then the body carries them and nothing else', async () => {
    const { agent, calls } = scriptedAgent({ [UCW_BASE]: () => json(200, { widgetUrl: `${UCW_BASE}/widget?token=abc` }) });
    await buildClient({ dispatcher: agent }).mintWidgetUrl(refreshRequest);
    expect(JSON.parse(calls[0]!.body!)).toStrictEqual({
      jobTypes: ['accountOwner'],
      userId: 'user 1&é',
      targetOrigin: 'https://app.example.com',
      connectionId: 'MBR-9 &=?',
      aggregator: 'sophtron',
      institutionId: 'inst/1 é',
      singleAccountSelect: false,
    });
  });

  it('when the UCW has no authentication, then no Authorization header is sent', async () => {
    const { agent, calls } = scriptedAgent({ [UCW_BASE]: () => json(200, { widgetUrl: `${UCW_BASE}/widget?token=abc` }) });
    await buildClient({ dispatcher: agent, auth: { mode: 'none' } }).mintWidgetUrl(newRequest);
    expect(calls[0]!.headers['authorization']).toBeUndefined();
  });

  it.each([
    ['no widgetUrl', json(200, { url: 'x' })],
    ['a widgetUrl that is not a URL', json(200, { widgetUrl: 'not a url' })],
    ['a javascript: widgetUrl', json(200, { widgetUrl: 'javascript:alert(1)' })],
    ['a body that is not JSON', html(200, '<html>oops</html>')],
    ['JSON null', json(200, null)],
  ])('when the UCW answers 200 with %s, then ucw_bad_response', async (_label, reply) => {
    const { agent } = scriptedAgent({ [UCW_BASE]: () => reply });
    const error = await rejectionOf(buildClient({ dispatcher: agent }).mintWidgetUrl(newRequest));
    expect(error).toMatchObject({ code: 'ucw_bad_response', status: 502 });
  });

  it('when the UCW rejects a parameter with an HTML-encoded Joi message, then ucw_rejected_request carries the decoded message', async () => {
    const { agent } = scriptedAgent({ [UCW_BASE]: () => html(400, '&#x22;foo&#x22; is not allowed') });
    const error = await rejectionOf(buildClient({ dispatcher: agent }).mintWidgetUrl(newRequest));
    expect(error).toMatchObject({ code: 'ucw_rejected_request', status: 502, message: 'The UCW rejected the request (400): "foo" is not allowed' });
  });

  it('when the configured v2 UCW is really v1 (404), then ucw_rejected_request says how to fix the configuration', async () => {
    const { agent } = scriptedAgent({ [UCW_BASE]: () => html(404, 'Cannot POST /widgetUrl') });
    const error = await rejectionOf(buildClient({ dispatcher: agent }).mintWidgetUrl(newRequest));
    expect(error).toMatchObject({ code: 'ucw_rejected_request', message: expect.stringContaining('UCW_API_VERSION') });
  });

  it('when the UCW answers 500, then ucw_bad_response without the UCW internals', async () => {
    const { agent } = scriptedAgent({ [UCW_BASE]: () => html(500, 'Error: connect ECONNREFUSED redis:6379 at stack...') });
    const error = await rejectionOf(buildClient({ dispatcher: agent }).mintWidgetUrl(newRequest));
    expect(error).toMatchObject({ code: 'ucw_bad_response', status: 502, message: 'The UCW answered 500 to POST /widgetUrl' });
  });
});

describe('v1 mint (GET /api/token, then assemble)', () => {
  it('when the UCW has authentication, then a token is fetched for the user with the bearer and placed last in the URL', async () => {
    const { agent, calls } = scriptedAgent({ [UCW_BASE]: v1Ucw });
    const url = await buildClient({ dispatcher: agent, apiVersion: '1' }).mintWidgetUrl(newRequest);

    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ method: 'GET', path: '/api/token?userId=user-1' });
    expect(calls[0]!.headers['authorization']).toBe(`Bearer ${STATIC_BEARER}`);
    expect(url).toBe(
      `${UCW_BASE}/widget?jobTypes=transactions,accountNumber&userId=user-1&targetOrigin=https%3A%2F%2Fapp.example.com` +
        '&token=6f1c0e2a-5b1e-4d3c-9a7f-0c1d2e3f4a5b',
    );
  });

  it('when refreshing with awkward values, then the token request and the URL encode every value and round-trip', async () => {
    const { agent, calls } = scriptedAgent({ [UCW_BASE]: v1Ucw });
    const url = new URL(await buildClient({ dispatcher: agent, apiVersion: '1' }).mintWidgetUrl(refreshRequest));

    expect(calls[0]!.path).toBe('/api/token?userId=user%201%26%C3%A9');
    expect(calls[0]!.url.searchParams.get('userId')).toBe('user 1&é');
    expect([...url.searchParams]).toEqual([
      ['jobTypes', 'accountOwner'],
      ['userId', 'user 1&é'],
      ['targetOrigin', 'https://app.example.com'],
      ['connectionId', 'MBR-9 &=?'],
      ['aggregator', 'sophtron'],
      ['institutionId', 'inst/1 é'],
      ['singleAccountSelect', 'false'],
      ['token', '6f1c0e2a-5b1e-4d3c-9a7f-0c1d2e3f4a5b'],
    ]);
  });

  it('when the UCW has no authentication, then no token is fetched (the endpoint does not exist) and the URL has none', async () => {
    const { agent, calls } = scriptedAgent({ [UCW_BASE]: v1Ucw });
    const url = await buildClient({ dispatcher: agent, apiVersion: '1', auth: { mode: 'none' } }).mintWidgetUrl(newRequest);
    expect(calls).toHaveLength(0);
    expect(url).toBe(`${UCW_BASE}/widget?jobTypes=transactions,accountNumber&userId=user-1&targetOrigin=https%3A%2F%2Fapp.example.com`);
  });

  it('when the base URL has a path and a trailing slash, then calls and the widget URL keep the path', async () => {
    const { agent, calls } = scriptedAgent({ [UCW_BASE]: v1Ucw });
    const client = buildClient({ dispatcher: agent, apiVersion: '1', baseUrl: `${UCW_BASE}/ucw/` });
    const url = await client.mintWidgetUrl(newRequest);
    expect(calls[0]!.path).toBe('/ucw/api/token?userId=user-1');
    expect(url.startsWith(`${UCW_BASE}/ucw/widget?jobTypes=`)).toBe(true);
  });

  it.each([
    ['no token', json(200, {})],
    ['an empty token', json(200, { token: '' })],
    ['a body that is not JSON', html(200, 'token')],
  ])('when GET /api/token answers with %s, then ucw_bad_response', async (_label, reply) => {
    const { agent } = scriptedAgent({ [UCW_BASE]: () => reply });
    const error = await rejectionOf(buildClient({ dispatcher: agent, apiVersion: '1' }).mintWidgetUrl(newRequest));
    expect(error).toMatchObject({ code: 'ucw_bad_response' });
  });

  it('when GET /api/token is 404 (UCW auth off but BFF auth on), then ucw_rejected_request names UCW_AUTH', async () => {
    const { agent } = scriptedAgent({ [UCW_BASE]: () => html(404, 'Not Found') });
    const error = await rejectionOf(buildClient({ dispatcher: agent, apiVersion: '1' }).mintWidgetUrl(newRequest));
    expect(error).toMatchObject({ code: 'ucw_rejected_request', message: expect.stringContaining('UCW_AUTH=none') });
  });

  it('when GET /api/token rejects the user id, then the decoded message is in ucw_rejected_request', async () => {
    const { agent } = scriptedAgent({ [UCW_BASE]: () => html(400, '&#x22;userId&#x22; is required') });
    const error = await rejectionOf(buildClient({ dispatcher: agent, apiVersion: '1' }).mintWidgetUrl(newRequest));
    expect(error.message).toBe('The UCW rejected the request (400): "userId" is required');
  });
});

describe('UCW_API_VERSION=auto', () => {
  it('when the UCW is v2, then one probe (empty POST /widgetUrl with the bearer) serves two mints', async () => {
    const { agent, calls } = scriptedAgent({ [UCW_BASE]: v2Ucw });
    const client = buildClient({ dispatcher: agent, apiVersion: 'auto' });

    await client.mintWidgetUrl(newRequest);
    await client.mintWidgetUrl(newRequest);
    expect(await client.apiVersion()).toBe(2);

    const probes = calls.filter((call) => call.body === '{}');
    expect(probes).toHaveLength(1);
    expect(probes[0]).toMatchObject({ method: 'POST', path: '/widgetUrl' });
    expect(probes[0]!.headers['authorization']).toBe(`Bearer ${STATIC_BEARER}`);
    expect(calls.map((call) => call.path)).toEqual(['/widgetUrl', '/widgetUrl', '/widgetUrl']);
  });

  it('when the UCW is v1, then the probe sees 404 and mints go through GET /api/token', async () => {
    const { agent, calls } = scriptedAgent({ [UCW_BASE]: v1Ucw });
    const client = buildClient({ dispatcher: agent, apiVersion: 'auto' });

    await client.mintWidgetUrl(newRequest);
    await client.mintWidgetUrl(newRequest);
    expect(calls.map((call) => `${call.method} ${call.path}`)).toEqual([
      'POST /widgetUrl',
      'GET /api/token?userId=user-1',
      'GET /api/token?userId=user-1',
    ]);
  });

  it('when many callers ask at once, then they share one probe', async () => {
    const { agent, calls } = scriptedAgent({ [UCW_BASE]: v2Ucw });
    const client = buildClient({ dispatcher: agent, apiVersion: 'auto' });
    const versions = await Promise.all(Array.from({ length: 10 }, () => client.apiVersion()));
    expect(versions).toEqual(Array(10).fill(2));
    expect(calls).toHaveLength(1);
  });

  it('when detection fails (UCW answering 502), then it is not cached and the next call probes again', async () => {
    let healthy = false;
    const { agent, calls } = scriptedAgent({ [UCW_BASE]: (call) => (healthy ? v2Ucw(call) : html(502, 'Bad Gateway')) });
    const client = buildClient({ dispatcher: agent, apiVersion: 'auto' });

    expect(await rejectionOf(client.mintWidgetUrl(newRequest))).toMatchObject({ code: 'ucw_bad_response' });
    healthy = true;
    expect(await client.apiVersion()).toBe(2);
    expect(calls.filter((call) => call.body === '{}')).toHaveLength(2);
  });

  it('when the version is configured, then no probe is sent', async () => {
    const { agent, calls } = scriptedAgent({ [UCW_BASE]: v2Ucw });
    expect(await buildClient({ dispatcher: agent, apiVersion: '1' }).apiVersion()).toBe(1);
    expect(await buildClient({ dispatcher: agent, apiVersion: '2' }).apiVersion()).toBe(2);
    expect(calls).toHaveLength(0);
  });
});
