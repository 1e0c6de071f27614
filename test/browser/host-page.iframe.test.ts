import { afterAll, beforeAll, describe, expect } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import {
  browserTest,
  connectInWidget,
  describeBrowser,
  hostFrames,
  newUserId,
  received,
  recordedEventTypes,
  startBrowserStack,
  waitForMessage,
  type BrowserStack,
  type Received,
} from '../helpers/browser.js';

/** Nothing an aggregator issued may reach the frontend: no member/connection ids, no user ids. */
function expectSanitized(messages: unknown): void {
  const text = JSON.stringify(messages);
  expect(text).not.toMatch(/MBR-|USR-|member_guid|user_guid|aggregatorUserId|ucpInstitutionId|rawStatus|jobId/);
}

describeBrowser('browser: host page in an iframe of the frontend', () => {
  describe.each([1, 2] as const)('UCW v%s, auth on', (version) => {
    let stack: BrowserStack;

    beforeAll(async () => {
      stack = await startBrowserStack({ version, redirectPath: '/done' });
    });
    afterAll(async () => {
      await stack?.close();
    });

    async function openFrontend(context: BrowserContext): Promise<Page> {
      const opened = await context.newPage();
      await opened.goto(`${stack.frontend.origin}/app`);
      return opened;
    }

    async function connect(page: Page, user: string, body: Record<string, unknown>): Promise<{ sessionId: string; url: string }> {
      return page.evaluate(
        ([bff, token, request]) => (window as any).connect(bff, token, request),
        [stack.bffUrl, await stack.token(user), { jobTypes: ['transactions'], ...body }] as const,
      );
    }

    /** A first connection of Sandbox Bank through the framed widget; its memberConnected message. */
    async function connectSandboxBank(page: Page, user: string): Promise<{ sessionId: string; message: Received }> {
      const session = await connect(page, user, {});
      await connectInWidget(hostFrames(page).widget, 'sandbox-bank', 'connected');
      return { sessionId: session.sessionId, message: await waitForMessage(page, 'connect/memberConnected') };
    }

    browserTest('connects through the widget; the frontend gets the sanitized memberConnected with the BFF connection id', async ({ context }) => {
      const user = newUserId(`browser-iframe-v${version}`);
      const page = await openFrontend(context);
      const { message, ...session } = await connectSandboxBank(page, user);

      expect(message.origin).toBe(stack.bffUrl);
      expect(message.data).toEqual({
        type: 'connect/memberConnected',
        metadata: {
          sessionId: session.sessionId,
          connectionId: expect.stringMatching(/^conn_/),
          aggregator: 'sophtron',
          institutionId: 'sandbox-bank',
          status: 'connected',
        },
      });
      const connectionId = message.data.metadata!.connectionId as string;
      const all = await received(page);
      // Every message came from the host page (the widget posts only to its own parent).
      expect(new Set(all.map((m) => m.origin))).toEqual(new Set([stack.bffUrl]));
      expectSanitized(all);
      await expect
        .poll(() => hostFrames(page).host.getByTestId('host-status').getAttribute('data-state'))
        .toBe('connected');

      const list = await stack.api(user, '/connections');
      expect(list.status).toBe(200);
      expect(list.body.connections).toEqual([expect.objectContaining({ id: connectionId, status: 'connected', aggregator: 'sophtron', institutionId: 'sandbox-bank' })]);
      expectSanitized(list.body);
      const sessionView = await stack.api(user, `/connect-sessions/${session.sessionId}`);
      expect(sessionView.body).toMatchObject({ status: 'connected', connection: { id: connectionId } });
      await page.close();
    });

    browserTest('a refresh of a connection round-trips and updates the same record', async ({ context }) => {
      const user = newUserId(`browser-iframe-refresh-v${version}`);
      const first = await openFrontend(context);
      const connectionId = (await connectSandboxBank(first, user)).message.data.metadata!.connectionId as string;
      await first.close();
      const before = (await stack.api(user, `/connections/${connectionId}`)).body;
      const page = await openFrontend(context);
      const session = await connect(page, user, { connectionId });
      const { widget } = hostFrames(page);

      // A refresh preselects the institution: straight to credentials.
      await connectInWidget(widget, undefined, 'connected');
      const message = await waitForMessage(page, 'connect/memberConnected');

      expect(message.data.metadata).toMatchObject({ sessionId: session.sessionId, connectionId, status: 'connected' });
      expectSanitized(await received(page));
      const list = await stack.api(user, '/connections');
      expect(list.body.connections).toHaveLength(1);
      expect(list.body.connections[0]).toMatchObject({ id: connectionId, status: 'connected', createdAt: before.createdAt });
      expect(list.body.connections[0].updatedAt >= before.updatedAt).toBe(true);
      const sessionView = await stack.api(user, `/connect-sessions/${session.sessionId}`);
      expect(sessionView.body).toMatchObject({ mode: 'refresh', status: 'connected', connection: { id: connectionId } });
      await page.close();
    });

    browserTest('the failure institution leaves the session open with its error, the host page hinting, and the connection needing attention', async ({ context }) => {
      const user = newUserId(`browser-iframe-failure-v${version}`);
      const page = await openFrontend(context);
      const session = await connect(page, user, {});
      const { widget, host } = hostFrames(page);

      await connectInWidget(widget, 'failure-bank', 'failed');
      const message = await waitForMessage(page, 'connect/memberError');

      expect(message.data.metadata).toMatchObject({ sessionId: session.sessionId, status: 'opened', aggregator: 'sophtron', institutionId: 'failure-bank', error: { statusCode: 2 } });
      expectSanitized(await received(page));
      await expect.poll(() => host.getByTestId('host-status').getAttribute('data-state')).toBe('hint');
      expect(await host.getByTestId('host-status').textContent()).toBe('Check the details in the widget to continue.');
      const sessionView = await stack.api(user, `/connect-sessions/${session.sessionId}`);
      expect(sessionView.body).toMatchObject({ status: 'opened', lastError: { statusCode: 2 } });
      expect(sessionView.body.connection.status).toBe('needs_attention');
      await page.close();
    });

    browserTest('when the relay answers 503 and drops the connection, the page retries until acknowledged, in order', async ({ context }) => {
      let failures = 0;
      const route = '**/connect/*/events?*';
      await context.route(route, async (intercepted) => {
        if (failures < 3) {
          failures++;
          await (failures === 2 ? intercepted.abort('connectionreset') : intercepted.fulfill({ status: 503, body: 'unavailable' }));
          return;
        }
        await intercepted.continue();
      });
      const page = await openFrontend(context);
      try {
        const session = await connect(page, newUserId(`browser-iframe-retry-v${version}`), {});
        await connectInWidget(hostFrames(page).widget, 'sandbox-bank', 'connected');
        await waitForMessage(page, 'connect/memberConnected', 20_000);

        expect(failures).toBe(3);
        const types = await recordedEventTypes(stack, session.sessionId);
        const order = ['connect/loaded', 'connect/selectedInstitution', 'connect/memberStatusUpdate', 'connect/memberConnected'].map((type) => types.indexOf(type));
        expect(order.every((index) => index >= 0)).toBe(true);
        expect([...order].sort((a, b) => a - b)).toEqual(order);
      } finally {
        await context.unroute(route);
        await page.close();
      }
    });

    browserTest('a top-level host page (a webview) returns to the allow-listed redirect URI with the session id and outcome', async ({ context }) => {
      const created = await stack.api(newUserId(`browser-iframe-webview-v${version}`), '/connect-url', {
        method: 'POST',
        body: JSON.stringify({ jobTypes: ['transactions'], targetOrigin: stack.frontend.origin, redirectUri: `${stack.frontend.origin}/done` }),
      });
      expect(created.status).toBe(201);
      const page = await context.newPage();
      await page.goto(created.body.url);

      const widget = page.frameLocator('#widget');
      await widget.getByTestId('institution-sandbox-bank').click();
      // The page may leave before the widget shows its own result: wait for the navigation only.
      await Promise.all([page.waitForURL((url) => url.pathname === '/done'), widget.getByTestId('connect-button').click()]);

      const landed = new URL(page.url());
      expect(landed.origin).toBe(stack.frontend.origin);
      expect(Object.fromEntries(landed.searchParams)).toEqual({ sessionId: created.body.sessionId, status: 'connected' });
      await page.close();
    });
  });
});
