import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { startSdkStack, type SdkStack } from '../sdk/sdk-stack.js';

const CHROMIUM = '/usr/bin/chromium';

function skipReason(): string | undefined {
  if (existsSync(CHROMIUM)) return undefined;
  const reason = `${CHROMIUM} not found: the demo page browser test is skipped`;
  if (process.env.REQUIRE_BROWSER_TESTS) throw new Error(`${reason}, but REQUIRE_BROWSER_TESTS is set`);
  console.warn(reason);
  return reason;
}
const skip = skipReason();

describe.skipIf(skip)('browser: the sandbox demo page, same origin as the BFF', () => {
  let browser: Browser;
  let context: BrowserContext;
  let stack: SdkStack;
  let page: Page;
  const cspViolations: string[] = [];

  beforeAll(async () => {
    // As in sandbox mode: the dev login on, and the BFF's own origin the one allowed frontend.
    stack = await startSdkStack({ allowedOrigins: (bff) => [bff], env: { DEV_LOGIN: 'true' } });
    if (!stack.mounted.demo) console.warn('demoRoutes is not mounted in src/app.ts yet: the test mounts it in front of the real app');
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      ignoreDefaultArgs: ['--disable-popup-blocking'],
    });
    context = await browser.newContext();
    page = await context.newPage();
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) cspViolations.push(message.text());
    });
  });
  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await stack?.close();
  });

  const rows = () => page.getByTestId('connections').locator('tr');
  const modalWidget = () => page.frameLocator('iframe[data-ucw-connect="frame"]').frameLocator('#widget');

  it.sequential('signs in with the dev login', async () => {
    await page.goto(`${stack.bffUrl}/demo`);
    await page.getByTestId('user-id').fill('demo-browser-user');
    await page.getByTestId('login').click();
    await expect.poll(() => page.getByTestId('current-user').textContent()).toBe('demo-browser-user');
    expect(await page.getByTestId('connect').isVisible()).toBe(true);
  });

  it.sequential('connects an account in the modal: the event log shows the events and the list shows the connection', async () => {
    await page.getByTestId('connect').click();
    await modalWidget().getByTestId('institution-sandbox-bank').click();
    await modalWidget().getByTestId('connect-button').click();

    await expect.poll(() => rows().count()).toBe(1);
    await expect.poll(() => rows().first().locator('[data-status]').getAttribute('data-status')).toBe('connected');
    const log = await page.getByTestId('event-log').textContent();
    expect(log).toContain('connect/memberConnected');
    expect(log).toContain('onSuccess');
    expect(log).not.toMatch(/member_guid|aggregatorUserId|user_guid/);
    expect(await page.locator('[data-ucw-connect]').count()).toBe(0);
  });

  it.sequential('refreshes the connection: a refresh-mode session for the same connection', async () => {
    const connectionId = (await rows().first().getAttribute('data-connection-id'))!;
    await page.getByTestId(`refresh-${connectionId}`).click();
    await page.locator('[data-ucw-connect="overlay"]').waitFor();
    await expect.poll(() => page.getByTestId('event-log').textContent()).toContain('"mode":"refresh"');
    await modalWidget().getByTestId('connect-button').click();
    await expect.poll(() => page.locator('[data-ucw-connect]').count()).toBe(0);
    expect(await rows().count()).toBe(1);
    expect(await rows().first().getAttribute('data-connection-id')).toBe(connectionId);
  });

  it.sequential('deletes the connection (a cookie-authenticated DELETE passes the Origin check)', async () => {
    const connectionId = (await rows().first().getAttribute('data-connection-id'))!;
    await page.getByTestId(`delete-${connectionId}`).click();
    await expect.poll(() => page.getByTestId('event-log').textContent()).toContain('deleted');
    // The log line can land before the list re-renders: wait for the list itself.
    const statuses = () => rows().evaluateAll((trs) => trs.map((tr) => tr.querySelector('[data-status]')?.getAttribute('data-status')));
    await expect.poll(async () => (await statuses()).every((status) => status === 'deleted')).toBe(true);
    expect(cspViolations).toEqual([]);
  });
});
