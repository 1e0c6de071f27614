import { existsSync, readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
import { z } from 'zod';
import { redirectUriProblem } from './lib/redirect-uri.js';

/**
 * The one place that reads `process.env`. Everything else receives a frozen `Config`.
 * Every variable is documented in README.md and listed in .env.example.
 */

const csv = z
  .string()
  .optional()
  .transform((value) =>
    (value ?? '')
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item.length > 0),
  );

const bool = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no', ''])
    .optional()
    .transform((value) => (value === undefined || value === '' ? fallback : ['true', '1', 'yes'].includes(value)));

const int = (fallback: number, min: number, max: number) =>
  z.coerce.number().int().min(min).max(max).optional().default(fallback);

const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' });

const origin = httpUrl.transform((value, ctx) => {
  const url = new URL(value);
  if (url.pathname !== '/' || url.search || url.hash || value.endsWith('/')) {
    ctx.addIssue({ code: 'custom', message: `is not an origin (scheme://host[:port], no path): "${value}"` });
    return z.NEVER;
  }
  return url.origin;
});

const emptyToUndefined = (value: unknown) => (value === '' ? undefined : value);
const optional = <T extends z.ZodType>(schema: T) => z.preprocess(emptyToUndefined, schema.optional());

const envSchema = z
  .object({
    NODE_ENV: z.enum(['development', 'test', 'production']).optional().default('development'),
    HOST: z.string().min(1).optional().default('127.0.0.1'),
    PORT: int(3000, 0, 65535),
    PUBLIC_URL: optional(httpUrl),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).optional().default('info'),
    LOG_FORMAT: optional(z.enum(['json', 'pretty'])),
    TRUST_PROXY: optional(z.string()),
    BODY_LIMIT_BYTES: int(64 * 1024, 1024, 10 * 1024 * 1024),

    DATABASE_URL: optional(z.string().regex(/^(sqlite:|postgres(ql)?:\/\/)/, 'must start with sqlite: or postgres://')),

    DATABASE_POOL_SIZE: int(10, 1, 1000),
    DATABASE_POOL_TIMEOUT_MS: int(5_000, 50, 120_000),

    ALLOWED_ORIGINS: csv.pipe(z.array(origin)),
    ALLOWED_REDIRECT_URIS: csv,

    AUTH_JWKS_URL: optional(httpUrl),
    AUTH_JWT_SECRET: optional(z.string().min(32, 'must be at least 32 characters')),
    AUTH_ISSUER: optional(z.string().min(1)),
    AUTH_AUDIENCE: optional(z.string().min(1)),
    AUTH_USER_CLAIM: z.string().min(1).optional().default('sub'),
    AUTH_MAX_TOKEN_AGE_SECONDS: optional(z.coerce.number().int().min(60).max(30 * 24 * 3600)),
    AUTH_COOKIE_NAME: z.string().regex(/^[\w.-]+$/).optional().default('ucw_bff_auth'),
    DEV_LOGIN: bool(false),

    SESSION_SECRET: csv.pipe(z.array(z.string().min(32, 'must be at least 32 characters'))),
    SESSION_TTL_SECONDS: int(30 * 60, 60, 24 * 3600),
    SESSION_MAX_LOADS: int(10, 1, 100),
    SSE_HEARTBEAT_SECONDS: int(15, 1, 300),
    READINESS_UCW_CACHE_SECONDS: int(10, 0, 3600),

    UCW_URL: optional(httpUrl),
    UCW_API_VERSION: z.enum(['1', '2', 'auto']).optional().default('auto'),
    UCW_AUTH: z.enum(['none', 'static', 'client_credentials']).optional().default('none'),
    UCW_BEARER_TOKEN: optional(z.string().min(1)),
    UCW_OAUTH_TOKEN_URL: optional(httpUrl),
    UCW_OAUTH_CLIENT_ID: optional(z.string().min(1)),
    UCW_OAUTH_CLIENT_SECRET: optional(z.string().min(1)),
    UCW_OAUTH_AUDIENCE: optional(z.string().min(1)),
    UCW_OAUTH_SCOPE: optional(z.string().min(1)),
    UCW_TIMEOUT_MS: int(10_000, 100, 120_000),
    UCW_USER_ID_MODE: z.enum(['plain', 'hmac']).optional().default('plain'),
    UCW_USER_ID_SECRET: optional(z.string().min(32, 'must be at least 32 characters')),
    UCW_DELETE_ENABLED: bool(false),
    UCW_DATA_ENDPOINTS: bool(false),

    SANDBOX_UCW_HOST: z.string().min(1).optional().default('127.0.0.1'),
    SANDBOX_UCW_PORT: int(3001, 0, 65535),
    SANDBOX_UCW_VERSION: z.enum(['1', '2']).optional().default('2'),

    WEBHOOK_SECRETS: csv.pipe(z.array(z.string().regex(/^whsec_[A-Za-z0-9+/=]{16,}$/, 'must be whsec_<base64>'))),
    WEBHOOK_ID_RETENTION_HOURS: int(72, 1, 24 * 90),
    PLATFORM_WEBHOOK_URL: optional(httpUrl),
    PLATFORM_WEBHOOK_SECRET: optional(z.string().regex(/^whsec_[A-Za-z0-9+/=]{16,}$/, 'must be whsec_<base64>')),
    OUTBOX_CONCURRENCY: int(16, 1, 256),
    OUTBOX_LEASE_SECONDS: int(30, 3, 3600),
    JOB_LEASE_SECONDS: int(60, 3, 3600),

    DATA_ENCRYPTION_KEYS: csv.pipe(z.array(z.string().regex(/^[\w-]+:[A-Za-z0-9+/]{43}=$/, 'each key must be <keyId>:<32 bytes base64>'))),
    DATA_ENCRYPTION_KEY: optional(
      z.string().regex(/^([\w-]+:)?[A-Za-z0-9+/]{43}=$/, 'must be [keyId:]<32 bytes base64>'),
    ),

    RATE_LIMIT_CONNECT_URL_PER_MIN: int(60, 1, 100_000),
    RATE_LIMIT_IP_PER_MIN: int(600, 1, 1_000_000),
    RATE_LIMIT_AUTH_FAILURES_PER_MIN: int(60, 1, 1_000_000),
    RATE_LIMIT_DATA_PER_MIN: int(120, 1, 1_000_000),
    METRICS_TOKEN: optional(z.string().min(16, 'must be at least 16 characters')),
    SHUTDOWN_TIMEOUT_SECONDS: int(10, 1, 600),
  });

