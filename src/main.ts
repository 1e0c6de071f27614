import { createApp } from './app.js';
import { ConfigError, loadConfig, serviceEnvironment, startupWarnings, type Config } from './config.js';
import { buildDependencies } from './dependencies.js';
import { answerClientErrors } from './http/client-error.js';
import { createDrainableServer } from './http/drainable-server.js';
import { createLogger, flushLogsNow, prettyLogsAvailable } from './logger.js';
import { crossSiteWarning } from './web/same-site.js';
import type { SandboxUcw } from './sandbox/sandbox-ucw.js';

/** The SSE `retry:` hint sent as streams end at shutdown: reconnect soon, to an instance still running. */
const SSE_RETRY_AFTER_SHUTDOWN_MS = 1000;

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig(serviceEnvironment('.env'));
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw error;
  }
  const logger = createLogger({ level: config.logLevel, pretty: config.logFormat === 'pretty' && prettyLogsAvailable() });
  for (const warning of startupWarnings(config)) logger.warn(warning);
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
  const http = createDrainableServer(app);
  const { server } = http;
  server.listen(config.port, config.host, () => {
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    // The pid tells an operator (and a supervisor) which process holds the port.
    logger.info({ url: config.publicUrl, host: config.host, port, pid: process.pid }, 'ucw-bff listening');
    flushLogsNow(logger);
  });
  // Slow-loris protection without cutting off SSE streams (they send heartbeats well inside these).
  server.headersTimeout = 15_000;
  server.requestTimeout = 30_000;
  server.keepAliveTimeout = 65_000;
  answerClientErrors(server, logger);

  deps.maintenance.start();
  deps.jobs.start();
  deps.outbox?.start();

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    const budgetMs = config.shutdownTimeoutSeconds * 1000;
    logger.info({ signal, timeoutSeconds: config.shutdownTimeoutSeconds }, 'shutting down: no new connections, finishing in-flight requests');
    flushLogsNow(logger);
    const forced = setTimeout(() => {
      logger.error('shutdown took too long; exiting');
      process.exit(1);
    }, budgetMs);
    forced.unref();
    // Connections still open past most of the budget are cut, so the runners and pools still close in time.
    const cut = setTimeout(() => {
      logger.warn('connections still open at the drain deadline; closing them');
      http.forceClose();
    }, budgetMs * 0.6);
    cut.unref();
    const drained = http.drain();
    // SSE streams never finish by themselves: end them, telling browsers when to reconnect (to another instance).
    deps.streams.closeAll(SSE_RETRY_AFTER_SHUTDOWN_MS);
    // The runners finish their in-flight deliveries and jobs meanwhile; what is pending stays in the database.
    await Promise.all([drained, deps.jobs.stop(), deps.outbox?.stop(), deps.maintenance.stop()]);
    clearTimeout(cut);
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
