import { randomBytes } from 'node:crypto';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { startSandboxUcw, type SandboxUcw } from './sandbox-ucw.js';

/**
 * Sandbox mode (SPEC §12): with no UCW_URL outside production, start the simulator on its own
 * loopback port with authentication on (a random bearer shared only in this process), and
 * point the BFF at it. The simulator is addressed by PUBLIC_URL's host name, so the widget is
 * same-site with the host page and its SameSite=Strict cookie works in an iframe (v2 widget
 * URLs take their host from the request's Host header, so calling it by that name is enough).
 */
export async function startSandboxMode(config: Config, logger: Logger): Promise<{ config: Config; sandbox: SandboxUcw }> {
  if (config.env === 'production' || !config.sandbox.enabled) throw new Error('sandbox mode is only for development');
  const bearer = randomBytes(24).toString('base64url');
  const publicHost = new URL(config.publicUrl).hostname;
  const sandbox = await startSandboxUcw({
    version: config.sandbox.version,
    isValidBearer: (token) => token === bearer,
    // Each origin once: outside production ALLOWED_ORIGINS already holds the BFF's own origin.
    frameAncestors: [...new Set([new URL(config.publicUrl).origin, ...config.allowedOrigins])],
    port: config.sandbox.port,
    // 127.0.0.1 by default; 0.0.0.0 (SANDBOX_UCW_HOST) lets a browser outside a container reach it.
    host: config.sandbox.host,
  });
  const port = new URL(sandbox.url).port;
  const ucwUrl = `http://${publicHost}:${port}`;
  logger.warn(
    { ucwUrl, version: config.sandbox.version },
    'SANDBOX MODE: no UCW_URL set, using the built-in UCW simulator with fake institutions and data. Never for production.',
  );
  const sandboxConfig: Config = Object.freeze({
    ...config,
    ucw: Object.freeze({
      ...config.ucw,
      url: ucwUrl,
      apiVersion: String(config.sandbox.version) as '1' | '2',
      auth: Object.freeze({ mode: 'static' as const, bearerToken: bearer }),
      deleteEnabled: true,
      dataEndpoints: true,
    }),
  });
  return { config: sandboxConfig, sandbox };
}
