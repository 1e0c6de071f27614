import { mkdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { browserSkipReason, launchBrowser } from '../helpers/browser.js';
import { startSdkStack, type SdkStack } from '../sdk/sdk-stack.js';

const skip = browserSkipReason();
const SCREENSHOTS = new URL('../../test-results/', import.meta.url);

describe.skipIf(skip)('browser: the sandbox demo page, same origin as the BFF', () => {
  let browser: Browser;
  let context: BrowserContext;
  let stack: SdkStack;
  let page: Page;
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    // As in sandbox mode: the dev login on, and the BFF's own origin the one allowed frontend.
    stack = await startSdkStack({ allowedOrigins: (bff) => [bff], env: { DEV_LOGIN: 'true', UCW_DATA_ENDPOINTS: 'true' } });
    browser = await launchBrowser();
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    page.on('console', (message) => {
      if (message.type() === 'error' || /Content Security Policy/i.test(message.text())) consoleErrors.push(message.text());
    });
    page.on('pageerror', (error) => consoleErrors.push(error.message));
    mkdirSync(SCREENSHOTS, { recursive: true });
  });
  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await stack?.close();
  });

  const rows = () => page.getByTestId('connections').locator('tr');
  const modalWidget = () => page.frameLocator('iframe[data-ucw-connect="frame"]').frameLocator('#widget');
  const flowTitle = () => page.locator('#flow-title').textContent();

  it.sequential('loads without a console error, signed out, and signs in with the dev login', async () => {
    await page.goto(`${stack.bffUrl}/demo`);
    await page.getByTestId('login').waitFor();
    expect(consoleErrors).toEqual([]);
    await page.getByTestId('user-id').fill('demo-browser-user');
    await page.getByTestId('login').click();
    await expect.poll(() => page.getByTestId('current-user').textContent()).toBe('demo-browser-user');
    expect(await page.getByTestId('connect').isVisible()).toBe(true);
    expect(await page.getByTestId('login').isVisible()).toBe(false);
  });

  it.sequential('connects in the modal: a confirmation stays, the row explains itself, then verified and data ready', async () => {
    await page.getByTestId('connect').click();
    await expect.poll(flowTitle).toBe('Connecting…');
    await modalWidget().getByTestId('institution-sandbox-bank').click();
    await modalWidget().getByTestId('connect-button').click();

    await expect.poll(flowTitle).toMatch(/^Connected/);
    await expect.poll(() => rows().count()).toBe(1);
    await expect.poll(() => rows().first().locator('[data-status]').getAttribute('data-status')).toBe('connected');
    // The test app runs no background loops: run the verification job as main.ts's runner would.
    await expect
      .poll(async () => {
        await stack.app.deps.jobs.runOnce();
        return flowTitle();
      }, { timeout: 15_000 })
      .toBe('Connected, verified, data ready');
    expect(await rows().first().locator('.check[data-on="true"]').count()).toBe(2);
    const log = await page.getByTestId('event-log').textContent();
    expect(log).toContain('Widget: connected (sandbox-bank)');
    expect(log).not.toMatch(/member_guid|aggregatorUserId|user_guid/);
    expect(await page.locator('[data-ucw-connect]').count()).toBe(0);
    await page.screenshot({ path: new URL('demo-1280.png', SCREENSHOTS).pathname, fullPage: true });
  });

  it.sequential('at 390 px wide nothing overflows, and the modal fits the screen', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await page.screenshot({ path: new URL('demo-390.png', SCREENSHOTS).pathname, fullPage: true });
    await page.getByTestId('connect').click();
    const dialog = page.locator('[data-ucw-connect="overlay"] [role="dialog"]');
    await dialog.waitFor();
    await modalWidget().getByTestId('institution-sandbox-bank').waitFor();
    const box = (await dialog.boundingBox())!;
    expect(box.x >= 0 && box.y >= 0 && box.x + box.width <= 390 && box.y + box.height <= 844).toBe(true);
    await page.screenshot({ path: new URL('demo-390-modal.png', SCREENSHOTS).pathname });
    await page.keyboard.press('Escape');
    await expect.poll(() => page.locator('[data-ucw-connect]').count()).toBe(0);
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  it.sequential('a refused attempt keeps the widget open with a hint; closing it shows cancelled and an explained row', async () => {
    await page.getByTestId('connect').click();
    await modalWidget().getByTestId('institution-failure-bank').click();
    await modalWidget().getByTestId('connect-button').click();
    // connect/memberError is not an end: the page says what to do, and the widget stays open.
    await expect.poll(flowTitle).toBe('The bank refused these details');
    expect(await page.getByTestId('flow-status').getAttribute('data-state')).toBe('attention');
    expect(await page.locator('#flow-detail').textContent()).toContain('Correct them in the widget and try again, or close the widget to cancel');
    expect(await page.locator('[data-ucw-connect="overlay"]').count()).toBe(1);
    await expect.poll(() => page.locator('.badge[data-status="needs_attention"]').count()).toBe(1);
    await page.screenshot({ path: new URL('demo-1280-refused.png', SCREENSHOTS).pathname });

    const created = await page.getByTestId('event-log').locator('li', { hasText: 'Connect session created' }).first().locator('pre').textContent();
    const sessionId = (JSON.parse(created!) as { sessionId: string }).sessionId;
    await page.locator('[data-ucw-connect="close"]').click();
    await expect.poll(flowTitle).toBe('Not connected: cancelled');
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
  });

  it.sequential('popup mode: the page says to continue in the other window while it is open', async () => {
    await page.getByTestId('presentation-popup').check();
    const [popup] = await Promise.all([context.waitForEvent('page'), page.getByTestId('connect').click()]);
    await expect.poll(flowTitle).toBe('Continue in the connection window');
    await popup.close();
    await expect.poll(() => page.locator('#flow-status').isHidden()).toBe(true);
    await page.getByTestId('presentation-modal').check();
  });

  it.sequential('refreshes the connection: a refresh-mode session for the same connection', async () => {
    const connected = page.locator('tr:has(.badge[data-status="connected"])');
    const connectionId = (await connected.getAttribute('data-connection-id'))!;
    await page.getByTestId(`refresh-${connectionId}`).click();
    await page.locator('[data-ucw-connect="overlay"]').waitFor();
    await expect.poll(() => page.getByTestId('event-log').textContent()).toContain('Refresh session created');
    await modalWidget().getByTestId('connect-button').click();
    await expect.poll(() => page.locator('[data-ucw-connect]').count()).toBe(0);
    expect(await page.locator(`tr[data-connection-id="${connectionId}"] .badge`).getAttribute('data-status')).toBe('connected');
  });

  it.sequential('deletes a connection after a second, confirming click', async () => {
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
