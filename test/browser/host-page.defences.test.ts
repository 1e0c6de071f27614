import { afterAll, beforeAll, describe, expect } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import {
  browserTest,
  connectInWidget,
  describeBrowser,
  hostFrame,
  hostFrames,
  newUserId,
  received,
  recordedEventTypes,
  startBrowserStack,
  waitForMessage,
  type BrowserStack,
} from '../helpers/browser.js';

/** Forged terminal events of both payload generations, and the seed's own example. */
const FORGED = [
  { type: 'connect/memberConnected', metadata: { aggregator: 'sophtron', member_guid: 'MBR-345' } },
  { type: 'connect/memberConnected', metadata: { aggregator: 'sophtron', connectionId: 'MBR-forged-v2', aggregatorUserId: 'USR-forged', ucpInstitutionId: 'sandbox-bank' } },
];
const FORGED_IDS = ['MBR-345', 'MBR-forged-v2'];

describeBrowser('browser: host page defences', () => {
  describe.each([1, 2] as const)('UCW v%s, auth on', (version) => {
    let stack: BrowserStack;

    beforeAll(async () => {
      stack = await startBrowserStack({ version });
    });
    afterAll(async () => {
      await stack?.close();
    });

    async function pageAt(context: BrowserContext, origin: string): Promise<Page> {
      const page = await context.newPage();
      await page.goto(`${origin}/page`);
      return page;
    }

    /** A fresh user per test, so "no connection" means exactly this test's forgeries failed. */
    async function newSession(body: Record<string, unknown> = {}): Promise<{ sessionId: string; url: string; user: string }> {
      const user = newUserId(`browser-defence-v${version}`);
      const created = await stack.api(user, '/connect-url', {
        method: 'POST',
        body: JSON.stringify({ jobTypes: ['transactions'], targetOrigin: stack.frontend.origin, ...body }),
      });
      expect(created.status).toBe(201);
      return { ...created.body, user };
    }

    /**
     * The positive barrier after forgeries: the genuine widget has connected and its event is
     * recorded (it was posted after the forgeries, so a forgery that got through is recorded by now),
     * and it is the only memberConnected and the only connection the user has.
     */
    async function expectOnlyGenuine(session: { sessionId: string; user: string }): Promise<void> {
      await expect.poll(() => recordedEventTypes(stack, session.sessionId)).toContain('connect/memberConnected');
      expect((await recordedEventTypes(stack, session.sessionId)).filter((type) => type === 'connect/memberConnected')).toHaveLength(1);
      const rows = await stack.app.database.db.selectFrom('connections').select(['aggregator_connection_id']).where('user_id', '=', session.user).execute();
      expect(rows).toHaveLength(1);
      expect(FORGED_IDS).not.toContain(rows[0]!.aggregator_connection_id);
      expect((await stack.api(session.user, '/connections')).body.connections).toEqual([expect.objectContaining({ status: 'connected', institutionId: 'sandbox-bank' })]);
    }

    browserTest('messages posted by another origin (the opener, and the framing frontend) are not recorded; the real widget still is', async ({ context }) => {
      // A stranger opens the host link in a popup and forges events into it.
      const session = await newSession({ presentation: 'iframe' });
      const stranger = await pageAt(context, stack.stranger.origin);
      await stranger.evaluate((url) => ((window as any).pendingUrl = url), session.url);
      const [host] = await Promise.all([context.waitForEvent('page'), stranger.click('#open')]);
      await host.frameLocator('#widget').locator('[data-testid="widget-status"][data-state="search"]').waitFor();
      await stranger.evaluate((forged) => {
        for (const event of forged) (window as any).opened.postMessage(event, '*');
      }, FORGED);
      // And the allowed frontend forges into a host page it frames.
      const frontend = await pageAt(context, stack.frontend.origin);
      const framed = await newSession({ presentation: 'iframe' });
      await frontend.evaluate((url) => (window as any).embed(url), framed.url);
      await hostFrames(frontend).widget.locator('[data-testid="widget-status"][data-state="search"]').waitFor();
      await frontend.evaluate((forged) => {
        const target = (document.getElementById('host') as HTMLIFrameElement).contentWindow!;
        for (const event of forged) target.postMessage(event, '*');
      }, FORGED);

      // Then the genuine widgets connect: once their events are recorded, the forgeries sent
      // before them would have been too.
      await connectInWidget(host.frameLocator('#widget'), 'sandbox-bank', 'connected');
      await connectInWidget(hostFrames(frontend).widget, 'sandbox-bank', 'connected');
      await expectOnlyGenuine(session);
      await expectOnlyGenuine(framed);
      // Its sanitized copy went to the session's target origin only: the stranger that opened it got nothing.
      expect(await received(stranger)).toEqual([]);
      await Promise.all([host.close(), stranger.close(), frontend.close()]);
    });

    browserTest('a message from the UCW origin but not from the widget frame (a second widget) is not recorded', async ({ context }) => {
      const session = await newSession({ presentation: 'iframe' });
      const frontend = await pageAt(context, stack.frontend.origin);
      await frontend.evaluate((url) => (window as any).embed(url), session.url);
      const frame = await hostFrame(frontend, stack.bffUrl);
      // A second, genuine widget on the UCW origin, framed in the host page beside the real one.
      const second = await fetch(`${stack.bffUrl}/connect/${session.sessionId}/widget-url?${new URL(session.url).search.slice(1)}`, { method: 'POST' });
      const { url } = (await second.json()) as { url: string };
      await frame.evaluate((src) => {
        const intruder = document.createElement('iframe');
        intruder.id = 'intruder';
        intruder.src = src;
        // The host page is a full-height flex layout: give the intruder room of its own.
        intruder.style.flex = '0 0 420px';
        document.querySelector('main')!.prepend(intruder);
      }, url);
      const intruder = frontend.frameLocator('#host').frameLocator('#intruder');

      // Another institution than the real widget's, so its connection could not pass for the genuine one.
      await connectInWidget(intruder, 'mx-bank', 'connected');
      // The real widget, from its own frame, connects after the intruder: once its event is
      // recorded and relayed, the intruder's would have been too.
      await connectInWidget(hostFrames(frontend).widget, 'sandbox-bank', 'connected');
      await waitForMessage(frontend, 'connect/memberConnected');
      await expectOnlyGenuine(session);
      expect((await received(frontend)).filter((m) => m.data.type === 'connect/memberConnected')).toHaveLength(1);
      await frontend.close();
    });

    browserTest('the CSP blocks a widget frame of another origin (frame-src), before any request', async ({ context }) => {
      const session = await newSession({ presentation: 'iframe' });
      const frontend = await pageAt(context, stack.frontend.origin);
      await frontend.evaluate((url) => (window as any).embed(url), session.url);
      const frame = await hostFrame(frontend, stack.bffUrl);
      const lookalike = `${stack.stranger.origin}/widget?token=lookalike`;

      const violation = await frame.evaluate(
        (src) =>
          new Promise<{ directive: string; blocked: string }>((resolve) => {
            document.addEventListener('securitypolicyviolation', (event) => resolve({ directive: event.effectiveDirective, blocked: event.blockedURI }), { once: true });
            const other = document.createElement('iframe');
            other.src = src;
            document.body.appendChild(other);
          }),
        lookalike,
      );

      expect(violation).toEqual({ directive: 'frame-src', blocked: expect.stringContaining(stack.stranger.origin) });
      expect(stack.stranger.requests).not.toContain('/widget?token=lookalike');
      await frontend.close();
    });

    browserTest('an origin outside ALLOWED_ORIGINS cannot frame the host page (frame-ancestors)', async ({ context }) => {
      const session = await newSession({ presentation: 'iframe' });
      const stranger = await pageAt(context, stack.stranger.origin);
      await stranger.evaluate((url) => (window as any).embed(url), session.url);

      expect(stranger.frames().map((f) => f.url())).not.toContainEqual(expect.stringContaining(`${stack.bffUrl}/connect/`));
      expect(await stranger.frameLocator('#host').getByTestId('host-status').count()).toBe(0);
      // Nothing inside it ran: no widget was loaded, no event recorded.
      expect(await recordedEventTypes(stack, session.sessionId)).toEqual([]);
      await stranger.close();
    });

    browserTest('an allowed app that is not the session\'s frontend sees a clear message and no widget', async ({ context }) => {
      const session = await newSession({ presentation: 'iframe' });
      const other = await pageAt(context, stack.otherApp.origin);
      await other.evaluate((url) => (window as any).embed(url), session.url);
      const host = other.frameLocator('#host');

      await expect.poll(() => host.getByTestId('host-status').getAttribute('data-state')).toBe('blocked');
      expect(await host.getByTestId('host-notice').textContent()).toContain(stack.otherApp.origin);
      expect(await host.getByTestId('widget-frame').isHidden()).toBe(true);
      expect(await recordedEventTypes(stack, session.sessionId)).toEqual([]);
      await other.close();
    });
  });
});
