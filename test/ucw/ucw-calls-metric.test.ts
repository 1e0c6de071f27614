import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { testDialects } from '../helpers/databases.js';
import { createConnectUrl } from '../helpers/flows.js';
import { FRONTEND_ORIGIN, buildTestApp, type TestApp } from '../helpers/test-app.js';

/** The value of `ucw_bff_ucw_calls_total{operation,outcome}` as scraped from /metrics (0 when absent). */
async function ucwCalls(t: TestApp, operation: string, outcome: string): Promise<number> {
  const res = await request(t.app).get('/metrics').expect(200);
  const line = res.text.split('\n').find((l) => l.startsWith(`ucw_bff_ucw_calls_total{operation="${operation}",outcome="${outcome}"}`));
  return line ? Number(line.split(' ').pop()) : 0;
}

/** Every non-zero `ucw_bff_ucw_calls_total` series, as `operation/outcome` → count. */
async function allUcwCalls(t: TestApp): Promise<Record<string, number>> {
  const res = await request(t.app).get('/metrics').expect(200);
  const series: Record<string, number> = {};
  for (const match of res.text.matchAll(/^ucw_bff_ucw_calls_total\{operation="(\w+)",outcome="(\w+)"\} (\d+)$/gm)) {
    series[`${match[1]}/${match[2]}`] = Number(match[3]);
  }
  return series;
}

const direct = { jobTypes: ['transactions'], embed: 'direct', targetOrigin: FRONTEND_ORIGIN };

describe.each(testDialects)('ucw_bff_ucw_calls_total against the sandbox UCW on %s', (dialect) => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('when a v1 UCW mints and answers the readiness probe, then token and health_probe count ok (the probe expects its 404)', async () => {
    t = await buildTestApp({ dialect, sandbox: { version: 1 } });
    expect((await createConnectUrl(t.app, 'user-m1', direct)).status).toBe(201);
    expect((await createConnectUrl(t.app, 'user-m1', direct)).status).toBe(201);
    expect((await request(t.app).get('/readyz')).body.dependencies.ucw.status).toBe('up');
    expect(await allUcwCalls(t)).toEqual({ 'token/ok': 2, 'health_probe/ok': 1 });
  });

  it('when a v2 UCW refuses the bearer, then both widget_url attempts (first and refreshed) count as 4xx', async () => {
    t = await buildTestApp({ dialect, sandbox: { version: 2 }, env: { UCW_BEARER_TOKEN: 'wrong-token' } });
    expect((await createConnectUrl(t.app, 'user-m2', direct)).status).toBe(502);
    expect(await allUcwCalls(t)).toEqual({ 'widget_url/4xx': 2 });
    // With the right bearer the same call is ok: the label follows the answer, not the operation.
    await t.close();
    t = await buildTestApp({ dialect, sandbox: { version: 2 } });
    expect((await createConnectUrl(t.app, 'user-m2', direct)).status).toBe(201);
    expect(await allUcwCalls(t)).toEqual({ 'widget_url/ok': 1 });
  });
});

describe('ucw_bff_ucw_calls_total when the UCW fails', () => {
  let t: TestApp | undefined;
  let server: Server | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
    server = undefined;
  });

  /** A UCW stand-in on loopback: answers every request with `status`, or never answers (`hang`). */
  async function fakeUcw(behaviour: number | 'hang'): Promise<string> {
    server = createServer((req, res) => {
      req.resume();
      if (behaviour === 'hang') return;
      req.on('end', () => res.writeHead(behaviour, { 'Content-Type': 'application/json' }).end('{}'));
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  it('when the UCW answers 500, then the probe counts as 5xx', async () => {
    t = await buildTestApp({ env: { UCW_URL: await fakeUcw(500), UCW_API_VERSION: '2' } });
    expect((await request(t.app).get('/readyz')).body.dependencies.ucw.status).toBe('down');
    expect(await allUcwCalls(t)).toEqual({ 'health_probe/5xx': 1 });
  });

  it('when the UCW never answers, then the probe counts as a timeout', async () => {
    t = await buildTestApp({ env: { UCW_URL: await fakeUcw('hang'), UCW_API_VERSION: '2', UCW_TIMEOUT_MS: '100' } });
    expect((await request(t.app).get('/readyz')).body.dependencies.ucw.status).toBe('down');
    // /readyz gives up on its own deadline, which may beat the call's abort by a moment: wait for the count.
    await vi.waitFor(async () => expect(await ucwCalls(t!, 'health_probe', 'timeout')).toBe(1), { timeout: 10_000, interval: 20 });
    expect(await allUcwCalls(t)).toEqual({ 'health_probe/timeout': 1 });
  });

  it('when nothing listens at UCW_URL, then the probe counts as a network error', async () => {
    const closed = await fakeUcw(200);
    await new Promise((resolve) => server!.close(resolve));
    server = undefined;
    t = await buildTestApp({ env: { UCW_URL: closed, UCW_API_VERSION: '2' } });
    expect((await request(t.app).get('/readyz')).body.dependencies.ucw.status).toBe('down');
    expect(await allUcwCalls(t)).toEqual({ 'health_probe/network_error': 1 });
  });
});
