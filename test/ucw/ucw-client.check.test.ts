import { MockAgent } from 'undici';
import { describe, expect, it } from 'vitest';
import { UCW_BASE, buildClient, closedPortUrl, html, json, scriptedAgent } from './ucw-fakes.js';

describe('check() for /readyz', () => {
  it('when a v2 UCW answers the probe, then ok with version 2', async () => {
    const { agent } = scriptedAgent({ [UCW_BASE]: () => html(400, '&#x22;jobTypes&#x22; is required') });
    expect(await buildClient({ dispatcher: agent, apiVersion: '2' }).check()).toEqual({ ok: true, version: 2 });
  });

  it('when checked twice, then the UCW is contacted each time (a cached version proves nothing about reachability)', async () => {
    const { agent, calls } = scriptedAgent({ [UCW_BASE]: () => html(404, 'Not Found') });
    const client = buildClient({ dispatcher: agent, apiVersion: 'auto' });
    expect(await client.check()).toEqual({ ok: true, version: 1 });
    expect(await client.check()).toEqual({ ok: true, version: 1 });
    expect(calls).toHaveLength(2);
    // The check's detection also serves later mints.
    expect(await client.apiVersion()).toBe(1);
    expect(calls).toHaveLength(2);
  });

  it('when the UCW answers as v1 but v2 is configured, then not ok with a detail that says so', async () => {
    const { agent } = scriptedAgent({ [UCW_BASE]: () => html(404, 'Not Found') });
    expect(await buildClient({ dispatcher: agent, apiVersion: '2' }).check()).toEqual({
      ok: false,
      version: 1,
      detail: 'The UCW answers as v1 but UCW_API_VERSION=2',
    });
  });

  it('when the UCW is down, then not ok with the unavailable message, and nothing thrown', async () => {
    const client = buildClient({ baseUrl: await closedPortUrl(), dispatcher: undefined, timeoutMs: 500 });
    expect(await client.check()).toEqual({ ok: false, detail: 'The UCW is unreachable (ECONNREFUSED)' });
    await client.close();
  });

  it('when the credentials are refused, then not ok with the credentials message', async () => {
    const { agent } = scriptedAgent({ [UCW_BASE]: () => html(401, 'Unauthorized') });
    expect(await buildClient({ dispatcher: agent }).check()).toEqual({ ok: false, detail: "UCW rejected the BFF's credentials" });
  });

  it('when the UCW hangs, then check answers within about the timeout', async () => {
    const agent = new MockAgent();
    agent.disableNetConnect();
    agent.get(UCW_BASE).intercept({ path: '/widgetUrl', method: 'POST' }).reply(400, 'x').delay(5_000).persist();
    const started = Date.now();
    const result = await buildClient({ dispatcher: agent, timeoutMs: 200 }).check();
    expect(result.ok).toBe(false);
    expect(result.detail).toMatch(/did not answer within 200 ms/);
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('when the UCW answers the probe with something unexpected, then not ok', async () => {
    const { agent } = scriptedAgent({ [UCW_BASE]: () => json(200, {}) });
    const result = await buildClient({ dispatcher: agent }).check();
    expect(result).toMatchObject({ ok: false, detail: expect.stringContaining('Could not detect the UCW API version') });
  });
});
