import { afterEach, describe, expect, it } from 'vitest';
import { startSandboxUcw, type SandboxUcw } from '../../src/sandbox/sandbox-ucw.js';
import { createConnectUrl } from '../helpers/flows.js';
import { testDialects } from '../helpers/databases.js';
import { FRONTEND_ORIGIN, buildTestApp, type TestApp } from '../helpers/test-app.js';

describe.each(testDialects)('on %s', (dialect) => {
  describe('POST /connect-url (direct embed) when the UCW answers oddly', () => {
    let t: TestApp | undefined;
    let sandbox: SandboxUcw | undefined;
    afterEach(async () => {
      await t?.close();
      await sandbox?.close();
      t = sandbox = undefined;
    });

    const direct = { jobTypes: ['transactions'], embed: 'direct', targetOrigin: FRONTEND_ORIGIN };
    const sessionCount = async (app: TestApp) =>
      Number((await app.database.db.selectFrom('connect_sessions').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);

    it('when the UCW mints a widget URL on another origin than UCW_URL, then 502 ucw_bad_response and no session', async () => {
      sandbox = await startSandboxUcw({ version: 2, port: 0, publicUrl: 'http://widgets.elsewhere.test' });
      t = await buildTestApp({ dialect, env: { UCW_URL: sandbox.url, UCW_API_VERSION: '2', UCW_AUTH: 'none' } });

      const res = await createConnectUrl(t.app, 'direct-user', direct);

      expect(res.status).toBe(502);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.body).toMatchObject({ code: 'ucw_bad_response', detail: 'The UCW returned a widget URL on another origin than UCW_URL' });
      expect(res.text).not.toContain('widgets.elsewhere.test');
      expect(await sessionCount(t)).toBe(0);
    });

    it('when the UCW mints a widget URL on its own origin, then 201 with that URL', async () => {
      t = await buildTestApp({ dialect, sandbox: { version: 2 } });
      const res = await createConnectUrl(t.app, 'direct-user', direct);
      expect(res.status).toBe(201);
      expect(new URL(res.body.url).origin).toBe(new URL(t.sandbox!.url).origin);
    });
  });
});
