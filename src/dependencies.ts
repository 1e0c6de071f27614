import { randomBytes } from 'node:crypto';
import type { Dispatcher } from 'undici';
import { createDevLogin, type DevLogin } from './auth/dev-login.js';
import { createUserAuth, platformVerifier, type UserAuth } from './auth/user-auth.js';
import type { Config } from './config.js';
import { createConnectSessionService, type ConnectSessionService } from './connect-sessions/connect-session.service.js';
import { createUcwUserId } from './connect-sessions/ucw-user-id.js';
import type { ConnectionChangeHook } from './connections/connection-change.js';
import { createConnectionService, type ConnectionService } from './connections/connection.service.js';
import { createSecretBox, type SecretBox } from './connections/secret-box.js';
import { createDatabase, type DatabaseHandle } from './db/database.js';
import { connectionChangeEffects, sessionEndingEffects } from './events/change-effects.js';
import { createEventService, type EventService } from './events/event.service.js';
import { StreamRegistry } from './events/session-stream.js';
import { verificationHandler } from './events/verification.js';
import { cachedCheck } from './lib/cached-check.js';
import type { DependencyCheck } from './health/health.routes.js';
import { memoryRateLimitStore, type RateLimitStore } from './http/rate-limit.js';
import { postgresRateLimitStore } from './http/rate-limit-store.postgres.js';
import { createJobRunner, type JobRunner, type JobRunnerOptions } from './jobs/job-runner.js';
import type { PollingLoop } from './jobs/polling-loop.js';
import type { Logger } from './logger.js';
import { createMaintenance } from './maintenance.js';
import { createSessionNotifier, type SessionNotifier } from './notify/session-notifier.js';
import { createMetrics, type Metrics } from './observability/metrics.js';
import { createOutboxDispatcher, type OutboxDispatcher, type OutboxDispatcherOptions } from './outbox/outbox-dispatcher.js';
import { createCredentialProvider, createUcwClient, type UcwClient } from './ucw/index.js';
import { createHostPageService, type HostPageService } from './web/host-page.service.js';
import { createWebhookService, type WebhookService } from './webhooks/webhook.service.js';

/** Everything createApp needs, built in one place. Tests build the same thing with other arguments. */
export interface Dependencies {
  config: Config;
  logger: Logger;
  database: DatabaseHandle;
  metrics: Metrics;
  userAuth: UserAuth;
  devLogin: DevLogin | undefined;
  readinessChecks: DependencyCheck[];
  clock: () => Date;
  ucw: UcwClient;
  secretBox: SecretBox;
  sessionSecrets: readonly string[];
  ucwUserId: (platformUserId: string) => string;
  connections: ConnectionService;
  connectSessions: ConnectSessionService;
  events: EventService;
  hostPage: HostPageService;
  webhooks: WebhookService;
  onConnectionChange: ConnectionChangeHook;
  notifier: SessionNotifier;
  streams: StreamRegistry;
  /** Rate-limit counts: in memory on SQLite (one instance), shared through PostgreSQL otherwise. */
  rateLimitStore: RateLimitStore;
  /** Background loops: started by main.ts (tests drive them with runOnce). */
  jobs: JobRunner;
  outbox: OutboxDispatcher | undefined;
  maintenance: PollingLoop;
  /** Releases what the dependencies hold (pools, timers), database last. */
  close(): Promise<void>;
}

export interface DependencyOverrides {
  database?: DatabaseHandle;
  clock?: () => Date;
  defaultMetrics?: boolean;
  /** Tests pass an undici MockAgent here to shape UCW faults. */
  ucwDispatcher?: Dispatcher;
  /** Tests shorten the background loops' delays. */
  outboxOptions?: Partial<OutboxDispatcherOptions>;
  jobOptions?: Partial<JobRunnerOptions>;
}

