import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { testDialects } from '../helpers/databases.js';
import { buildTestApp, FRONTEND_ORIGIN, type TestApp } from '../helpers/test-app.js';
import { findConnectSession, updateConnectSession } from '../../src/connect-sessions/connect-session.repository.js';
import { userToken } from '../helpers/jwt.js';
import { createSession, expectErrorPage, expectPageHeaders, pageData } from './host-page-helpers.js';

const USER = 'user-host-page';

describe.each(testDialects)('on %s', (dialect) => {
  describe.each([1, 2] as const)('host page with UCW v%s (auth on)', (version) => {
    let t: TestApp;
    let now = new Date();
    let ucwOrigin: string;

    beforeAll(async () => {
      t = await buildTestApp({ dialect, sandbox: { version }, clock: () => now, env: { SESSION_MAX_LOADS: '3' } });
      ucwOrigin = new URL(t.sandbox!.url).origin;
    });
    afterAll(async () => {
      await t.close();
    });

    const mints = () => t.sandbox!.requests.filter((r) => (version === 1 ? r.path === '/api/token' : r.path === '/widgetUrl'));

    it('when the link is valid, then it answers the page with the widget minted for the BFF origin, and opens the session', async () => {
      now = new Date();
      const session = await createSession(t.app, USER, { presentation: 'iframe' });
      const before = mints().length;

      const response = await request(t.app).get(session.path);

      expect(response.status).toBe(200);
      expectPageHeaders(response, ucwOrigin);
      const data = pageData(response.text);
      expect(data).toEqual({
        sessionId: session.sessionId,
        presentation: 'iframe',
        widgetUrl: expect.stringMatching(new RegExp(`^${ucwOrigin}/widget\\?`)),
        widgetUrlEndpoint: `${session.sessionId}/widget-url?${session.query}`,
        eventsUrl: `${session.sessionId}/events?${session.query}`,
        cancelUrl: `${session.sessionId}/cancel?${session.query}`,
        expiresAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT.*Z$/),
        targetOrigin: FRONTEND_ORIGIN,
        redirectUri: null,
      });
      expect(mints()).toHaveLength(before + 1);
      const minted = mints().at(-1)!;
      // The widget posts to the host page, never straight to the frontend.
      const targetOrigin = version === 1 ? new URL(data.widgetUrl!).searchParams.get('targetOrigin') : (minted.body as { targetOrigin: string }).targetOrigin;
      expect(targetOrigin).toBe(new URL(t.config.publicUrl).origin);

      const row = await findConnectSession(t.database.db, session.sessionId);
      expect(row).toMatchObject({ status: 'opened', load_count: 1 });
    });

    it('when the page is loaded twice, then each load mints its own widget URL under its own nonce', async () => {
      now = new Date();
      const session = await createSession(t.app, USER, { presentation: 'iframe' });
      const first = await request(t.app).get(session.path);
      const second = await request(t.app).get(session.path);

      expect([first.status, second.status]).toEqual([200, 200]);
      expect(pageData(first.text).widgetUrl).not.toBe(pageData(second.text).widgetUrl);
      expect(expectPageHeaders(first, ucwOrigin)).not.toBe(expectPageHeaders(second, ucwOrigin));
      expect(await findConnectSession(t.database.db, session.sessionId)).toMatchObject({ load_count: 2 });
    });

    it('when the load budget is spent, then the next load is a 429 page and mints nothing', async () => {
      now = new Date();
      const session = await createSession(t.app, USER, { presentation: 'iframe' });
      for (let i = 0; i < 3; i++) expect((await request(t.app).get(session.path)).status).toBe(200);
      const before = mints().length;

      const response = await request(t.app).get(session.path);

      expectErrorPage(response, 429, ucwOrigin);
      expect(response.text).toContain('opened too many times');
      expect(mints()).toHaveLength(before);
      expect(await findConnectSession(t.database.db, session.sessionId)).toMatchObject({ load_count: 3 });
    });

    it('when a link checker sends HEAD, then it learns the status but no load is counted and nothing is minted', async () => {
      now = new Date();
      const session = await createSession(t.app, USER, { presentation: 'iframe' });
      const before = mints().length;
      expect((await request(t.app).head(session.path)).status).toBe(200);
      expect((await request(t.app).head(`/connect/${session.sessionId}`)).status).toBe(403);
      expect(mints()).toHaveLength(before);
      expect(await findConnectSession(t.database.db, session.sessionId)).toMatchObject({ status: 'created', load_count: 0 });
    });

    it('when pages are served, then no log line carries the capability signature or the widget token', async () => {
      now = new Date();
      const session = await createSession(t.app, USER, { presentation: 'iframe' });
      const response = await request(t.app).get(session.path);
      const sig = new URLSearchParams(session.query).get('sig')!;
      const widgetUrl = new URL(pageData(response.text).widgetUrl!);
      const token = widgetUrl.searchParams.get('token')!;
      expect(t.logs.text()).not.toContain(sig);
      expect(t.logs.text()).not.toContain(token);
    });

    describe('capability failures are small HTML pages', () => {
      it('when the session is unknown, then 404', async () => {
        now = new Date();
        const session = await createSession(t.app, USER);
        const unknown = session.path.replace(session.sessionId, 'cs_AAAAAAAAAAAAAAAAAAAAAA');
        expectErrorPage(await request(t.app).get(unknown), 404, ucwOrigin);
        expectErrorPage(await request(t.app).get(`/connect/not-an-id?${session.query}`), 404, ucwOrigin);
      });

      it('when the signature is missing, malformed, tampered or another session\'s, then 403', async () => {
        now = new Date();
        const session = await createSession(t.app, USER);
        const other = await createSession(t.app, USER);
        const sig = new URLSearchParams(session.query).get('sig')!;
        const exp = new URLSearchParams(session.query).get('exp')!;
        const flipped = `${sig.slice(0, -1)}${sig.endsWith('A') ? 'B' : 'A'}`;
        for (const path of [
          `/connect/${session.sessionId}`,
          `/connect/${session.sessionId}?exp=${exp}`,
          `/connect/${session.sessionId}?exp=${exp}&sig=short`,
          `/connect/${session.sessionId}?exp=${exp}&sig=${flipped}`,
          `/connect/${session.sessionId}?exp=${Number(exp) + 60}&sig=${sig}`,
          `/connect/${session.sessionId}?${other.query}`,
        ]) {
          expectErrorPage(await request(t.app).get(path), 403, ucwOrigin);
        }
        expect(await findConnectSession(t.database.db, session.sessionId)).toMatchObject({ status: 'created', load_count: 0 });
      });

      it('when the link has expired, then 410', async () => {
        now = new Date();
        const session = await createSession(t.app, USER);
        now = new Date(now.getTime() + 31 * 60_000);
        const response = await request(t.app).get(session.path);
        expectErrorPage(response, 410, ucwOrigin);
        expect(response.text).toContain('expired');
        now = new Date();
      });

      it.each(['connected', 'failed', 'expired'] as const)('when the session is already %s, then 410', async (status) => {
        now = new Date();
        const session = await createSession(t.app, USER);
        await updateConnectSession(t.database.db, session.sessionId, { status });
        const before = mints().length;
        expectErrorPage(await request(t.app).get(session.path), 410, ucwOrigin);
        expect(mints()).toHaveLength(before);
      });

      it('when the session was made for a direct embed, then 404 even with a valid signature for it', async () => {
        now = new Date();
        const direct = await request(t.app)
          .post('/connect-url')
          .set('Authorization', `Bearer ${await userToken(USER)}`)
          .set('Origin', FRONTEND_ORIGIN)
          .send({ jobTypes: ['transactions'], embed: 'direct' });
        expect(direct.status).toBe(201);
        const hosted = await createSession(t.app, USER);
        // A signature for a hosted session does not open the direct one.
        expectErrorPage(await request(t.app).get(`/connect/${direct.body.sessionId}?${hosted.query}`), 403, ucwOrigin);
      });
    });

    describe('popup presentation', () => {
      it('when the page loads, then it mints nothing; the button asks POST widget-url, which mints and counts a load', async () => {
        now = new Date();
        const session = await createSession(t.app, USER, { presentation: 'popup' });
        const before = mints().length;

        const page = await request(t.app).get(session.path);
        expect(page.status).toBe(200);
        expectPageHeaders(page, ucwOrigin);
        expect(pageData(page.text)).toMatchObject({ presentation: 'popup', widgetUrl: null });
        expect(page.text).toContain('data-testid="open-widget"');
        expect(mints()).toHaveLength(before);

        const fresh = await request(t.app).post(`/connect/${session.sessionId}/widget-url?${session.query}`).set('Origin', new URL(t.config.publicUrl).origin);
        expect(fresh.status).toBe(200);
        expect(fresh.headers['cache-control']).toBe('no-store');
        expect(fresh.body).toEqual({ url: expect.stringMatching(new RegExp(`^${ucwOrigin}/widget\\?`)) });
        expect(mints()).toHaveLength(before + 1);
        expect(await findConnectSession(t.database.db, session.sessionId)).toMatchObject({ status: 'opened', load_count: 2 });

        const again = await request(t.app).post(`/connect/${session.sessionId}/widget-url?${session.query}`);
        expect(again.body.url).not.toBe(fresh.body.url);
      });

      it('when widget-url is asked without a valid capability, from another origin, or past the budget, then a problem answer and no mint', async () => {
        now = new Date();
        const session = await createSession(t.app, USER, { presentation: 'popup' });
        const before = mints().length;
        const path = `/connect/${session.sessionId}/widget-url`;

        const unsigned = await request(t.app).post(path);
        expect(unsigned.status).toBe(403);
        expect(unsigned.body).toMatchObject({ code: 'capability_invalid' });

        const foreign = await request(t.app).post(`${path}?${session.query}`).set('Origin', 'https://evil.example');
        expect(foreign.status).toBe(403);
        expect(foreign.body).toMatchObject({ code: 'forbidden' });

        for (let i = 0; i < 3; i++) expect((await request(t.app).post(`${path}?${session.query}`)).status).toBe(200);
        const spent = await request(t.app).post(`${path}?${session.query}`);
        expect(spent.status).toBe(429);
        expect(spent.body).toMatchObject({ code: 'rate_limited' });
        expect(mints()).toHaveLength(before + 3);

        await updateConnectSession(t.database.db, session.sessionId, { status: 'connected' });
        const finished = await request(t.app).post(`${path}?${session.query}`);
        expect(finished.status).toBe(410);
        expect(finished.body).toMatchObject({ code: 'capability_expired' });
      });
    });
  });

  describe('host page values are escaped', () => {
    let t: TestApp;
    const hostile = 'https://app.platform.test/done?next=</script><script>alert(1)</script>&q="\'<>';

    beforeAll(async () => {
      t = await buildTestApp({ dialect, sandbox: { version: 2 }, env: { ALLOWED_REDIRECT_URIS: hostile } });
    });
    afterAll(async () => {
      await t.close();
    });

    it('when the redirect URI holds markup, then it reaches the script only as inert JSON', async () => {
      const session = await createSession(t.app, USER, { presentation: 'iframe', redirectUri: hostile });
      const response = await request(t.app).get(session.path);
      expect(response.status).toBe(200);
      expect(response.text).not.toContain('<script>alert(1)');
      expect(response.text.match(/<\/script>/g)).toHaveLength(2);
      expect(pageData(response.text).redirectUri).toBe(hostile);
    });
  });
});
