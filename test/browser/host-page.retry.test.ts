import { afterAll, beforeAll, beforeEach, describe, expect } from 'vitest';
import type { Page } from 'playwright-core';
import {
  browserTest,
  describeBrowser,
  connectInWidget,
  enterPassword,
  hostFrames,
  newUserId,
  received,
  startBrowserStack,
  waitForMessage,
  type BrowserStack,
  type Received,
} from '../helpers/browser.js';

/** Every forwarded event once the session has a connection names its aggregator and institution. */
function expectConnectionTruth(messages: Received[], expected: { connectionId: string; aggregator: string; institutionId: string }): void {
  const after = messages.slice(messages.findIndex((m) => m.data.metadata?.connectionId !== null));
  expect(after.length).toBeGreaterThan(0);
  for (const message of after) {
    expect({ type: message.data.type, ...message.data.metadata }).toMatchObject({ type: message.data.type, ...expected });
  }
}

describeBrowser('browser: errors are retryable, Cancel ends the session, popups close after success', () => {
  describe.each([1, 2] as const)('UCW v%s, auth on', (version) => {
    let stack: BrowserStack;
    // Each test its own user: nothing one test connects shows up in another's assertions.
    let user: string;
    beforeEach(() => {
      user = newUserId(`browser-retry-v${version}`);
    });

    beforeAll(async () => {
      stack = await startBrowserStack({ version, redirectPath: '/done' });
    });
    afterAll(async () => {
      await stack?.close();
    });

    async function framedSession(page: Page, body: Record<string, unknown>): Promise<{ sessionId: string }> {
      await page.goto(`${stack.frontend.origin}/app`);
      return page.evaluate(
        ([bff, token, request]) => (window as any).connect(bff, token, request),
        [stack.bffUrl, await stack.token(user), { jobTypes: ['transactions'], ...body }] as const,
      );
    }

    async function topLevelSession(body: Record<string, unknown>): Promise<{ sessionId: string; url: string }> {
      const created = await stack.api(user, '/connect-url', {
        method: 'POST',
        body: JSON.stringify({ jobTypes: ['transactions'], targetOrigin: stack.frontend.origin, redirectUri: `${stack.frontend.origin}/done`, ...body }),
      });
      expect(created.status).toBe(201);
      return created.body;
    }

    browserTest('framed: a wrong password, then a retry in the same widget, ends connected; every event after the connection carries its truth', async ({ context }) => {
      const page = await context.newPage();
      const session = await framedSession(page, {});
      const { widget, host } = hostFrames(page);

      await widget.getByTestId('institution-mx-bank').click();
      await enterPassword(widget, 'wrong');
      await widget.getByTestId('connect-button').click();
      await widget.locator('[data-testid="widget-status"][data-state="retry"]').waitFor();
      const error = await waitForMessage(page, 'connect/memberError');
      const connectionId = error.data.metadata!.connectionId as string;
      expect(error.data).toEqual({
        type: 'connect/memberError',
        metadata: { sessionId: session.sessionId, connectionId: expect.stringMatching(/^conn_/), aggregator: 'mx', institutionId: 'mx-bank', status: 'opened', error: { statusCode: 2 } },
      });
      await expect.poll(() => host.getByTestId('host-status').getAttribute('data-state')).toBe('hint');
      expect(await host.getByTestId('host-status').textContent()).toBe('Check the details in the widget to continue.');
      expect((await stack.api(user, `/connect-sessions/${session.sessionId}`)).body).toMatchObject({ status: 'opened', lastError: { statusCode: 2 } });

      // The form is live: the default password connects the same member.
      await connectInWidget(widget, undefined, 'connected');
      const connected = await waitForMessage(page, 'connect/memberConnected');
      expect(connected.data.metadata).toEqual({ sessionId: session.sessionId, connectionId, aggregator: 'mx', institutionId: 'mx-bank', status: 'connected' });
      await expect.poll(() => host.getByTestId('host-status').getAttribute('data-state')).toBe('connected');
      expectConnectionTruth(await received(page), { connectionId, aggregator: 'mx', institutionId: 'mx-bank' });
      expect(page.url()).toBe(`${stack.frontend.origin}/app`);

      const view = (await stack.api(user, `/connect-sessions/${session.sessionId}`)).body;
      expect(view).toMatchObject({ status: 'connected', lastError: { statusCode: 2 }, connection: { id: connectionId, status: 'connected' } });
      const list = (await stack.api(user, '/connections')).body.connections as Array<{ id: string }>;
      expect(list.map((c) => c.id)).toEqual([connectionId]);
      await page.close();
    });

    browserTest('top-level with redirectUri: a wrong password does not navigate; the retry connects and only then returns', async ({ context }) => {
      const session = await topLevelSession({});
      const page = await context.newPage();
      const visited: string[] = [];
      page.on('framenavigated', (frame) => {
        if (frame === page.mainFrame()) visited.push(new URL(frame.url()).pathname);
      });
      await page.goto(session.url);
      const widget = page.frameLocator('#widget');
      await widget.getByTestId('institution-sandbox-bank').click();
      await enterPassword(widget, 'wrong');
      await widget.getByTestId('connect-button').click();
      await widget.locator('[data-testid="widget-status"][data-state="retry"]').waitFor();
      await expect.poll(() => page.getByTestId('host-status').getAttribute('data-state')).toBe('hint');
      expect(await page.getByTestId('continue-link').isHidden()).toBe(true);

      await Promise.all([page.waitForURL((url) => url.pathname === '/done'), widget.getByTestId('connect-button').click()]);
      expect(Object.fromEntries(new URL(page.url()).searchParams)).toEqual({ sessionId: session.sessionId, status: 'connected' });
      expect(visited).toEqual([`/connect/${session.sessionId}`, '/done']);
      await page.close();
    });

    browserTest('top-level with redirectUri: Cancel ends the session and returns with status=cancelled', async ({ context }) => {
      const session = await topLevelSession({});
      const page = await context.newPage();
      await page.goto(session.url);
      await page.frameLocator('#widget').locator('[data-testid="widget-status"][data-state="search"]').waitFor();
      await Promise.all([page.waitForURL((url) => url.pathname === '/done'), page.getByTestId('cancel-button').click()]);
      expect(Object.fromEntries(new URL(page.url()).searchParams)).toEqual({ sessionId: session.sessionId, status: 'cancelled' });
      expect((await stack.api(user, `/connect-sessions/${session.sessionId}`)).body.status).toBe('cancelled');
      await page.close();
    });

    browserTest('top-level with redirectUri: at expiry after an uncorrected error, the page returns with status=failed', async ({ context }) => {
      const session = await topLevelSession({});
      // Playwright's clock belongs to the context: this test's own (the fixture's), so no other test's
      // pages are moved 31 minutes ahead.
      const page = await context.newPage();
      await page.clock.install();
      await page.goto(session.url);
      const widget = page.frameLocator('#widget');
      await widget.getByTestId('institution-sandbox-bank').click();
      await enterPassword(widget, 'wrong');
      await widget.getByTestId('connect-button').click();
      await expect.poll(() => page.getByTestId('host-status').getAttribute('data-state')).toBe('hint');
      await Promise.all([page.waitForURL((url) => url.pathname === '/done'), page.clock.fastForward('31:00')]);
      expect(Object.fromEntries(new URL(page.url()).searchParams)).toEqual({ sessionId: session.sessionId, status: 'failed' });
      await page.close();
    });

    browserTest('framed: Cancel forwards connect/cancelled to the frontend and the session is cancelled', async ({ context }) => {
      const page = await context.newPage();
      const session = await framedSession(page, {});
      const { host, widget } = hostFrames(page);
      await widget.locator('[data-testid="widget-status"][data-state="search"]').waitFor();
      await host.getByTestId('cancel-button').click();
      const message = await waitForMessage(page, 'connect/cancelled');
      expect(message.data).toEqual({
        type: 'connect/cancelled',
        metadata: { sessionId: session.sessionId, connectionId: null, aggregator: null, institutionId: null, status: 'cancelled' },
      });
      await expect.poll(() => host.getByTestId('host-status').getAttribute('data-state')).toBe('cancelled');
      expect(await host.getByTestId('cancel-button').isHidden()).toBe(true);
      expect((await stack.api(user, `/connect-sessions/${session.sessionId}`)).body.status).toBe('cancelled');
      await page.close();
    });
  });

  describe('UCW v2: refresh sessions and popups', () => {
    let stack: BrowserStack;
    // Each test its own user: nothing one test connects shows up in another's assertions.
    let user: string;
    beforeEach(() => {
      user = newUserId('browser-refresh-meta');
    });

    beforeAll(async () => {
      stack = await startBrowserStack({ version: 2 });
    });
    afterAll(async () => {
      await stack?.close();
    });

    async function framedSession(page: Page, body: Record<string, unknown>): Promise<{ sessionId: string }> {
      await page.goto(`${stack.frontend.origin}/app`);
      return page.evaluate(
        ([bff, token, request]) => (window as any).connect(bff, token, request),
        [stack.bffUrl, await stack.token(user), { jobTypes: ['transactions'], ...body }] as const,
      );
    }

    browserTest('a refresh session forwards its connection, aggregator and institution on every event, from the first', async ({ context }) => {
      const first = await context.newPage();
      await framedSession(first, {});
      await connectInWidget(hostFrames(first).widget, 'sandbox-bank', 'connected');
      const connectionId = (await waitForMessage(first, 'connect/memberConnected')).data.metadata!.connectionId as string;
      await first.close();

      const page = await context.newPage();
      const session = await framedSession(page, { connectionId });
      await connectInWidget(hostFrames(page).widget, undefined, 'connected');
      await waitForMessage(page, 'connect/memberConnected');
      const messages = await received(page);
      expect(messages[0]!.data.type).toBe('connect/loaded');
      for (const message of messages) {
        expect(message.data.metadata).toMatchObject({ sessionId: session.sessionId, connectionId, aggregator: 'sophtron', institutionId: 'sandbox-bank' });
      }
      await page.close();
    });

    browserTest('popup: after success the host page closes the widget window and says only "Connected."', async ({ context }) => {
      const page = await context.newPage();
      await framedSession(page, { presentation: 'popup' });
      const { host } = hostFrames(page);
      await expect.poll(() => host.getByTestId('host-status').getAttribute('data-state')).toBe('ready');
      const [popup] = await Promise.all([context.waitForEvent('page'), host.getByTestId('open-widget').click()]);
      const closed = popup.waitForEvent('close');
      await connectInWidget(popup, 'sandbox-bank', 'connected');
      await waitForMessage(page, 'connect/memberConnected');
      await closed;
      await expect.poll(() => host.getByTestId('host-status').getAttribute('data-state')).toBe('connected');
      expect(await host.getByTestId('host-status').textContent()).toBe('Connected.');
      expect(await host.getByTestId('open-widget').isHidden()).toBe(true);
      expect(await host.getByText('The connection opens in a new window.').isHidden()).toBe(true);
      await page.close();
    });
  });
});