export async function buildDependencies(config: Config, logger: Logger, overrides: DependencyOverrides = {}): Promise<Dependencies> {
  if (config.env === 'production' && config.auth.devLogin) throw new Error('the dev login cannot run in production');

  // A database handed in by the caller (tests) is the caller's to migrate and to close.
  const database = overrides.database ?? (await createDatabase(config.database, {
      poolSize: config.databasePool.size,
      poolTimeoutMs: config.databasePool.timeoutMs,
      onCheckpointFailure: (error) => logger.warn({ err: error }, 'SQLite checkpoint worker failed; checkpoints run inside commits again'),
    }));
  const secretBox = createSecretBox(config.dataEncryptionKeys);
  if (!overrides.database) await database.migrateToLatest({ keys: secretBox, log: logger });

  const devLogin = config.auth.devLogin ? createDevLogin() : undefined;
  const platform = platformVerifier(config.auth);
  const verifiers = [platform, devLogin?.verify].filter((v): v is NonNullable<typeof v> => v !== undefined);
  const userAuth = createUserAuth(config.auth.cookieName, verifiers);

  if (!config.ucw.url) throw new Error('UCW_URL is not set (sandbox mode fills it in before this point)');
  const clock = overrides.clock ?? (() => new Date());
  const metrics = createMetrics({ defaultMetrics: overrides.defaultMetrics ?? false });
  const credentials = createCredentialProvider(config.ucw.auth, {
    timeoutMs: config.ucw.timeoutMs,
    logger,
    calls: metrics.ucwCalls,
    ...(overrides.ucwDispatcher ? { dispatcher: overrides.ucwDispatcher } : {}),
  });
  const ucw = createUcwClient({
    baseUrl: config.ucw.url,
    apiVersion: config.ucw.apiVersion,
    timeoutMs: config.ucw.timeoutMs,
    credentials,
    logger,
    calls: metrics.ucwCalls,
    ...(overrides.ucwDispatcher ? { dispatcher: overrides.ucwDispatcher } : {}),
  });
  const sessionSecrets = sessionSecretsOrRandom(config, logger);
  const ucwUserId = createUcwUserId(config.ucw.userIdMode, config.ucw.userIdSecret);
  const notifier = createSessionNotifier(database, logger);
  // Streams work without cross-instance signals (a catch-up read every heartbeat interval), so a slow LISTEN
  // connection delays start-up a little, never forever.
  await Promise.race([notifier.ready(), new Promise((resolve) => setTimeout(resolve, 10_000).unref())]);
  const publish = (sessionId: string) => notifier.publish(sessionId);
  const onConnectionChange = connectionChangeEffects({
    platformWebhook: config.platformWebhook !== undefined,
    verification: config.ucw.dataEndpoints,
    clock,
  });
  const connections = createConnectionService({
    db: database.db,
    ucw,
    secretBox,
    ucwUserId,
    clock,
    logger,
    onChange: onConnectionChange,
    deleteEnabled: config.ucw.deleteEnabled,
  });
  const connectSessions = createConnectSessionService({ db: database.db, ucw, connections, clock, ucwUserId, sessionSecrets, config });
  const events = createEventService({
    db: database.db,
    dialect: database.dialect,
    sessions: connectSessions,
    connections,
    secretBox,
    clock,
    logger,
    metrics,
    onChange: onConnectionChange,
    onSessionEnded: sessionEndingEffects({ platformWebhook: config.platformWebhook !== undefined, clock }),
    publish,
  });
  const jobs = createJobRunner({
    database,
    logger,
    clock,
    handlers: { verify_connection: verificationHandler({ db: database.db, connections, sessions: connectSessions, ucw, clock, logger, events, publish }) },
    leaseMs: config.jobs.leaseSeconds * 1000,
    ...overrides.jobOptions,
  });
  const outbox = config.platformWebhook
    ? createOutboxDispatcher({
        database,
        url: config.platformWebhook.url,
        secret: config.platformWebhook.secret,
        logger,
        metrics,
        clock,
        concurrency: config.outbox.concurrency,
        leaseMs: config.outbox.leaseSeconds * 1000,
        // One attempt must end well inside its lease, or a second dispatcher could send it again meanwhile.
        fetchTimeoutMs: Math.min(10_000, (config.outbox.leaseSeconds * 1000) / 3),
        ...overrides.outboxOptions,
      })
    : undefined;
  const sharedRateLimits = database.dialect === 'postgres' ? postgresRateLimitStore({ database, logger }) : undefined;
  const maintenance = createMaintenance({
    logger,
    clock,
    webhookIdRetentionHours: config.webhooks.idRetentionHours,
    expireDueSessions: () => events.expireDueSessions(),
    pruneWebhookIds: (cutoff) => events.pruneWebhookIds(cutoff),
  });

  // Failures are logged here, once per probe: /readyz shows anyone only up or down.
  const probeUcw = cachedCheck(
    async () => {
      const result = await ucw.check();
      if (!result.ok) logger.warn({ detail: result.detail }, 'readiness: the UCW check failed');
      return result;
    },
    { ttlMs: config.readinessUcwCacheSeconds * 1000 },
  );
  const readinessChecks: DependencyCheck[] = [
    {
      name: 'database',
      critical: true,
      check: async () => {
        await database.ping();
        return { ok: true };
      },
    },
    {
      // Shown, not fatal: an unreachable UCW must not take the BFF out of its load balancer.
      name: 'ucw',
      critical: false,
      check: probeUcw,
    },
  ];

  return {
    config,
    logger,
    database,
    metrics,
    userAuth,
    devLogin,
    readinessChecks,
    clock,
    ucw,
    secretBox,
    sessionSecrets,
    ucwUserId,
    connections,
    connectSessions,
    events,
    hostPage: createHostPageService({ sessions: connectSessions, clock }),
    webhooks: createWebhookService({ events, secrets: config.webhooks.secrets, clock, logger }),
    onConnectionChange,
    notifier,
    streams: new StreamRegistry(),
    rateLimitStore: sharedRateLimits ?? memoryRateLimitStore(),
    jobs,
    outbox,
    maintenance,
    close: async () => {
      await Promise.all([jobs.stop(), outbox?.stop(), maintenance.stop()]);
      await notifier.close();
      await sharedRateLimits?.close();
      await ucw.close();
      if (!overrides.database) await database.close();
    },
  };
}

/** Outside production a missing SESSION_SECRET gets a random one: links then die with the process. */
export function sessionSecretsOrRandom(config: Config, logger: Logger): readonly string[] {
  if (config.session.secrets.length > 0) return config.session.secrets;
  logger.warn('SESSION_SECRET is not set: using a random secret; connect links stop working at restart');
  return [randomBytes(32).toString('base64url')];
}
