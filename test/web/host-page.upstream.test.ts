import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import request from 'supertest';
import { startSandboxUcw, type SandboxUcw } from '../../src/sandbox/sandbox-ucw.js';
import { findConnectSession } from '../../src/connect-sessions/connect-session.repository.js';
import { testDialects } from '../helpers/databases.js';
import { buildTestApp, type TestApp } from '../helpers/test-app.js';
import { createSession, expectErrorPage, pageData } from './host-page-helpers.js';

const USER = 'user-upstream';

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A loopback port that was free a moment ago and has nothing listening now. */
async function closedPort(): Promise<string> {
  const server = createServer();
  const url = await listen(server);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return url;
}

describe.each(testDialects)('on %s', (dialect) => {
  describe('host page when the UCW fails', () => {
    let t: TestApp | undefined;
    let server: Server | undefined;
    let sandbox: SandboxUcw | undefined;

    afterEach(async () => {
      await t?.close();
      server?.closeAllConnections();
      await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
      await sandbox?.close();
      t = server = sandbox = undefined;
    });

    const ucwEnv = (url: string, extra: Record<string, string> = {}) => ({ UCW_URL: url, UCW_API_VERSION: '2', UCW_AUTH: 'none', ...extra });

    it('when nothing listens at UCW_URL, then a 503 page with a retry button, no internals, and the load still counted', async () => {
      const ucw = await closedPort();
      t = await buildTestApp({ dialect, env: ucwEnv(ucw) });
      const session = await createSession(t.app, USER, { presentation: 'iframe' });

      const response = await request(t.app).get(session.path);

      expectErrorPage(response, 503, new URL(ucw).origin);
      expect(response.text).toContain('data-testid="retry-button"');
      expect(response.text).toContain('location.reload()');
      expect(response.text).not.toContain(new URL(ucw).host);
      expect(response.text).not.toMatch(/ECONNREFUSED|stack/i);
      expect(await findConnectSession(t.database.db, session.sessionId)).toMatchObject({ status: 'opened', load_count: 1 });
    });

    it('when the UCW does not answer in time, then a 504 page with a retry button', async () => {
      server = createServer(() => {
        // Never answers.
      });
      const ucw = await listen(server);
      t = await buildTestApp({ dialect, env: ucwEnv(ucw, { UCW_TIMEOUT_MS: '200' }) });
      const session = await createSession(t.app, USER, { presentation: 'iframe' });

      const response = await request(t.app).get(session.path);

      expectErrorPage(response, 504, new URL(ucw).origin);
      expect(response.text).toContain('data-testid="retry-button"');
    });

    it('when the UCW answers 500, then a 502 page with a retry button', async () => {
      server = createServer((_req, res) => {
        res.statusCode = 500;
        res.end('Internal Server Error: at Object.<anonymous> (/srv/ucw/index.js:1:1)');
      });
      const ucw = await listen(server);
      t = await buildTestApp({ dialect, env: ucwEnv(ucw) });
      const session = await createSession(t.app, USER, { presentation: 'iframe' });

      const response = await request(t.app).get(session.path);

      expectErrorPage(response, 502, new URL(ucw).origin);
      expect(response.text).toContain('data-testid="retry-button"');
      expect(response.text).not.toContain('/srv/ucw');
    });

    it('when the UCW mints a widget URL on another origin than UCW_URL, then a 502 page: the page never frames it', async () => {
      sandbox = await startSandboxUcw({ version: 2, port: 0, publicUrl: 'http://widgets.elsewhere.test' });
      t = await buildTestApp({ dialect, env: ucwEnv(sandbox.url) });
      const session = await createSession(t.app, USER, { presentation: 'iframe' });

      const response = await request(t.app).get(session.path);

      expectErrorPage(response, 502, new URL(sandbox.url).origin);
      expect(response.text).not.toContain('widgets.elsewhere.test');
    });

    it('when the popup asks for a widget URL and the UCW is down, then a 503 problem for the page script', async () => {
      const ucw = await closedPort();
      t = await buildTestApp({ dialect, env: ucwEnv(ucw) });
      const session = await createSession(t.app, USER, { presentation: 'popup' });
      expect((await request(t.app).get(session.path)).status).toBe(200);

      const response = await request(t.app).post(`/connect/${session.sessionId}/widget-url?${session.query}`);

      expect(response.status).toBe(503);
      expect(response.body).toMatchObject({ code: 'ucw_unavailable' });
      expect(response.headers['retry-after']).toBeDefined();
    });
  });

  describe('presentation "auto"', () => {
    let t: TestApp | undefined;
    afterEach(async () => {
      await t?.close();
      t = undefined;
    });

    it('when the UCW is same-site with PUBLIC_URL and the frontend (ports differ), then the widget is framed', async () => {
      t = await buildTestApp({ dialect, sandbox: { version: 2 }, env: { ALLOWED_ORIGINS: 'http://127.0.0.1:5173' } });
      const session = await createSession(t.app, USER, { targetOrigin: 'http://127.0.0.1:5173' });
      const response = await request(t.app).get(session.path);
      expect(pageData(response.text)).toMatchObject({ presentation: 'iframe', widgetUrl: expect.any(String) });
    });

    it('when the frontend that frames the page is cross-site to the UCW, then a popup (the nested cookie would be third-party)', async () => {
      t = await buildTestApp({ dialect, sandbox: { version: 2 } });
      const session = await createSession(t.app, USER);
      const response = await request(t.app).get(session.path);
      expect(pageData(response.text)).toMatchObject({ presentation: 'popup', widgetUrl: null });
    });

    it('when UCW auth is on and the UCW is cross-site to PUBLIC_URL, then a popup, minted on click', async () => {
      t = await buildTestApp({ dialect, sandbox: { version: 2 }, env: { PUBLIC_URL: 'http://localhost:3999' } });
      const session = await createSession(t.app, USER);
      const response = await request(t.app).get(session.path);
      expect(pageData(response.text)).toMatchObject({ presentation: 'popup', widgetUrl: null });
    });

    it('when UCW auth is off, then the widget is framed even cross-site (there is no cookie to lose)', async () => {
      t = await buildTestApp({ dialect, sandbox: { version: 2, auth: false }, env: { PUBLIC_URL: 'http://localhost:3999' } });
      const session = await createSession(t.app, USER);
      const response = await request(t.app).get(session.path);
      expect(pageData(response.text)).toMatchObject({ presentation: 'iframe', widgetUrl: expect.any(String) });
    });

    it('when the session asks for a presentation explicitly, then that one is used', async () => {
      t = await buildTestApp({ dialect, sandbox: { version: 2 }, env: { PUBLIC_URL: 'http://localhost:3999' } });
      const session = await createSession(t.app, USER, { presentation: 'iframe' });
      const response = await request(t.app).get(session.path);
      expect(pageData(response.text)).toMatchObject({ presentation: 'iframe' });
    });
  });
});
