import { afterAll, beforeAll, expect } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { browserTest, describeBrowser, newUserId } from '../helpers/browser.js';
import { userToken } from '../helpers/jwt.js';
import { startFrontend, startSdkStack, type FrontendServer, type SdkStack } from './sdk-stack.js';

interface PageState {
  done: Record<string, unknown> | null;
  events: { type: string; metadata: Record<string, unknown> }[];
  exits: { error: Record<string, unknown> | null; metadata: Record<string, unknown> }[];
  loads: Record<string, unknown>[];
}
const state = (page: Page) =>
  page.evaluate(() => {
    const w = window as unknown as PageState;
    return { done: w.done, events: w.events, exits: w.exits, loads: w.loads };
  });

describeBrowser('browser: /connect.js on a third-party frontend, real BFF, sandbox UCW v2 (auth on)', () => {
  let stack: SdkStack;
  let frontend: FrontendServer;
  let bffUrl = '';

  beforeAll(async () => {
    frontend = await startFrontend(() => bffUrl);
    stack = await startSdkStack({ allowedOrigins: () => [frontend.origin] });
    bffUrl = stack.bffUrl;
  });
  afterAll(async () => {
    await stack?.close();
    await frontend?.close();
  });

  async function frontendPage(context: BrowserContext, options: { user?: string; presentation?: 'modal' | 'popup'; institutionId?: string }): Promise<Page> {
    const page = await context.newPage();
    await page.goto(`${frontend.origin}/app`);
    const token = options.user ? await userToken(options.user) : undefined;
    await page.evaluate((o) => (window as unknown as { setup(o: unknown): void }).setup(o), {
      bffUrl,
      token,
      presentation: options.presentation,
      institutionId: options.institutionId,
    });
    return page;
  }

  const modalWidget = (page: Page) => page.frameLocator('iframe[data-ucw-connect="frame"]').frameLocator('#widget');

  browserTest('modal: the host page opens over the frontend and onSuccess gets the BFF connection id, no aggregator ids', async ({ context }) => {
    const user = newUserId('sdk-modal');
    const page = await frontendPage(context, { user });
    await page.click('#connect');
    await page.locator('[data-ucw-connect="overlay"] [role="dialog"]').waitFor();
    await expect.poll(async () => (await state(page)).loads.length).toBe(1);
    const { loads } = await state(page);
    const sessionId = loads[0]!['sessionId'] as string;

    // A message from the wrong window and origin, even with the right session id, is ignored.
    await page.evaluate((id) => window.postMessage({ type: 'connect/memberConnected', metadata: { sessionId: id, connectionId: 'conn_forged' } }, '*'), sessionId);

    const widget = modalWidget(page);
    await widget.getByTestId('institution-sandbox-bank').click();
    await widget.getByTestId('connect-button').click();
    await page.waitForFunction(() => (window as unknown as PageState).done !== null);

    const after = await state(page);
    expect(after.done).toEqual({ sessionId, connectionId: expect.stringMatching(/^conn_/), aggregator: 'sophtron', institutionId: 'sandbox-bank', status: 'connected' });
    expect(after.exits).toEqual([]);
    expect(after.loads).toEqual([{ sessionId, mode: 'new', expiresAt: expect.any(String), existingConnectionId: null }]);
    expect(after.events.map((e) => e.type)).toContain('connect/memberConnected');
    expect(after.events.every((e) => e.metadata['sessionId'] === sessionId)).toBe(true);
    expect(JSON.stringify(after)).not.toMatch(/conn_forged|member_guid|user_guid|aggregatorUserId|MBR-|USR-/);
    // The modal is gone once the connection succeeded, and the BFF recorded it.
    await expect.poll(() => page.locator('[data-ucw-connect]').count()).toBe(0);
    const list = await fetch(`${bffUrl}/connections`, { headers: { Authorization: `Bearer ${await userToken(user)}` } }).then((r) => r.json());
    expect(list.connections).toEqual([expect.objectContaining({ id: after.done!['connectionId'], status: 'connected' })]);
    await page.close();
  });

  const sessionStatus = async (user: string, sessionId: string) =>
    (await fetch(`${bffUrl}/connect-sessions/${sessionId}`, { headers: { Authorization: `Bearer ${await userToken(user)}` } }).then((r) => r.json())).status;

  browserTest('modal: the close button ends the session with onExit(null, metadata), and the BFF records it cancelled', async ({ context }) => {
    const user = newUserId('sdk-close');
    const page = await frontendPage(context, { user });
    await page.click('#connect');
    await expect.poll(async () => (await state(page)).loads.length).toBe(1);
    await modalWidget(page).getByTestId('institution-sandbox-bank').waitFor();
    await page.locator('[data-ucw-connect="close"]').click();

    const after = await state(page);
    const sessionId = after.loads[0]!['sessionId'] as string;
    expect(after.exits).toEqual([{ error: null, metadata: expect.objectContaining({ sessionId }) }]);
    expect(after.done).toBeNull();
    expect(await page.locator('[data-ucw-connect]').count()).toBe(0);
    await expect.poll(() => sessionStatus(user, sessionId)).toBe('cancelled');
    await page.close();
  });

  browserTest('modal: a widget error reaches onEvent only; the modal stays, and the corrected retry reaches onSuccess', async ({ context }) => {
    const page = await frontendPage(context, { user: newUserId('sdk-error') });
    await page.click('#connect');
    const widget = modalWidget(page);
    await widget.getByTestId('institution-mx-bank').click();
    await widget.getByTestId('password-input').fill('wrong');
    await widget.getByTestId('connect-button').click();
    await page.waitForFunction(() => (window as unknown as PageState).events.some((e) => e.type === 'connect/memberError'));

    const between = await state(page);
    const sessionId = between.loads[0]!['sessionId'];
    expect(between.events.find((e) => e.type === 'connect/memberError')!.metadata).toEqual({
      sessionId,
      connectionId: expect.stringMatching(/^conn_/),
      aggregator: 'mx',
      institutionId: 'mx-bank',
      status: 'opened',
      error: { statusCode: 2 },
    });
    expect(between.exits).toEqual([]);
    expect(await page.locator('[data-ucw-connect="overlay"]').count()).toBe(1);

    await widget.getByTestId('connect-button').click();
    await page.waitForFunction(() => (window as unknown as PageState).done !== null);
    const after = await state(page);
    expect(after.done).toEqual({ sessionId, connectionId: expect.stringMatching(/^conn_/), aggregator: 'mx', institutionId: 'mx-bank', status: 'connected' });
    expect(after.exits).toEqual([]);
    await expect.poll(() => page.locator('[data-ucw-connect]').count()).toBe(0);
    await page.close();
  });

  browserTest("modal: the host page's Cancel reaches onExit(null) with status cancelled", async ({ context }) => {
    const page = await frontendPage(context, { user: newUserId('sdk-host-cancel') });
    await page.click('#connect');
    const host = page.frameLocator('iframe[data-ucw-connect="frame"]');
    await host.frameLocator('#widget').getByTestId('institution-sandbox-bank').waitFor();
    await host.getByTestId('cancel-button').click();
    await page.waitForFunction(() => (window as unknown as PageState).exits.length > 0);
    const after = await state(page);
    expect(after.exits).toEqual([{ error: null, metadata: expect.objectContaining({ sessionId: after.loads[0]!['sessionId'], status: 'cancelled' }) }]);
    expect(after.events.map((e) => e.type)).toContain('connect/cancelled');
    await expect.poll(() => page.locator('[data-ucw-connect]').count()).toBe(0);
    await page.close();
  });

  browserTest('an unauthenticated /connect-url ends in onExit with the status and the problem document', async ({ context }) => {
    const page = await frontendPage(context, {});
    await page.click('#connect');
    await page.waitForFunction(() => (window as unknown as PageState).exits.length > 0);

    const after = await state(page);
    expect(after.exits).toEqual([
      {
        error: { type: 'request_failed', status: 401, problem: expect.objectContaining({ status: 401, code: expect.any(String) }), message: expect.stringContaining('401') },
        metadata: { sessionId: null, connectionId: null, aggregator: null, institutionId: null, status: null },
      },
    ]);
    expect(await page.locator('[data-ucw-connect]').count()).toBe(0);
    await page.close();
  });

  browserTest('popup (popup blocking on): the window opens inside the click, survives the fetch, and onSuccess closes it', async ({ context }) => {
    const page = await frontendPage(context, { user: newUserId('sdk-popup'), presentation: 'popup' });
    const [popup] = await Promise.all([context.waitForEvent('page'), page.click('#connect')]);
    await popup.waitForURL((url) => url.pathname.startsWith('/connect/'));
    // Same-site UCW: the host page (top level in the popup) frames the widget itself.
    const widget = popup.frameLocator('#widget');
    await widget.getByTestId('institution-sandbox-bank').click();
    await widget.getByTestId('connect-button').click();
    await page.waitForFunction(() => (window as unknown as PageState).done !== null);

    const after = await state(page);
    expect(after.done).toEqual({
      sessionId: after.loads[0]!['sessionId'],
      connectionId: expect.stringMatching(/^conn_/),
      aggregator: 'sophtron',
      institutionId: 'sandbox-bank',
      status: 'connected',
    });
    expect(after.exits).toEqual([]);
    await expect.poll(() => popup.isClosed()).toBe(true);
    await page.close();
  });

  browserTest('popup: closing the window is noticed and reported as onExit(null)', async ({ context }) => {
    const page = await frontendPage(context, { user: newUserId('sdk-popup-close'), presentation: 'popup' });
    const [popup] = await Promise.all([context.waitForEvent('page'), page.click('#connect')]);
    await popup.waitForURL((url) => url.pathname.startsWith('/connect/'));
    await popup.close();
    await page.waitForFunction(() => (window as unknown as PageState).exits.length > 0);

    const after = await state(page);
    expect(after.exits).toEqual([{ error: null, metadata: expect.objectContaining({ sessionId: after.loads[0]!['sessionId'] }) }]);
    expect(after.done).toBeNull();
    await page.close();
  });

  browserTest('popup: open() without a user gesture is blocked and reported, not silently lost', async ({ context }) => {
    const page = await context.newPage();
    await page.goto(`${frontend.origin}/app?autoopen`);
    await page.waitForFunction(() => (window as unknown as PageState).exits.length > 0);

    const after = await state(page);
    expect(after.exits).toEqual([{ error: expect.objectContaining({ type: 'popup_blocked', status: 0, problem: null }), metadata: expect.objectContaining({ sessionId: null }) }]);
    expect(after.loads).toEqual([]);
    await page.close();
  });
});
