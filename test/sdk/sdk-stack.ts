import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Dialect } from '../../src/db/database.js';
import { browserDialect } from '../helpers/browser.js';
import { buildTestApp, type TestApp } from '../helpers/test-app.js';

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function close(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/**
 * The real BFF (createApp over real dependencies, sandbox UCW v2 with auth on) on a real port,
 * PUBLIC_URL = that port. Nothing is mounted in front of it: `/connect.js` and `/demo` are
 * whatever app.ts serves, so a test fails if it stops serving them.
 */
export interface SdkStack {
  bffUrl: string;
  app: TestApp;
  close(): Promise<void>;
}

export async function startSdkStack(options: {
  allowedOrigins: (bffUrl: string) => string[];
  env?: Record<string, string>;
  /** Defaults to the v2 stacks' database (PostgreSQL whenever it is set up; see browserDialect). */
  dialect?: Dialect;
}): Promise<SdkStack> {
  const server = createServer();
  const bffUrl = await listen(server);
  const app = await buildTestApp({
    dialect: options.dialect ?? browserDialect(2),
    sandbox: { version: 2 },
    env: { PUBLIC_URL: bffUrl, ALLOWED_ORIGINS: options.allowedOrigins(bffUrl).join(','), ...options.env },
  });
  server.on('request', app.app);
  return {
    bffUrl,
    app,
    close: async () => {
      await close(server);
      await app.close();
    },
  };
}

/** A third origin: a platform frontend page that loads `<bff>/connect.js` like any integrator would. */
export interface FrontendServer {
  origin: string;
  close(): Promise<void>;
}

const frontendPage = (bffUrl: string) => `<!doctype html>
<html><head><meta charset="utf-8"><title>platform frontend</title>
<script src="${bffUrl}/connect.js"></script>
</head>
<body>
<button id="connect" type="button">Connect a bank</button>
<script>
  window.events = [];
  window.exits = [];
  window.loads = [];
  window.done = null;
  // The test configures the handler (token, presentation…) through page.evaluate, then clicks #connect.
  window.setup = function (options) {
    if (window.handler) window.handler.destroy();
    var auth = options.token ? function () { return { Authorization: 'Bearer ' + options.token }; } : undefined;
    window.handler = UcwConnect.create({
      bffUrl: options.bffUrl,
      jobTypes: ['transactions'],
      presentation: options.presentation,
      institutionId: options.institutionId,
      getAuthHeaders: auth,
      onSuccess: function (m) { window.done = m; },
      onExit: function (error, m) { window.exits.push({ error: error, metadata: m }); },
      onEvent: function (type, m) { window.events.push({ type: type, metadata: m }); },
      onLoad: function (session) { window.loads.push(session); }
    });
  };
  document.getElementById('connect').addEventListener('click', function () { window.handler.open(); });
  // At load there is no user gesture: a popup must be refused (and bffUrl defaults to the script's BFF).
  if (location.search.indexOf('autoopen') >= 0) {
    window.setup({ presentation: 'popup' });
    window.handler.open();
  }
</script>
</body></html>`;

export async function startFrontend(bffUrl: () => string): Promise<FrontendServer> {
  const server = createServer((_req, res) => {
    res.setHeader('Content-Type', 'text/html; charset=utf-8');
    res.setHeader('Cache-Control', 'no-store');
    res.end(frontendPage(bffUrl()));
  });
  const origin = await listen(server);
  return { origin, close: () => close(server) };
}
