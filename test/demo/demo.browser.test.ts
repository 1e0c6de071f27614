import { mkdirSync } from 'node:fs';
import { afterAll, beforeAll, expect } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { browserTest, describeBrowser, newUserId } from '../helpers/browser.js';
import { startSdkStack, type SdkStack } from '../sdk/sdk-stack.js';

const SCREENSHOTS = new URL('../../test-results/', import.meta.url);

describeBrowser('browser: the sandbox demo page, same origin as the BFF', () => {
  let stack: SdkStack;

  beforeAll(async () => {
    // As in sandbox mode: SQLite, the dev login on, and the BFF's own origin the one allowed frontend.
    stack = await startSdkStack({ dialect: 'sqlite', allowedOrigins: (bff) => [bff], env: { DEV_LOGIN: 'true', UCW_DATA_ENDPOINTS: 'true' } });
    mkdirSync(SCREENSHOTS, { recursive: true });
  });
  afterAll(async () => {
    await stack?.close();
  });

  /** The demo page in this test's context, with its console errors (and CSP reports) collected. */
  async function openDemo(context: BrowserContext): Promise<{ page: Page; consoleErrors: string[] }> {
    const page = await context.newPage();
    const consoleErrors: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error' || /Content Security Policy/i.test(message.text())) consoleErrors.push(message.text());
    });
    page.on('pageerror', (error) => consoleErrors.push(error.message));
    await page.goto(`${stack.bffUrl}/demo`);
    await page.getByTestId('login').waitFor();
    return { page, consoleErrors };
  }

  /** Signs a new user in with the dev login, so each test starts from its own empty list. */
  async function signIn(page: Page, user = newUserId('demo-browser')): Promise<string> {
    await page.getByTestId('user-id').fill(user);
    await page.getByTestId('login').click();
    await expect.poll(() => page.getByTestId('current-user').textContent()).toBe(user);
    return user;
  }

  const rows = (page: Page) => page.getByTestId('connections').locator('tr');
  const modalWidget = (page: Page) => page.frameLocator('iframe[data-ucw-connect="frame"]').frameLocator('#widget');
  const flowTitle = (page: Page) => () => page.locator('#flow-title').textContent();

  /** Connects Sandbox Bank through the modal; resolves once the row shows it connected. */
  async function connectSandboxBank(page: Page): Promise<void> {
    await page.getByTestId('connect').click();
    await modalWidget(page).getByTestId('institution-sandbox-bank').click();
    await modalWidget(page).getByTestId('connect-button').click();
    await expect.poll(() => page.locator('tr:has(.badge[data-status="connected"])').count()).toBe(1);
    await expect.poll(() => page.locator('[data-ucw-connect]').count()).toBe(0);
  }
  browserTest('loads without a console error, signed out, and signs in with the dev login', async ({ context }) => {
    const { page, consoleErrors } = await openDemo(context);
    expect(consoleErrors).toEqual([]);
    await signIn(page);
    expect(await page.getByTestId('connect').isVisible()).toBe(true);
    expect(await page.getByTestId('login').isVisible()).toBe(false);
    expect(consoleErrors).toEqual([]);
  });

  browserTest('connects in the modal: a confirmation stays, the row explains itself, then verified and data ready', async ({ context }) => {
    const { page, consoleErrors } = await openDemo(context);
    await signIn(page);
    await page.getByTestId('connect').click();
    await expect.poll(flowTitle(page)).toBe('Connecting…');
    await modalWidget(page).getByTestId('institution-sandbox-bank').click();
    await modalWidget(page).getByTestId('connect-button').click();

    await expect.poll(flowTitle(page)).toMatch(/^Connected/);
    await expect.poll(() => rows(page).count()).toBe(1);
    await expect.poll(() => rows(page).first().locator('[data-status]').getAttribute('data-status')).toBe('connected');
    // The test app runs no background loops: run the verification job as main.ts's runner would.
    await expect
      .poll(async () => {
        await stack.app.deps.jobs.runOnce();
        return flowTitle(page)();
      }, { timeout: 15_000 })
      .toBe('Connected, verified, data ready');
    expect(await rows(page).first().locator('.check[data-on="true"]').count()).toBe(2);
    const log = await page.getByTestId('event-log').textContent();
    expect(log).toContain('Widget: connected (sandbox-bank)');
    expect(log).not.toMatch(/member_guid|aggregatorUserId|user_guid/);
    expect(await page.locator('[data-ucw-connect]').count()).toBe(0);
    await page.screenshot({ path: new URL('demo-1280.png', SCREENSHOTS).pathname, fullPage: true });
    expect(consoleErrors).toEqual([]);
  });

  browserTest('at 390 px wide nothing overflows, and the modal fits the screen', async ({ context }) => {
    const { page, consoleErrors } = await openDemo(context);
    await signIn(page);
    await page.setViewportSize({ width: 390, height: 844 });
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await page.screenshot({ path: new URL('demo-390.png', SCREENSHOTS).pathname, fullPage: true });
    await page.getByTestId('connect').click();
    const dialog = page.locator('[data-ucw-connect="overlay"] [role="dialog"]');
    await dialog.waitFor();
    await modalWidget(page).getByTestId('institution-sandbox-bank').waitFor();
    const box = (await dialog.boundingBox())!;
    expect(box.x >= 0 && box.y >= 0 && box.x + box.width <= 390 && box.y + box.height <= 844).toBe(true);
    await page.screenshot({ path: new URL('demo-390-modal.png', SCREENSHOTS).pathname });
    await page.keyboard.press('Escape');
    await expect.poll(() => page.locator('[data-ucw-connect]').count()).toBe(0);
    expect(consoleErrors).toEqual([]);
  });

  browserTest('a refused attempt keeps the widget open with a hint; closing it shows cancelled and an explained row', async ({ context }) => {
    const { page, consoleErrors } = await openDemo(context);
    await signIn(page);
    await page.getByTestId('connect').click();
    await modalWidget(page).getByTestId('institution-failure-bank').click();
    await modalWidget(page).getByTestId('connect-button').click();
    // connect/memberError is not an end: the page says what to do, and the widget stays open.
    await expect.poll(flowTitle(page)).toBe('The bank refused these details');
    expect(await page.getByTestId('flow-status').getAttribute('data-state')).toBe('attention');
    expect(await page.locator('#flow-detail').textContent()).toContain('Correct them in the widget and try again, or close the widget to cancel');
    expect(await page.locator('[data-ucw-connect="overlay"]').count()).toBe(1);
    await expect.poll(() => page.locator('.badge[data-status="needs_attention"]').count()).toBe(1);
    await page.screenshot({ path: new URL('demo-1280-refused.png', SCREENSHOTS).pathname });

    const created = await page.getByTestId('event-log').locator('li', { hasText: 'Connect session created' }).first().locator('pre').textContent();
    const sessionId = (JSON.parse(created!) as { sessionId: string }).sessionId;
    await page.locator('[data-ucw-connect="close"]').click();
    await expect.poll(flowTitle(page)).toBe('Not connected: cancelled');
    expect(await page.getByTestId('flow-status').getAttribute('data-state')).toBe('cancelled');
    expect(await page.locator('[data-ucw-connect]').count()).toBe(0);
    await page.screenshot({ path: new URL('demo-1280-cancelled.png', SCREENSHOTS).pathname });
    // What the page says is what the BFF recorded.
    await expect
      .poll(() => page.evaluate((id) => fetch(`connect-sessions/${id}`, { credentials: 'same-origin' }).then((r) => r.json()).then((j: { status: string }) => j.status), sessionId))
      .toBe('cancelled');
    await expect.poll(() => page.locator('.badge[data-status="needs_attention"]').count()).toBe(1);
    expect(await page.locator('tr:has(.badge[data-status="needs_attention"]) .explain').textContent()).toBe(
      'The bank refused the sign-in details (or wants the person to sign in again). Use Refresh to try again.'
    );
    expect(consoleErrors).toEqual([]);
  });

  browserTest('popup mode: the page says to continue in the other window while it is open', async ({ context }) => {
    const { page, consoleErrors } = await openDemo(context);
    await signIn(page);
    await page.getByTestId('presentation-popup').check();
    const [popup] = await Promise.all([context.waitForEvent('page'), page.getByTestId('connect').click()]);
    await expect.poll(flowTitle(page)).toBe('Continue in the connection window');
    await popup.close();
    await expect.poll(() => page.locator('#flow-status').isHidden()).toBe(true);
    expect(consoleErrors).toEqual([]);
  });

  browserTest('refreshes the connection: a refresh-mode session for the same connection', async ({ context }) => {
    const { page, consoleErrors } = await openDemo(context);
    await signIn(page);
    await connectSandboxBank(page);
    const connected = page.locator('tr:has(.badge[data-status="connected"])');
    const connectionId = (await connected.getAttribute('data-connection-id'))!;
    await page.getByTestId(`refresh-${connectionId}`).click();
    await page.locator('[data-ucw-connect="overlay"]').waitFor();
    await expect.poll(() => page.getByTestId('event-log').textContent()).toContain('Refresh session created');
    await modalWidget(page).getByTestId('connect-button').click();
    await expect.poll(() => page.locator('[data-ucw-connect]').count()).toBe(0);
    expect(await page.locator(`tr[data-connection-id="${connectionId}"] .badge`).getAttribute('data-status')).toBe('connected');
    expect(consoleErrors).toEqual([]);
  });

  browserTest('deletes a connection after a second, confirming click', async ({ context }) => {
    const { page, consoleErrors } = await openDemo(context);
    await signIn(page);
    await connectSandboxBank(page);
    const connectionId = (await page.locator('tr:has(.badge[data-status="connected"])').getAttribute('data-connection-id'))!;
    const remove = page.getByTestId(`delete-${connectionId}`);
    await remove.click();
    expect(await remove.textContent()).toBe('Click again to delete');
    expect(await page.locator(`tr[data-connection-id="${connectionId}"]`).count()).toBe(1);
    await remove.click();
    await expect.poll(() => page.locator(`tr[data-connection-id="${connectionId}"]`).count()).toBe(0);
    expect(await page.getByTestId('event-log').textContent()).toContain('Deleted sandbox-bank');
    expect(consoleErrors).toEqual([]);
  });
});
