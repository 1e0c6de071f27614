import { randomBytes } from 'node:crypto';
import type { Config } from './config.js';
import { createDevLogin, type DevLogin } from './auth/dev-login.js';
import { createUserAuth, platformVerifier, type UserAuth } from './auth/user-auth.js';
import { createDatabase, type DatabaseHandle } from './db/database.js';
import type { DependencyCheck } from './health/health.routes.js';
import type { Logger } from './logger.js';
import { createMetrics, type Metrics } from './observability/metrics.js';

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
  /** Releases what the dependencies hold (pools, timers), database last. */
  close(): Promise<void>;
}

export interface DependencyOverrides {
  database?: DatabaseHandle;
  clock?: () => Date;
  defaultMetrics?: boolean;
}

export async function buildDependencies(config: Config, logger: Logger, overrides: DependencyOverrides = {}): Promise<Dependencies> {
  if (config.env === 'production' && config.auth.devLogin) throw new Error('the dev login cannot run in production');

  const database = overrides.database ?? createDatabase(config.database);
  await database.migrateToLatest();

  const devLogin = config.auth.devLogin ? createDevLogin() : undefined;
  const platform = platformVerifier(config.auth);
  const verifiers = [platform, devLogin?.verify].filter((v): v is NonNullable<typeof v> => v !== undefined);
  const userAuth = createUserAuth(config.auth.cookieName, verifiers);

  const readinessChecks: DependencyCheck[] = [
    {
      name: 'database',
      critical: true,
      check: async () => {
        await database.ping();
        return { ok: true };
      },
    },
  ];

  return {
    config,
    logger,
    database,
    metrics: createMetrics({ defaultMetrics: overrides.defaultMetrics ?? false }),
    userAuth,
    devLogin,
    readinessChecks,
    clock: overrides.clock ?? (() => new Date()),
    close: async () => {
      // A database handed in by the caller (tests) is the caller's to close.
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
