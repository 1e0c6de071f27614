import type { Server } from 'node:http';
import { createApp } from './app.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { buildDependencies } from './dependencies.js';
import { createLogger, wantsPrettyLogs } from './logger.js';
import { crossSiteWarning } from './web/same-site.js';
import type { SandboxUcw } from './sandbox/sandbox-ucw.js';

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw error;
  }
  const logger = createLogger({ level: config.logLevel, pretty: wantsPrettyLogs(config.env) });
  let sandbox: SandboxUcw | undefined;
  // Loaded only when used: production never pays for the simulator at start-up.
  if (config.sandbox.enabled) {
    const { startSandboxMode } = await import('./sandbox/sandbox-mode.js');
    ({ config, sandbox } = await startSandboxMode(config, logger));
  }
  const deps = await buildDependencies(config, logger, { defaultMetrics: true });
  const crossSite = crossSiteWarning(config);
  if (crossSite) logger.warn(crossSite);
  if (deps.devLogin) logger.warn('DEV LOGIN ENABLED: POST /dev/login signs in any user id. Never use this in production.');

  const app = createApp(deps);
  const server: Server = app.listen(config.port, config.host, () => {
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    logger.info({ url: config.publicUrl, host: config.host, port }, 'ucw-bff listening');
  });
  // Slow-loris protection without cutting off SSE streams (they send heartbeats well inside these).
  server.headersTimeout = 15_000;
  server.requestTimeout = 30_000;
  server.keepAliveTimeout = 65_000;

  deps.maintenance.start();
  deps.jobs.start();
  deps.outbox?.start();

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: no new connections, finishing in-flight requests');
    const forced = setTimeout(() => {
      logger.error('shutdown took too long; exiting');
      process.exit(1);
    }, 25_000);
    forced.unref();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    // SSE streams never finish by themselves: end them so server.close can complete.
    deps.streams.closeAll();
    await closed;
    // deps.close stops the job runner and the outbox dispatcher after their in-flight work.
    await deps.close();
    await sandbox?.close();
    logger.info('shutdown complete');
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((error: unknown) => {
  process.stderr.write(`ucw-bff failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
