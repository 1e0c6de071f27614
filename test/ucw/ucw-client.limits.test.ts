import { describe, expect, it } from 'vitest';
import { MAX_CONTROL_BODY_BYTES, MAX_DATA_BODY_BYTES, MAX_WIDGET_URL_LENGTH } from '../../src/ucw/ucw-http.js';
import type { WidgetRequest } from '../../src/ucw/ucw-client.js';
import { UCW_BASE, buildClient, json, rejectionOf, scriptedAgent, type FakeReply } from './ucw-fakes.js';

const request: WidgetRequest = { userId: 'user-1', jobTypes: ['transactions'], targetOrigin: 'https://app.example.com' };
const ref = { aggregator: 'mx', userId: 'user-1', connectionId: 'MBR-1' };

const mintWith = (reply: FakeReply, apiVersion: '1' | '2' = '2') => {
  const { agent } = scriptedAgent({ [UCW_BASE]: () => reply });
  return buildClient({ dispatcher: agent, apiVersion }).mintWidgetUrl(request);
};

describe('limits on what the UCW may answer', () => {
  it('when the limits are read, then control answers are capped at 64 kB, data at 16 MB and widget URLs at 8 kB', () => {
    expect(MAX_CONTROL_BODY_BYTES).toBe(64 * 1024);
    expect(MAX_DATA_BODY_BYTES).toBe(16 * 1024 * 1024);
    expect(MAX_WIDGET_URL_LENGTH).toBe(8 * 1024);
  });

  it('when POST /widgetUrl answers a 10 MB widgetUrl, then ucw_bad_response naming the size cap', async () => {
    const error = await rejectionOf(mintWith(json(200, { widgetUrl: `${UCW_BASE}/widget?token=${'x'.repeat(10 * 1024 * 1024)}` })));
    expect(error).toMatchObject({ code: 'ucw_bad_response', message: `The UCW answered with a body over ${64 * 1024} bytes` });
  });

  it('when the widgetUrl is longer than 8 kB (in a small body), then ucw_bad_response', async () => {
    const error = await rejectionOf(mintWith(json(200, { widgetUrl: `${UCW_BASE}/widget?token=${'x'.repeat(8 * 1024)}` })));
    expect(error).toMatchObject({ code: 'ucw_bad_response', message: `The UCW answered POST /widgetUrl with a widgetUrl longer than ${8 * 1024} characters` });
  });

  it('when the widgetUrl is exactly 8 kB, then it is used', async () => {
    const url = `${UCW_BASE}/widget?token=`;
    const exact = url + 'x'.repeat(8 * 1024 - url.length);
    expect(await mintWith(json(200, { widgetUrl: exact }))).toBe(exact);
  });

  it.each([
    ['another host', 'http://evil.test/widget?token=abc'],
    ['another port', 'http://ucw.test:8080/widget?token=abc'],
    ['https instead of http', 'https://ucw.test/widget?token=abc'],
  ])('when the widgetUrl is on %s than UCW_URL, then ucw_bad_response', async (_name, widgetUrl) => {
    const error = await rejectionOf(mintWith(json(200, { widgetUrl })));
    expect(error).toMatchObject({ code: 'ucw_bad_response', message: 'The UCW returned a widget URL on another origin than UCW_URL' });
  });

  it('when GET /api/token (v1) answers more than 64 kB, then ucw_bad_response', async () => {
    const error = await rejectionOf(mintWith(json(200, { token: 'tok-1', padding: 'x'.repeat(70 * 1024) }), '1'));
    expect(error).toMatchObject({ code: 'ucw_bad_response' });
  });

  it('when a data endpoint answers 1 MB of accounts, then it is passed on', async () => {
    const accounts = Array.from({ length: 10_000 }, (_, i) => ({ id: `acct-${i}`, name: 'x'.repeat(80) }));
    const { agent } = scriptedAgent({ [UCW_BASE]: () => json(200, { accounts }) });
    const body = (await buildClient({ dispatcher: agent }).getAccounts(ref)) as { accounts: unknown[] };
    expect(body.accounts).toHaveLength(10_000);
  });
});
