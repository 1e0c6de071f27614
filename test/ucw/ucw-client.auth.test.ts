import { describe, expect, it } from 'vitest';
import type { Config } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { createCredentialProvider, type CredentialProvider } from '../../src/ucw/ucw-credentials.js';
import { IDP_BASE, STATIC_BEARER, UCW_BASE, buildClient, captureLogger, html, json, rejectionOf, scriptedAgent, type RecordedCall } from './ucw-fakes.js';

const CLIENT_SECRET = 'cc-secret-0a1b2c3d4e5f';
const request = { userId: 'u-1', jobTypes: ['accountNumber'], targetOrigin: 'https://app.example.com' } as const;
const ccAuth: Config['ucw']['auth'] = {
  mode: 'client_credentials',
  tokenUrl: `${IDP_BASE}/oauth/token`,
  clientId: 'bff',
  clientSecret: CLIENT_SECRET,
  audience: undefined,
  scope: undefined,
};

/** An IdP issuing access-1, access-2, … and a UCW that accepts only the bearers in `accepted`. */
function setup(accepted: (bearer: string | undefined) => boolean, status = 401) {
  let issued = 0;
  const { agent, calls } = scriptedAgent({
    [IDP_BASE]: () => json(200, { access_token: `access-${++issued}`, token_type: 'Bearer', expires_in: 3600 }),
    [UCW_BASE]: (call: RecordedCall) =>
      accepted(call.headers['authorization']) ? json(200, { widgetUrl: `${UCW_BASE}/widget?token=w` }) : html(status, 'signature verification failed'),
  });
  const { logger, text } = captureLogger();
  const credentials = createCredentialProvider(ccAuth, { timeoutMs: 1000, dispatcher: agent, logger });
  const client = buildClient({ dispatcher: agent, credentials, logger });
  const ucwCalls = () => calls.filter((call) => call.url.origin === UCW_BASE);
  const tokenCalls = () => calls.filter((call) => call.url.origin === IDP_BASE);
  return { client, ucwCalls, tokenCalls, logs: text };
}

describe('UCW 401/403: one credential refresh, one retry', () => {
  it('when the UCW rejects the cached token once, then the token is refreshed, the call retried once and succeeds', async () => {
    const { client, ucwCalls, tokenCalls } = setup((bearer) => bearer === 'Bearer access-2');
    expect(await client.mintWidgetUrl(request)).toBe(`${UCW_BASE}/widget?token=w`);
    expect(ucwCalls().map((call) => call.headers['authorization'])).toEqual(['Bearer access-1', 'Bearer access-2']);
    expect(tokenCalls()).toHaveLength(2);
  });

  it('when the UCW rejects the fresh token too, then ucw_credentials_rejected after exactly two attempts', async () => {
    const { client, ucwCalls, tokenCalls, logs } = setup(() => false);
    const error = await rejectionOf(client.mintWidgetUrl(request));
    expect(error).toMatchObject({ code: 'ucw_credentials_rejected', status: 502, message: "UCW rejected the BFF's credentials" });
    expect(ucwCalls()).toHaveLength(2);
    expect(tokenCalls()).toHaveLength(2);
    // The UCW's reason is for operators; the tokens and the secret are for nobody.
    expect(logs()).toContain('signature verification failed');
    for (const secret of [CLIENT_SECRET, 'access-1', 'access-2']) expect(logs()).not.toContain(secret);
  });

  it('when the UCW answers 403, then it is treated like 401', async () => {
    const { client, ucwCalls } = setup((bearer) => bearer === 'Bearer access-2', 403);
    await client.mintWidgetUrl(request);
    expect(ucwCalls()).toHaveLength(2);
  });

  it('when 5 concurrent calls all hit 401 with the same token, then the token is refreshed once', async () => {
    const { client, ucwCalls, tokenCalls } = setup((bearer) => bearer !== 'Bearer access-1');
    await Promise.all(Array.from({ length: 5 }, () => client.mintWidgetUrl(request)));
    expect(tokenCalls()).toHaveLength(2);
    expect(ucwCalls()).toHaveLength(10);
  });

  it('when the UCW refuses a static token, then the call is retried once (same token) and then ucw_credentials_rejected', async () => {
    const { agent, calls } = scriptedAgent({ [UCW_BASE]: () => html(401, 'Unauthorized') });
    const error = await rejectionOf(buildClient({ dispatcher: agent }).mintWidgetUrl(request));
    expect(error).toMatchObject({ code: 'ucw_credentials_rejected', message: "UCW rejected the BFF's credentials" });
    expect(calls.map((call) => call.headers['authorization'])).toEqual([`Bearer ${STATIC_BEARER}`, `Bearer ${STATIC_BEARER}`]);
    expect(error.message).not.toContain(STATIC_BEARER);
  });

  it('when the UCW wants a bearer but auth is none, then ucw_credentials_rejected at once (nothing to refresh)', async () => {
    const { agent, calls } = scriptedAgent({ [UCW_BASE]: () => html(401, 'Unauthorized') });
    const error = await rejectionOf(buildClient({ dispatcher: agent, auth: { mode: 'none' } }).mintWidgetUrl(request));
    expect(error).toMatchObject({ code: 'ucw_credentials_rejected' });
    expect(calls).toHaveLength(1);
  });

  it('when the refresh itself fails, then that failure is reported (token endpoint down → ucw_unavailable)', async () => {
    let idpUp = true;
    const { agent } = scriptedAgent({
      [IDP_BASE]: () => (idpUp ? json(200, { access_token: 'access-1', expires_in: 3600 }) : html(503, 'down')),
      [UCW_BASE]: () => html(401, 'Unauthorized'),
    });
    const logger = createLogger({ level: 'silent' });
    const credentials = createCredentialProvider(ccAuth, { timeoutMs: 1000, dispatcher: agent, logger });
    await credentials.bearer();
    idpUp = false;
    const error = await rejectionOf(buildClient({ dispatcher: agent, credentials }).mintWidgetUrl(request));
    expect(error).toMatchObject({ code: 'ucw_unavailable' });
  });

  it('when invalidate is called, then it receives exactly the token the UCW refused', async () => {
    const invalidated: string[] = [];
    let current = 'first';
    const credentials: CredentialProvider = {
      mode: 'client_credentials',
      bearer: async () => current,
      invalidate: (token) => {
        invalidated.push(token);
        current = 'second';
      },
    };
    const { agent } = scriptedAgent({
      [UCW_BASE]: (call) => (call.headers['authorization'] === 'Bearer second' ? json(200, { widgetUrl: `${UCW_BASE}/w` }) : html(401, 'x')),
    });
    await buildClient({ dispatcher: agent, credentials }).mintWidgetUrl(request);
    expect(invalidated).toEqual(['first']);
  });

  it('when the UCW echoes the bearer in a 400 message, then the message is scrubbed', async () => {
    const { agent } = scriptedAgent({ [UCW_BASE]: () => html(400, `bad header Bearer ${STATIC_BEARER}`) });
    const error = await rejectionOf(buildClient({ dispatcher: agent }).mintWidgetUrl(request));
    expect(error.message).toBe('The UCW rejected the request (400): bad header Bearer [redacted]');
  });
});

