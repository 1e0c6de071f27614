import { afterAll, beforeAll, expect } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { startExampleFrontend } from '../../examples/plain-frontend/server.js';
import { browserTest, describeBrowser } from '../helpers/browser.js';
import { userToken } from '../helpers/jwt.js';
import { startSdkStack, type SdkStack } from '../sdk/sdk-stack.js';

describeBrowser('browser: examples/plain-frontend on its own origin, against the sandbox', () => {
  let stack: SdkStack;
  let bffUrl = '';
  let allowed: Awaited<ReturnType<typeof startExampleFrontend>>;
  let refused: Awaited<ReturnType<typeof startExampleFrontend>>;

  beforeAll(async () => {
    allowed = await startExampleFrontend({ bffUrl: () => bffUrl });
    // Same page, an origin the BFF was not told about (localhost vs 127.0.0.1).
    refused = await startExampleFrontend({ bffUrl: () => bffUrl, hostname: 'localhost' });
    stack = await startSdkStack({ allowedOrigins: () => [allowed.origin], env: { DEV_LOGIN: 'true' } });
    bffUrl = stack.bffUrl;
  });
  afterAll(async () => {
    await stack?.close();
    await allowed?.close();
    await refused?.close();
  });

  /** The example page in this test's context, with its own console errors collected. */
  const open = async (context: BrowserContext, origin: string): Promise<{ page: Page; consoleErrors: string[] }> => {
    const page = await context.newPage();
    const consoleErrors: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text());
    });
    await page.goto(`${origin}/`);
    return { page, consoleErrors };
  };

  browserTest('when the user signs in and connects Sandbox Bank, then the page reports the connection and lists it', async ({ context }) => {
    const { page, consoleErrors } = await open(context, allowed.origin);
    await page.click('#sign-in');
    await expect.poll(() => page.textContent('#status')).toBe('Signed in as alice.');
    await page.click('#connect');
    const widget = page.frameLocator('iframe[data-ucw-connect="frame"]').frameLocator('#widget');
    await widget.getByTestId('institution-sandbox-bank').click();
    await widget.getByTestId('connect-button').click();
    await expect.poll(() => page.textContent('#status')).toMatch(/^Connected \(conn_[\w-]+\)\.$/);
    await expect.poll(() => page.locator('#connections li').allTextContents()).toEqual(['sandbox-bank: connected']);
    expect(consoleErrors).toEqual([]);
    await page.close();
  });

  browserTest('when the page’s origin is not in ALLOWED_ORIGINS, then onExit says so and the BFF logs the origin it refused', async ({ context }) => {
    const { page } = await open(context, refused.origin);
    const token = await userToken('refused-user');
    await page.evaluate((value) => (window as unknown as { exampleFrontend: { setToken(t: string): void } }).exampleFrontend.setToken(value), token);
    await page.click('#connect');
    await expect.poll(() => page.textContent('#status')).toContain(`this page's origin (${refused.origin}) may not be in its ALLOWED_ORIGINS`);
    const warnings = stack.app.logs
      .lines()
      .map((line) => JSON.parse(line) as { msg: string; origin?: string })
      .filter((line) => line.msg.startsWith('cross-origin request from an origin not in ALLOWED_ORIGINS'));
    expect(warnings.map((line) => line.origin)).toEqual([refused.origin]);
    await page.close();
  });
});