/**
 * Rules that tie variables together. They read the raw strings so they run even when a single
 * variable is malformed: start-up reports every problem at once, not one per attempt.
 */
const csvOf = (value: string | undefined) =>
  (value ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);

function crossFieldProblems(raw: NodeJS.ProcessEnv): string[] {
  const problems: string[] = [];
  const set = (name: string) => (raw[name] ?? '').trim() !== '';
  const problem = (name: string, message: string) => problems.push(`${name}: ${message}`);
  const production = raw.NODE_ENV === 'production';
  if (set('AUTH_JWKS_URL') && set('AUTH_JWT_SECRET')) problem('AUTH_JWKS_URL', 'set AUTH_JWKS_URL or AUTH_JWT_SECRET, not both');
  if (raw.UCW_AUTH === 'static' && !set('UCW_BEARER_TOKEN')) problem('UCW_BEARER_TOKEN', 'required when UCW_AUTH=static');
  if (raw.UCW_AUTH === 'client_credentials') {
    for (const name of ['UCW_OAUTH_TOKEN_URL', 'UCW_OAUTH_CLIENT_ID', 'UCW_OAUTH_CLIENT_SECRET']) {
      if (!set(name)) problem(name, 'required when UCW_AUTH=client_credentials');
    }
  }
  if (raw.UCW_USER_ID_MODE === 'hmac' && !set('UCW_USER_ID_SECRET')) problem('UCW_USER_ID_SECRET', 'required when UCW_USER_ID_MODE=hmac');
  if (set('PLATFORM_WEBHOOK_URL') && !set('PLATFORM_WEBHOOK_SECRET')) problem('PLATFORM_WEBHOOK_SECRET', 'required when PLATFORM_WEBHOOK_URL is set');
  for (const uri of csvOf(raw.ALLOWED_REDIRECT_URIS)) {
    const why = redirectUriProblem(uri, { production });
    if (why) problem('ALLOWED_REDIRECT_URIS', `"${uri}" ${why}`);
  }
  if (set('DATA_ENCRYPTION_KEYS') && set('DATA_ENCRYPTION_KEY')) problem('DATA_ENCRYPTION_KEYS', 'set DATA_ENCRYPTION_KEYS or DATA_ENCRYPTION_KEY, not both');
  const keyIds = csvOf(raw.DATA_ENCRYPTION_KEYS).map((entry) => entry.split(':')[0]);
  if (new Set(keyIds).size !== keyIds.length) problem('DATA_ENCRYPTION_KEYS', 'key ids must be distinct');
  if (production) {
    if (!set('SESSION_SECRET')) problem('SESSION_SECRET', 'required in production');
    if (['true', '1', 'yes'].includes(raw.DEV_LOGIN ?? '')) problem('DEV_LOGIN', 'the dev login cannot be enabled in production');
    if (!set('UCW_URL')) problem('UCW_URL', 'required in production (the sandbox UCW never runs in production)');
    if (!set('PUBLIC_URL')) problem('PUBLIC_URL', 'required in production');
    if (!set('AUTH_JWKS_URL') && !set('AUTH_JWT_SECRET')) problem('AUTH_JWKS_URL', 'set AUTH_JWKS_URL or AUTH_JWT_SECRET in production');
    if (!set('AUTH_ISSUER')) problem('AUTH_ISSUER', 'required in production');
    if (!set('AUTH_AUDIENCE')) problem('AUTH_AUDIENCE', 'required in production');
  }
  return problems;
}