describe('no secret in any error', () => {
  it('when every kind of UCW failure happens with static and client_credentials auth, then no message, header or detail carries a secret', async () => {
    const replies = [
      html(400, `&#x22;foo&#x22; is not allowed ${STATIC_BEARER} access-1`),
      html(401, `bad token ${STATIC_BEARER} access-1`),
      html(403, 'forbidden'),
      html(404, 'Not Found'),
      html(429, 'slow'),
      html(500, `crash ${CLIENT_SECRET}`),
      html(200, 'not json'),
      json(200, { widgetUrl: `javascript:${STATIC_BEARER}` }),
    ];
    const errors: Array<{ error: Error; secrets: string[] }> = [];
    for (const reply of replies) {
      for (const auth of [{ mode: 'static', bearerToken: STATIC_BEARER } as const, ccAuth]) {
        const { agent } = scriptedAgent({
          [IDP_BASE]: () => json(200, { access_token: 'access-1', expires_in: 3600 }),
          [UCW_BASE]: () => reply,
        });
        const logger = createLogger({ level: 'silent' });
        const credentials = createCredentialProvider(auth, { timeoutMs: 1000, dispatcher: agent, logger });
        for (const apiVersion of ['1', '2'] as const) {
          const client = buildClient({ dispatcher: agent, credentials, apiVersion });
          // The secrets of this mode: the bearer sent, and the client secret behind it.
          const secrets = auth.mode === 'static' ? [STATIC_BEARER] : [CLIENT_SECRET, 'access-1'];
          await client.mintWidgetUrl(request).catch((error: Error) => errors.push({ error, secrets }));
          await client
            .getAccounts({ aggregator: 'mx', userId: 'u', connectionId: 'c' })
            .catch((error: Error) => errors.push({ error, secrets }));
        }
      }
    }
    // Every case fails except reading data that happens to be valid JSON (the last reply).
    expect(errors).toHaveLength(replies.length * 2 * 2 * 2 - 4);
    for (const { error, secrets } of errors) {
      const shown = JSON.stringify({ ...error, message: error.message });
      for (const secret of secrets) expect(shown).not.toContain(secret);
    }
  });
});
