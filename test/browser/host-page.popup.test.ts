import { afterAll, beforeAll, beforeEach, describe, expect } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import {
  browserTest,
  describeBrowser,
  connectInWidget,
  hostFrames,
  newUserId,
  received,
  recordedEventTypes,
  startBrowserStack,
  waitForMessage,
  type BrowserStack,
} from '../helpers/browser.js';

describeBrowser('browser: popup presentation (popup blocking on)', () => {
  describe.each([1, 2] as const)('UCW v%s, auth on', (version) => {
    let stack: BrowserStack;
    // Each test its own user: nothing one test connects shows up in another's assertions.
    let user: string;
    beforeEach(() => {
      user = newUserId(`browser-popup-v${version}`);
    });

    beforeAll(async () => {
      stack = await startBrowserStack({ version });
    });
    afterAll(async () => {
      await stack?.close();
    });

    async function openFrontend(context: BrowserContext): Promise<Page> {
      const page = await context.newPage();
      await page.goto(`${stack.frontend.origin}/app`);
      return page;
    }

    browserTest('popups need a user gesture in this browser (the honest setting for the next tests)', async ({ context }) => {
      const page = await context.newPage();
      await page.goto(`${stack.frontend.origin}/app?autoopen`);
      expect(await page.evaluate(() => (window as any).autoOpened)).toBe('blocked');
      await page.close();
    });

    browserTest('framed host page: the button opens the widget in a popup, and the frontend receives memberConnected', async ({ context }) => {
      const page = await openFrontend(context);
      const session = await page.evaluate(
        ([bff, token]) => (window as any).connect(bff, token, { jobTypes: ['transactions'], presentation: 'popup' }),
        [stack.bffUrl, await stack.token(user)] as const,
      );
      const { host } = hostFrames(page);
      await expect.poll(() => host.getByTestId('host-status').getAttribute('data-state')).toBe('ready');

      const [popup] = await Promise.all([context.waitForEvent('page'), host.getByTestId('open-widget').click()]);
      await popup.waitForURL((url) => url.pathname === '/widget');
      await connectInWidget(popup, 'sandbox-bank', 'connected');
      const message = await waitForMessage(page, 'connect/memberConnected');

      expect(message.origin).toBe(stack.bffUrl);
      expect(message.data).toEqual({
        type: 'connect/memberConnected',
        metadata: { sessionId: session.sessionId, connectionId: expect.stringMatching(/^conn_/), aggregator: 'sophtron', institutionId: 'sandbox-bank', status: 'connected' },
      });
      expect(JSON.stringify(await received(page))).not.toMatch(/MBR-|USR-|member_guid|aggregatorUserId/);
      await expect.poll(() => host.getByTestId('host-status').getAttribute('data-state')).toBe('connected');
      const list = await stack.api(user, '/connections');
      expect(list.body.connections).toEqual([expect.objectContaining({ id: message.data.metadata!.connectionId, status: 'connected' })]);
      await popup.close();
      await page.close();
    });

    browserTest('a page of another origin in the widget popup cannot post events; closing and reopening mints a fresh widget', async ({ context }) => {
      const page = await openFrontend(context);
      const forgingUser = `${user}-forged`;
      const session = await page.evaluate(
        ([bff, token]) => (window as any).connect(bff, token, { jobTypes: ['transactions'], presentation: 'popup' }),
        [stack.bffUrl, await stack.token(forgingUser)] as const,
      );
      const { host } = hostFrames(page);
      const [popup] = await Promise.all([context.waitForEvent('page'), host.getByTestId('open-widget').click()]);
      await popup.locator('[data-testid="widget-status"][data-state="search"]').waitFor();

      // The popup wanders off to another origin (as an OAuth step might) and that page forges events.
      await popup.goto(`${stack.stranger.origin}/oauth`);
      await popup.evaluate(() => {
        const forged = [
          { type: 'connect/memberConnected', metadata: { aggregator: 'sophtron', member_guid: 'MBR-345' } },
          { type: 'connect/memberConnected', metadata: { aggregator: 'sophtron', connectionId: 'MBR-forged', aggregatorUserId: 'USR-forged' } },
        ];
        for (const event of forged) window.opener.postMessage(event, '*');
      });

      // Then the genuine widget, in a fresh popup, connects: once its event is recorded and relayed,
      // the forgeries posted before it would have been too.
      await popup.close();
      await expect.poll(() => host.getByTestId('host-status').getAttribute('data-state')).toBe('closed');
      const [again] = await Promise.all([context.waitForEvent('page'), host.getByTestId('open-widget').click()]);
      await connectInWidget(again, 'mx-bank', 'connected');
      await waitForMessage(page, 'connect/memberConnected');
      await expect.poll(() => recordedEventTypes(stack, session.sessionId)).toContain('connect/memberConnected');
      expect((await recordedEventTypes(stack, session.sessionId)).filter((type) => type === 'connect/memberConnected')).toHaveLength(1);
      expect((await received(page)).filter((m) => m.data.type === 'connect/memberConnected')).toHaveLength(1);
      // The one connection is the genuine widget's (MX Bank), not a forged Sophtron member.
      expect((await stack.api(forgingUser, '/connections')).body.connections).toEqual([expect.objectContaining({ status: 'connected', aggregator: 'mx', institutionId: 'mx-bank' })]);
      await again.close();
      await page.close();
    });

    browserTest('host page opened as a popup by the frontend: events reach the frontend through window.opener', async ({ context }) => {
      const page = await openFrontend(context);
      const created = await stack.api(user, '/connect-url', {
        method: 'POST',
        body: JSON.stringify({ jobTypes: ['transactions'], presentation: 'popup', institutionId: 'mx-bank', targetOrigin: stack.frontend.origin }),
      });
      expect(created.status).toBe(201);
      await page.evaluate((url) => ((window as any).pendingUrl = url), created.body.url as string);

      const [hostPage] = await Promise.all([context.waitForEvent('page'), page.click('#open')]);
      await hostPage.getByTestId('open-widget').waitFor();
      const [widget] = await Promise.all([context.waitForEvent('page'), hostPage.getByTestId('open-widget').click()]);
      await connectInWidget(widget, undefined, 'connected');
      const message = await waitForMessage(page, 'connect/memberConnected');

      expect(message.data.metadata).toMatchObject({ sessionId: created.body.sessionId, aggregator: 'mx', institutionId: 'mx-bank', status: 'connected' });
      expect(await hostPage.getByTestId('host-status').textContent()).toBe('Connected. You can close this window.');
      await widget.close();
      await hostPage.close();
      await page.close();
    });
  });
  describe('UCW cross-site to the BFF and the frontend (localhost vs 127.0.0.1), v2, auth on', () => {
    let stack: BrowserStack;
    // Each test its own user: nothing one test connects shows up in another's assertions.
    let user: string;
    beforeEach(() => {
      user = newUserId('browser-popup-cross-site');
    });

    beforeAll(async () => {
      stack = await startBrowserStack({ version: 2, siteHost: 'localhost' });
    });
    afterAll(async () => {
      await stack?.close();
    });

    async function connect(page: Page, body: Record<string, unknown>): Promise<{ sessionId: string }> {
      await page.goto(`${stack.frontend.origin}/app`);
      return page.evaluate(
        ([bff, token, request]) => (window as any).connect(bff, token, request),
        [stack.bffUrl, await stack.token(user), { jobTypes: ['transactions'], ...body }] as const,
      );
    }

    browserTest('a framed widget loses its SameSite=Strict cookie and fails, as the real UCW does (why "auto" avoids it)', async ({ context }) => {
      const page = await context.newPage();
      await connect(page, { presentation: 'iframe' });
      await hostFrames(page).widget.locator('[data-testid="widget-status"][data-state="error"]').waitFor();
      await page.close();
    });

    browserTest('presentation "auto" picks the popup, and the popup connects', async ({ context }) => {
      const page = await context.newPage();
      const session = await connect(page, {});
      const { host } = hostFrames(page);
      const [popup] = await Promise.all([context.waitForEvent('page'), host.getByTestId('open-widget').click()]);
      await connectInWidget(popup, 'sandbox-bank', 'connected');
      const message = await waitForMessage(page, 'connect/memberConnected');
      expect(message.data.metadata).toMatchObject({ sessionId: session.sessionId, connectionId: expect.stringMatching(/^conn_/), status: 'connected' });
      await popup.close();
      await page.close();
    });
  });
});