type Env = z.infer<typeof envSchema>;

/** Every environment variable the service reads (documentation tests check README and .env.example). */
export const CONFIG_VARIABLES = Object.keys(envSchema.shape) as readonly string[];

export interface Config {
  env: Env['NODE_ENV'];
  host: string;
  port: number;
  /** The BFF's public origin + base, without a trailing slash. */
  publicUrl: string;
  logLevel: Env['LOG_LEVEL'];
  /** 'pretty' by default in development (a person reads it), 'json' everywhere else. */
  logFormat: 'json' | 'pretty';
  trustProxy: boolean | number | string;
  bodyLimitBytes: number;
  database: { dialect: 'sqlite'; path: string } | { dialect: 'postgres'; url: string };
  /** PostgreSQL pool: its size, and how long a request waits for a free connection before a 503. */
  databasePool: { size: number; timeoutMs: number };
  allowedOrigins: readonly string[];
  allowedRedirectUris: readonly string[];
  auth: {
    jwksUrl: string | undefined;
    jwtSecret: string | undefined;
    issuer: string | undefined;
    audience: string | undefined;
    userClaim: string;
    /** Tokens issued (`iat`) longer ago than this are refused, whatever their `exp`; undefined: no limit. */
    maxTokenAgeSeconds: number | undefined;
    cookieName: string;
    devLogin: boolean;
  };
  session: {
    /** First secret signs; every secret verifies (rotation). */
    secrets: readonly string[];
    ttlSeconds: number;
    maxLoads: number;
  };
  ucw: {
    /** Undefined in sandbox mode until main.ts starts the simulator and fills it in. */
    url: string | undefined;
    apiVersion: '1' | '2' | 'auto';
    auth:
      | { mode: 'none' }
      | { mode: 'static'; bearerToken: string }
      | {
          mode: 'client_credentials';
          tokenUrl: string;
          clientId: string;
          clientSecret: string;
          audience: string | undefined;
          scope: string | undefined;
        };
    timeoutMs: number;
    userIdMode: 'plain' | 'hmac';
    userIdSecret: string | undefined;
    deleteEnabled: boolean;
    dataEndpoints: boolean;
  };
  sandbox: { enabled: boolean; host: string; port: number; version: 1 | 2 };
  webhooks: {
    secrets: readonly string[];
    idRetentionHours: number;
  };
  platformWebhook: { url: string; secret: string } | undefined;
  /** The key ring, `keyId:base64` each: the first seals, every one opens. Empty: no encryption. */
  dataEncryptionKeys: readonly string[];
  rateLimits: { connectUrlPerMinute: number; ipPerMinute: number; authFailuresPerMinute: number; dataPerMinute: number };
  metricsToken: string | undefined;
  /** How often an open SSE stream sends a comment line (keeps proxies from closing it); also the catch-up read's interval. */
  sseHeartbeatSeconds: number;
  /** How long `/readyz` reuses the UCW probe's answer (one UCW call per interval at most; 0 probes each time, still single-flight). */
  readinessUcwCacheSeconds: number;
  /** Outbound webhook dispatcher: deliveries in flight, and how long a claimed message stays claimed. */
  outbox: { concurrency: number; leaseSeconds: number };
  jobs: { leaseSeconds: number };
  /** SIGTERM to exit: draining connections, runners and pools must fit in this. */
  shutdownTimeoutSeconds: number;
}

