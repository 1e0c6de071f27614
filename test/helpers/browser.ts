import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type BrowserContext, type Frame, type FrameLocator, type Page } from 'playwright-core';
import { describe, test } from 'vitest';
import type { Dialect } from '../../src/db/database.js';
import { testDialects } from './databases.js';
import { buildTestApp, type TestApp } from './test-app.js';
import { userToken } from './jwt.js';

/** The one Chromium path setting every browser suite honours (docs/development.md). */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

/**
 * Why the browser suites cannot run here, or undefined when they can. Printed once; with
 * REQUIRE_BROWSER_TESTS set (CI) a missing Chromium is an error instead of a skip.
 */
function browserSkipReason(): string | undefined {
  if (existsSync(CHROMIUM_PATH)) return undefined;
  if (process.env.REQUIRE_BROWSER_TESTS) throw new Error(`Chromium not found at ${CHROMIUM_PATH}, and REQUIRE_BROWSER_TESTS is set`);
  const reason = `Chromium not found at ${CHROMIUM_PATH}: browser tests skipped (install it, e.g. apt-get install chromium)`;
  console.warn(reason);
  return reason;
}

/**
 * Debian's Chromium, headless, fresh profile per launch. Playwright adds `--disable-popup-blocking`
 * by default; it is dropped so a `window.open` outside a user gesture fails here as it would for a person.
 */
function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    ignoreDefaultArgs: ['--disable-popup-blocking'],
  });
}

/** `describe` for a browser suite: skipped (with the reason printed) when Chromium is missing. */
export const describeBrowser = describe.skipIf(browserSkipReason());

/**
 * The shared browser fixture: one Chromium per worker, launched on first use, and a fresh
 * context (cookies, storage, routes) per test, so no test sees another's state.
 */
export const browserTest = test
  // Vitest reads a fixture's dependencies from its destructured first parameter; this one has none.
  // eslint-disable-next-line no-empty-pattern
  .extend('browser', { scope: 'worker' }, async ({}, { onCleanup }) => {
    const browser = await launchBrowser();
    onCleanup(() => browser.close());
    return browser;
  })
  .extend('context', async ({ browser }, { onCleanup }): Promise<BrowserContext> => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    onCleanup(() => context.close());
    return context;
  });

/**
 * Browser flows are the slowest tests, so rather than run each twice, every browser suite splits
 * its stacks across the databases: UCW v1 stacks on SQLite, v2 ones on the last of testDialects
 * (PostgreSQL whenever it is set up). Each suite thus drives both databases through a real browser.
 */
export function browserDialect(version: 1 | 2): Dialect {
  return version === 1 ? 'sqlite' : testDialects.at(-1)!;
}

/** A user id no other test uses, so a test's assertions about "this user's rows" are its own. */
export function newUserId(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

/**
 * A page any test origin serves (the "frontend", the "attacker"). It records every message it
 * receives in `window.received`, and offers helpers the tests call through `page.evaluate`.
 * `#open` opens `window.pendingUrl` in a popup: clicked by the test, so it has a user gesture.
 * (`page.evaluate` runs with a user gesture in Playwright, so it cannot show popup blocking;
 * `?autoopen` tries a popup at load, where there is none.)
 */
const TEST_PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>test page</title></head>
<body>
<button id="open" type="button">open</button>
<div id="frames"></div>
<script>
  window.received = [];
  window.addEventListener('message', function (event) {
    window.received.push({ origin: event.origin, data: event.data });
  });
  window.embed = function (url, id) {
    id = id || 'host';
    var old = document.getElementById(id);
    if (old) old.remove();
    var frame = document.createElement('iframe');
    frame.id = id;
    frame.src = url;
    frame.width = 640;
    frame.height = 820;
    document.getElementById('frames').appendChild(frame);
    return new Promise(function (resolve) { frame.addEventListener('load', function () { resolve(); }, { once: true }); });
  };
  window.connect = async function (bffUrl, token, body) {
    var response = await fetch(bffUrl + '/connect-url', {
      method: 'POST',
      headers: { Authorization: 'Bearer ' + token, 'Content-Type': 'application/json' },
      body: JSON.stringify(body)
    });
    var json = await response.json();
    if (!response.ok) throw new Error('connect-url ' + response.status + ' ' + JSON.stringify(json));
    await window.embed(json.url);
    return json;
  };
  // Without a user gesture (page load): tells whether this browser blocks popups.
  if (location.search.indexOf('autoopen') >= 0) {
    window.autoOpened = window.open('about:blank', 'auto', 'popup,width=300,height=300') ? 'opened' : 'blocked';
  }
  document.getElementById('open').addEventListener('click', function () {
    window.opened = window.open(window.pendingUrl, 'opened', 'popup,width=640,height=820');
  });
</script>
</body></html>`;

export interface PageServer {
  origin: string;
  /** Paths requested so far, in order. */
  requests: string[];
  close(): Promise<void>;
}

/** Listens on loopback; `hostname` is only how browsers are told to reach it (e.g. `localhost`, another site). */
async function listen(server: Server, hostname = '127.0.0.1'): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://${hostname}:${(server.address() as AddressInfo).port}`;
}

async function close(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** A tiny origin serving the test page at every path. */
export async function startPageServer(hostname?: string): Promise<PageServer> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(req.url ?? '/');
    res.setHeader('Content-Type', 'text/html; charset=utf-8');
    res.setHeader('Cache-Control', 'no-store');
    res.end(TEST_PAGE);
  });
  const origin = await listen(server, hostname);
  return { origin, requests, close: () => close(server) };
}

