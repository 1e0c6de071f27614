import type { Express } from 'express';
import { createApp } from '../../src/app.js';
import { loadConfig, type Config } from '../../src/config.js';
import { buildDependencies, type Dependencies } from '../../src/dependencies.js';
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
  close(): Promise<void>;
}

export async function buildTestApp(options: { dialect?: Dialect; env?: Record<string, string | undefined>; clock?: () => Date } = {}): Promise<TestApp> {
  const config = loadConfig(testEnv(options.env));
  const database = await createTestDatabase(options.dialect ?? 'sqlite');
  const logs = captureLogs();
  const deps = await buildDependencies(config, logs.logger, { database, ...(options.clock ? { clock: options.clock } : {}) });
  const app = createApp(deps);
  return {
    app,
    deps,
    config,
    database,
    logs,
    close: async () => {
      await deps.close();
      await database.destroy();
    },
  };
}