export class ConfigError extends Error {
  readonly problems: readonly string[];
  constructor(problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

const LIST_ITEM: Record<string, string> = { SESSION_SECRET: 'secret', WEBHOOK_SECRETS: 'secret', ALLOWED_ORIGINS: 'origin', ALLOWED_REDIRECT_URIS: 'URI' };
const ordinal = (n: number) => `${n}${n % 10 === 1 && n % 100 !== 11 ? 'st' : n % 10 === 2 && n % 100 !== 12 ? 'nd' : n % 10 === 3 && n % 100 !== 13 ? 'rd' : 'th'}`;

/**
 * One line per problem, named by variable: `SESSION_SECRET: the 2nd entry must be …` rather
 * than zod's `SESSION_SECRET.1: …` (a list variable is one string to the person setting it).
 */
function describeIssue(issue: z.core.$ZodIssue): string {
  const [name, index] = issue.path;
  if (name === undefined) return `(environment): ${issue.message}`;
  if (typeof index === 'number') return `${String(name)}: the ${ordinal(index + 1)} ${LIST_ITEM[String(name)] ?? 'entry'} ${issue.message}`;
  return `${String(name)}: ${issue.message}`;
}

function parseTrustProxy(value: string | undefined): boolean | number | string {
  if (value === undefined || value === 'false') return false;
  if (value === 'true') return true;
  if (/^\d+$/.test(value)) return Number(value);
  return value;
}

/**
 * The variables `main.ts` configures the service from: a `.env` file, when present, under the
 * process environment, which wins (so `FOO=1 npm start` and container settings override the
 * file). Only the service process calls this; tests build their environment explicitly.
 */
export function serviceEnvironment(envFile = '.env', environment: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return { ...readEnvFile(envFile), ...environment };
}

/** `NAME=value` lines (quotes, `#` comments and `export ` allowed); no file, no variables. */
export function readEnvFile(path: string): Record<string, string> {
  if (!existsSync(path)) return {};
  return parseEnv(readFileSync(path, 'utf8')) as Record<string, string>;
}

/** Parses the environment once. Throws `ConfigError` listing every bad variable by name. */
export function loadConfig(source: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(source);
  const problems = [
    ...(parsed.success ? [] : parsed.error.issues.map(describeIssue)),
    ...crossFieldProblems(source),
  ];
  if (!parsed.success || problems.length > 0) throw new ConfigError(problems);
  const env = parsed.data;
  const publicUrl = (env.PUBLIC_URL ?? `http://localhost:${env.PORT}`).replace(/\/+$/, '');
  const databaseUrl = env.DATABASE_URL ?? 'sqlite:./data/ucw-bff.sqlite';
  const ucwAuth: Config['ucw']['auth'] =
    env.UCW_AUTH === 'static'
      ? { mode: 'static', bearerToken: env.UCW_BEARER_TOKEN! }
      : env.UCW_AUTH === 'client_credentials'
        ? {
            mode: 'client_credentials',
            tokenUrl: env.UCW_OAUTH_TOKEN_URL!,
            clientId: env.UCW_OAUTH_CLIENT_ID!,
            clientSecret: env.UCW_OAUTH_CLIENT_SECRET!,
            audience: env.UCW_OAUTH_AUDIENCE,
            scope: env.UCW_OAUTH_SCOPE,
          }
        : { mode: 'none' };

  const config: Config = {
    env: env.NODE_ENV,
    host: env.HOST,
    port: env.PORT,
    publicUrl,
    logLevel: env.LOG_LEVEL,
    logFormat: env.LOG_FORMAT ?? (env.NODE_ENV === 'development' ? 'pretty' : 'json'),
    trustProxy: parseTrustProxy(env.TRUST_PROXY),
    bodyLimitBytes: env.BODY_LIMIT_BYTES,
    database: databaseUrl.startsWith('sqlite:')
      ? { dialect: 'sqlite', path: databaseUrl.slice('sqlite:'.length) }
      : { dialect: 'postgres', url: databaseUrl },
    // Outside production an unset list admits the BFF's own origin, where the sandbox demo page lives.
    databasePool: { size: env.DATABASE_POOL_SIZE, timeoutMs: env.DATABASE_POOL_TIMEOUT_MS },
    allowedOrigins: env.ALLOWED_ORIGINS.length > 0 || env.NODE_ENV === 'production' ? env.ALLOWED_ORIGINS : [new URL(publicUrl).origin],
    allowedRedirectUris: env.ALLOWED_REDIRECT_URIS,
    auth: {
      jwksUrl: env.AUTH_JWKS_URL,
      jwtSecret: env.AUTH_JWT_SECRET,
      issuer: env.AUTH_ISSUER,
      audience: env.AUTH_AUDIENCE,
      userClaim: env.AUTH_USER_CLAIM,
      maxTokenAgeSeconds: env.AUTH_MAX_TOKEN_AGE_SECONDS,
      cookieName: env.AUTH_COOKIE_NAME,
      // Sandbox mode turns the dev login on by default so a newcomer can click through.
      devLogin: env.DEV_LOGIN || (env.NODE_ENV !== 'production' && !env.UCW_URL && !env.AUTH_JWKS_URL && !env.AUTH_JWT_SECRET),
    },
    session: {
      secrets: env.SESSION_SECRET,
      ttlSeconds: env.SESSION_TTL_SECONDS,
      maxLoads: env.SESSION_MAX_LOADS,
    },
    ucw: {
      url: env.UCW_URL?.replace(/\/+$/, ''),
      apiVersion: env.UCW_API_VERSION,
      auth: ucwAuth,
      timeoutMs: env.UCW_TIMEOUT_MS,
      userIdMode: env.UCW_USER_ID_MODE,
      userIdSecret: env.UCW_USER_ID_SECRET,
      deleteEnabled: env.UCW_DELETE_ENABLED,
      dataEndpoints: env.UCW_DATA_ENDPOINTS,
    },
    sandbox: {
      enabled: !env.UCW_URL && env.NODE_ENV !== 'production',
      host: env.SANDBOX_UCW_HOST,
      port: env.SANDBOX_UCW_PORT,
      version: env.SANDBOX_UCW_VERSION === '1' ? 1 : 2,
    },
    webhooks: { secrets: env.WEBHOOK_SECRETS, idRetentionHours: env.WEBHOOK_ID_RETENTION_HOURS },
    platformWebhook:
      env.PLATFORM_WEBHOOK_URL && env.PLATFORM_WEBHOOK_SECRET
        ? { url: env.PLATFORM_WEBHOOK_URL, secret: env.PLATFORM_WEBHOOK_SECRET }
        : undefined,
    outbox: { concurrency: env.OUTBOX_CONCURRENCY, leaseSeconds: env.OUTBOX_LEASE_SECONDS },
    jobs: { leaseSeconds: env.JOB_LEASE_SECONDS },
    // DATA_ENCRYPTION_KEY is the one-key form of the ring (its id defaults to k1).
    dataEncryptionKeys:
      env.DATA_ENCRYPTION_KEYS.length > 0
        ? env.DATA_ENCRYPTION_KEYS
        : env.DATA_ENCRYPTION_KEY
          ? [env.DATA_ENCRYPTION_KEY.includes(':') ? env.DATA_ENCRYPTION_KEY : `k1:${env.DATA_ENCRYPTION_KEY}`]
          : [],
    rateLimits: {
      connectUrlPerMinute: env.RATE_LIMIT_CONNECT_URL_PER_MIN,
      ipPerMinute: env.RATE_LIMIT_IP_PER_MIN,
      authFailuresPerMinute: env.RATE_LIMIT_AUTH_FAILURES_PER_MIN,
      dataPerMinute: env.RATE_LIMIT_DATA_PER_MIN,
    },
    metricsToken: env.METRICS_TOKEN,
    sseHeartbeatSeconds: env.SSE_HEARTBEAT_SECONDS,
    readinessUcwCacheSeconds: env.READINESS_UCW_CACHE_SECONDS,
    shutdownTimeoutSeconds: env.SHUTDOWN_TIMEOUT_SECONDS,
  };
  return deepFreeze(config);
}

/** Settings that start but deserve a person's attention; main.ts logs each as a warning. */
export function startupWarnings(config: Config): string[] {
  if (config.env !== 'production') return [];
  const warnings: string[] = [];
  if (!config.publicUrl.startsWith('https://')) {
    warnings.push(`PUBLIC_URL is ${new URL(config.publicUrl).origin}, not https://: browsers send the auth cookie and connect links in clear text; terminate TLS in front and set PUBLIC_URL to the https URL`);
  }
  if (!config.metricsToken) warnings.push('METRICS_TOKEN is not set: GET /metrics is open to anyone who can reach the service');
  if (config.allowedOrigins.length === 0) warnings.push('ALLOWED_ORIGINS is empty: no browser frontend can use the service');
  return warnings;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