export interface BrowserStack {
  /** The BFF on a real port; PUBLIC_URL is exactly this. */
  bffUrl: string;
  app: TestApp;
  /** The platform frontend (in ALLOWED_ORIGINS). */
  frontend: PageServer;
  /** Another platform app, also in ALLOWED_ORIGINS, that did not start the sessions under test. */
  otherApp: PageServer;
  /** Another origin, never allowed. */
  stranger: PageServer;
  /** Bearer for a platform user, as the frontend would hold it. */
  token(userId: string): Promise<string>;
  /** A user-authenticated call to the BFF. */
  api(userId: string, path: string, init?: RequestInit): Promise<{ status: number; body: any }>;
  close(): Promise<void>;
}

/**
 * Origins on loopback: the BFF (PUBLIC_URL = its real address), the sandbox UCW (auth on,
 * always `127.0.0.1`), the frontend and another app (both allowed), and a stranger. By default
 * ports differ and hosts do not, so all are same-site: the UCW widget cookie (SameSite=Strict)
 * survives framing, as in a same-site deployment, and `presentation: "auto"` picks the iframe.
 * `siteHost: 'localhost'` puts the BFF and the page origins on another site than the UCW.
 */
export async function startBrowserStack(options: {
  version: 1 | 2;
  /** Defaults to browserDialect(version). */
  dialect?: Dialect;
  siteHost?: string;
  /** A path on the frontend origin to allow as a redirect URI (ALLOWED_REDIRECT_URIS). */
  redirectPath?: string;
  env?: Record<string, string>;
}): Promise<BrowserStack> {
  const frontend = await startPageServer(options.siteHost);
  const otherApp = await startPageServer(options.siteHost);
  const stranger = await startPageServer(options.siteHost);
  const server = createServer();
  const bffUrl = await listen(server, options.siteHost);
  const app = await buildTestApp({
    dialect: options.dialect ?? browserDialect(options.version),
    sandbox: { version: options.version },
    env: {
      PUBLIC_URL: bffUrl,
      ALLOWED_ORIGINS: `${frontend.origin},${otherApp.origin}`,
      ...(options.redirectPath ? { ALLOWED_REDIRECT_URIS: `${frontend.origin}${options.redirectPath}` } : {}),
      ...options.env,
    },
  });
  server.on('request', app.app);

  return {
    bffUrl,
    app,
    frontend,
    otherApp,
    stranger,
    token: (userId) => userToken(userId),
    api: async (userId, path, init = {}) => {
      const response = await fetch(`${bffUrl}${path}`, {
        ...init,
        headers: { Authorization: `Bearer ${await userToken(userId)}`, 'Content-Type': 'application/json', ...init.headers },
      });
      const text = await response.text();
      return { status: response.status, body: text ? JSON.parse(text) : undefined };
    },
    close: async () => {
      await close(server);
      await app.close();
      await frontend.close();
      await otherApp.close();
      await stranger.close();
    },
  };
}

/** The host page frame inside the frontend page, and the widget frame inside it. */
export function hostFrames(page: Page): { host: FrameLocator; widget: FrameLocator } {
  const host = page.frameLocator('#host');
  return { host, widget: host.frameLocator('#widget') };
}

/** The host page's Frame (for evaluate) once it has loaded inside `page`. */
export async function hostFrame(page: Page, bffUrl: string): Promise<Frame> {
  await page.frameLocator('#host').getByTestId('host-status').waitFor({ state: 'attached' });
  const frame = page.frames().find((f) => f.url().startsWith(`${bffUrl}/connect/`));
  if (!frame) throw new Error('the host page frame is not there');
  return frame;
}

/** Event types the BFF recorded for a session, in order. */
export async function recordedEventTypes(stack: BrowserStack, sessionId: string): Promise<string[]> {
  const rows = await stack.app.database.db
    .selectFrom('connection_events')
    .select(['type'])
    .where('session_id', '=', sessionId)
    .orderBy('seq')
    .execute();
  return rows.map((row) => row.type);
}

/** Clicks through the simulated widget: an institution (unless preselected), then Connect. */
export async function connectInWidget(widget: FrameLocator | Page | Frame, institution: string | undefined, outcome: 'connected' | 'failed'): Promise<void> {
  if (institution) await widget.getByTestId(`institution-${institution}`).click();
  await widget.getByTestId('connect-button').click();
  const shown = widget.locator(`[data-testid="widget-status"][data-state="${outcome}"]`).waitFor();
  // A popup widget may be closed by the host page as soon as the connection is recorded.
  if ('isClosed' in widget && outcome === 'connected') {
    await Promise.race([shown.catch((error: unknown) => (widget.isClosed() ? undefined : Promise.reject(error))), widget.waitForEvent('close')]);
    return;
  }
  await shown;
}

/** Types a password into the simulated widget (the default one connects; "wrong" is refused once). */
export async function enterPassword(widget: FrameLocator | Page | Frame, password: string): Promise<void> {
  await widget.getByTestId('password-input').fill(password);
}

/** What the frontend page received, with the page's own helpers typed for evaluate. */
export interface Received {
  origin: string;
  data: { type?: string; metadata?: Record<string, unknown> } & Record<string, unknown>;
}

export function received(page: Page): Promise<Received[]> {
  return page.evaluate(() => (window as unknown as { received: Received[] }).received);
}

/** Waits until the page received a message of that type; returns it. */
export async function waitForMessage(page: Page, type: string, timeout = 10_000): Promise<Received> {
  const handle = await page.waitForFunction(
    (wanted) => (window as unknown as { received: Received[] }).received.find((m) => m.data && m.data.type === wanted),
    type,
    { timeout },
  );
  return (await handle.jsonValue()) as Received;
}
