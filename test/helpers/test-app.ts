import type { Express } from 'express';
import type { Dispatcher } from 'undici';
import { startSandboxUcw, type SandboxUcw } from '../../src/sandbox/sandbox-ucw.js';
import { createApp } from '../../src/app.js';
import { loadConfig, type Config } from '../../src/config.js';
import { buildDependencies, type Dependencies, type DependencyOverrides } from '../../src/dependencies.js';
import type { Dialect } from '../../src/db/database.js';
import { createTestDatabase, type TestDatabase } from './databases.js';
import { TEST_AUDIENCE, TEST_ISSUER, TEST_JWT_SECRET } from './jwt.js';
import { captureLogs } from './logs.js';

export const FRONTEND_ORIGIN = 'https://app.platform.test';
export const TEST_SESSION_SECRET = 'session-secret-for-tests-0123456789abcdef';

/** The environment every test app starts from: test IdP, one frontend origin, a fixed session secret. */
export function testEnv(overrides: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return {
    NODE_ENV: 'test',
    LOG_LEVEL: 'debug',
    PUBLIC_URL: 'http://127.0.0.1:3999',
    ALLOWED_ORIGINS: FRONTEND_ORIGIN,
    AUTH_JWT_SECRET: TEST_JWT_SECRET,
    AUTH_ISSUER: TEST_ISSUER,
    AUTH_AUDIENCE: TEST_AUDIENCE,
    SESSION_SECRET: TEST_SESSION_SECRET,
    UCW_URL: 'http://127.0.0.1:9',
    ...overrides,
  };
}

export interface TestApp {
  app: Express;
  deps: Dependencies;
  config: Config;
  database: TestDatabase;
  logs: ReturnType<typeof captureLogs>;
  /** The sandbox UCW the app talks to, when one was asked for. */
  sandbox: SandboxUcw | undefined;
  close(): Promise<void>;
}

export const SANDBOX_BEARER = 'sandbox-m2m-token-for-tests';

export interface TestAppOptions {
  dialect?: Dialect;
  /** PostgreSQL pool settings of the test database. */
  pool?: { poolSize?: number; poolTimeoutMs?: number };
  /** Hears every statement the app sends (to count what a request costs). */
  onStatement?: (sql: string) => void;
  env?: Record<string, string | undefined>;
  clock?: () => Date;
  /** Start the sandbox UCW on a real loopback port and point the app at it (auth on, static bearer). */
  sandbox?: { version: 1 | 2; auth?: boolean; eventGeneration?: 1 | 2; frameAncestors?: readonly string[] };
  ucwDispatcher?: Dispatcher;
  jobOptions?: DependencyOverrides['jobOptions'];
  outboxOptions?: DependencyOverrides['outboxOptions'];
}

export async function buildTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const sandbox = options.sandbox
    ? await startSandboxUcw({
        version: options.sandbox.version,
        ...(options.sandbox.auth === false ? {} : { isValidBearer: (token: string) => token === SANDBOX_BEARER }),
        ...(options.sandbox.eventGeneration ? { eventGeneration: options.sandbox.eventGeneration } : {}),
        ...(options.sandbox.frameAncestors ? { frameAncestors: options.sandbox.frameAncestors } : {}),
        port: 0,
      })
    : undefined;
  const sandboxEnv = sandbox
    ? {
        UCW_URL: sandbox.url,
        UCW_API_VERSION: String(options.sandbox!.version),
        ...(options.sandbox!.auth === false ? { UCW_AUTH: 'none' } : { UCW_AUTH: 'static', UCW_BEARER_TOKEN: SANDBOX_BEARER }),
      }
    : {};
  const config = loadConfig(testEnv({ ...sandboxEnv, ...options.env }));
  const database = await createTestDatabase(options.dialect ?? 'sqlite', { ...options.pool, ...(options.onStatement ? { onStatement: options.onStatement } : {}) });
  const logs = captureLogs();
  const deps = await buildDependencies(config, logs.logger, {
    database,
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.ucwDispatcher ? { ucwDispatcher: options.ucwDispatcher } : {}),
    ...(options.jobOptions ? { jobOptions: options.jobOptions } : {}),
    ...(options.outboxOptions ? { outboxOptions: options.outboxOptions } : {}),
  });
  const app = createApp(deps);
  return {
    app,
    deps,
    config,
    database,
    logs,
    sandbox,
    close: async () => {
      await deps.close();
      await database.destroy();
      await sandbox?.close();
    },
  };
}
