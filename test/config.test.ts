import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, serviceEnvironment, startupWarnings } from '../src/config.js';

const problemsOf = (env: Record<string, string>) => {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
};

describe('loadConfig', () => {
  it('when the environment is empty, then it yields the sandbox defaults', () => {
    const config = loadConfig({});
    expect(config.port).toBe(3000);
    expect(config.publicUrl).toBe('http://localhost:3000');
    expect(config.database).toEqual({ dialect: 'sqlite', path: './data/ucw-bff.sqlite' });
    expect(config.sandbox).toEqual({ enabled: true, host: '127.0.0.1', port: 3001, version: 2 });
    expect(config.logFormat).toBe('pretty');
    expect(config.auth.devLogin).toBe(true);
    expect(config.ucw.auth).toEqual({ mode: 'none' });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.ucw)).toBe(true);
  });

  it('when the SSE heartbeat and the readiness cache are not set, then 15 s and 10 s; set, they are read; out of range, named', () => {
    expect([loadConfig({}).sseHeartbeatSeconds, loadConfig({}).readinessUcwCacheSeconds]).toEqual([15, 10]);
    const set = loadConfig({ SSE_HEARTBEAT_SECONDS: '5', READINESS_UCW_CACHE_SECONDS: '0' });
    expect([set.sseHeartbeatSeconds, set.readinessUcwCacheSeconds]).toEqual([5, 0]);
    expect(problemsOf({ SSE_HEARTBEAT_SECONDS: '0', READINESS_UCW_CACHE_SECONDS: '-1' }).map((p) => p.split(':')[0]).sort()).toEqual([
      'READINESS_UCW_CACHE_SECONDS',
      'SSE_HEARTBEAT_SECONDS',
    ]);
  });

  it('when several variables are bad, then one error names every one of them', () => {
    const problems = problemsOf({ PORT: 'eighty', UCW_URL: 'ftp://x', ALLOWED_ORIGINS: 'https://a.test/path', UCW_AUTH: 'static' });
    expect(problems.map((p) => p.split(':')[0])).toEqual(
      expect.arrayContaining(['PORT', 'UCW_URL', 'ALLOWED_ORIGINS', 'UCW_BEARER_TOKEN']),
    );
    expect(problems).toHaveLength(4);
    // Said the way a person setting the variable thinks of it, not as a zod path.
    expect(problems).toContain('UCW_URL: must be an http:// or https:// URL');
    expect(problems).toContain('ALLOWED_ORIGINS: the 1st origin is not an origin (scheme://host[:port], no path): "https://a.test/path"');
  });

  it('when ALLOWED_REDIRECT_URIS holds a script, file or cleartext URI, then start-up fails naming the variable and each entry', () => {
    const problems = problemsOf({ ALLOWED_REDIRECT_URIS: 'https://app.test/done,javascript:alert(1),data:text/html;base64,PHNjcmlwdD4=,http://app.test/done,myapp://ok' });
    expect(problems).toEqual([
      'ALLOWED_REDIRECT_URIS: "javascript:alert(1)" the javascript: scheme is never allowed',
      'ALLOWED_REDIRECT_URIS: "data:text/html;base64" the data: scheme is never allowed',
      'ALLOWED_REDIRECT_URIS: "PHNjcmlwdD4=" is not an absolute URI',
      'ALLOWED_REDIRECT_URIS: "http://app.test/done" http: is allowed only for loopback hosts (use https:)',
    ]);
    expect(loadConfig({ ALLOWED_REDIRECT_URIS: 'https://app.test/done, myapp://ok,http://localhost:5173/cb' }).allowedRedirectUris).toEqual([
      'https://app.test/done',
      'myapp://ok',
      'http://localhost:5173/cb',
    ]);
    expect(problemsOf({ NODE_ENV: 'production', ALLOWED_REDIRECT_URIS: 'http://localhost:5173/cb' })).toContain(
      'ALLOWED_REDIRECT_URIS: "http://localhost:5173/cb" http: is not allowed in production (use https:)',
    );
  });

  it('when production lacks its secrets or enables the dev login, then it refuses to start', () => {
    const problems = problemsOf({ NODE_ENV: 'production', DEV_LOGIN: 'true' });
    const names = problems.map((p) => p.split(':')[0]);
    expect(names).toEqual(
      expect.arrayContaining(['SESSION_SECRET', 'DEV_LOGIN', 'UCW_URL', 'PUBLIC_URL', 'AUTH_JWKS_URL', 'AUTH_ISSUER', 'AUTH_AUDIENCE']),
    );
  });

  it('when production is configured completely, then the dev login and the sandbox are off', () => {
    const config = loadConfig({
      NODE_ENV: 'production',
      SESSION_SECRET: 'a'.repeat(32),
      UCW_URL: 'https://ucw.example.com/',
      PUBLIC_URL: 'https://bff.example.com',
      AUTH_JWKS_URL: 'https://idp.example.com/.well-known/jwks.json',
      AUTH_ISSUER: 'https://idp.example.com/',
      AUTH_AUDIENCE: 'bff',
      DATABASE_URL: 'postgres://u@db/bff',
    });
    expect(config.auth.devLogin).toBe(false);
    expect(config.sandbox.enabled).toBe(false);
    expect(config.ucw.url).toBe('https://ucw.example.com');
    expect(config.database).toEqual({ dialect: 'postgres', url: 'postgres://u@db/bff' });
  });

  it('when client_credentials is chosen, then its three settings are required', () => {
    const problems = problemsOf({ UCW_AUTH: 'client_credentials', UCW_URL: 'http://ucw.test' });
    expect(problems.map((p) => p.split(':')[0]).sort()).toEqual(['UCW_OAUTH_CLIENT_ID', 'UCW_OAUTH_CLIENT_SECRET', 'UCW_OAUTH_TOKEN_URL']);
  });

  it('when lists are given, then they are split, trimmed and validated', () => {
    const config = loadConfig({
      ALLOWED_ORIGINS: ' https://a.test , http://localhost:5173',
      SESSION_SECRET: `${'n'.repeat(32)},${'o'.repeat(32)}`,
      WEBHOOK_SECRETS: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
    });
    expect(config.allowedOrigins).toEqual(['https://a.test', 'http://localhost:5173']);
    expect(config.session.secrets).toEqual(['n'.repeat(32), 'o'.repeat(32)]);
    expect(config.webhooks.secrets).toHaveLength(1);
  });

  it('when a secret is too short, then the message names the variable but not the value', () => {
    expect(problemsOf({ SESSION_SECRET: 'hunter2' })).toEqual(['SESSION_SECRET: the 1st secret must be at least 32 characters']);
    expect(problemsOf({ SESSION_SECRET: `${'a'.repeat(32)},hunter2` })).toEqual(['SESSION_SECRET: the 2nd secret must be at least 32 characters']);
  });
});

describe('log format', () => {
  it('when nothing is set, then development logs are pretty and every other environment logs JSON', () => {
    expect(loadConfig({ NODE_ENV: 'development' }).logFormat).toBe('pretty');
    expect(loadConfig({ NODE_ENV: 'test', UCW_URL: 'http://ucw.test' }).logFormat).toBe('json');
    expect(loadConfig({ NODE_ENV: 'development', LOG_FORMAT: 'json' }).logFormat).toBe('json');
    expect(problemsOf({ LOG_FORMAT: 'xml' }).map((p) => p.split(':')[0])).toEqual(['LOG_FORMAT']);
  });
});

const production = {
  NODE_ENV: 'production',
  SESSION_SECRET: 'a'.repeat(32),
  UCW_URL: 'https://ucw.example.com',
  PUBLIC_URL: 'https://bff.example.com',
  AUTH_JWT_SECRET: 'j'.repeat(32),
  AUTH_ISSUER: 'https://idp.example.com/',
  AUTH_AUDIENCE: 'bff',
  ALLOWED_ORIGINS: 'https://app.example.com',
  METRICS_TOKEN: 'm'.repeat(16),
};

describe('start-up warnings', () => {
  it('when production is configured safely, then there is nothing to warn about', () => {
    expect(startupWarnings(loadConfig(production))).toEqual([]);
  });

  it('when production serves plain http, leaves /metrics open or admits no frontend, then each is a warning naming the variable', () => {
    const warnings = startupWarnings(loadConfig({ ...production, PUBLIC_URL: 'http://bff.example.com', METRICS_TOKEN: '', ALLOWED_ORIGINS: '' }));
    expect(warnings.map((w) => w.split(' ')[0])).toEqual(['PUBLIC_URL', 'METRICS_TOKEN', 'ALLOWED_ORIGINS']);
  });

  it('when not in production, then local http is expected and nothing is said', () => {
    expect(startupWarnings(loadConfig({}))).toEqual([]);
  });
});

describe('.env', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ucw-bff-env-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('when a .env file exists, then its variables apply and the process environment wins over it', () => {
    const file = join(dir, '.env');
    writeFileSync(file, '# comment\nPORT=4010\nexport LOG_LEVEL=debug\nPUBLIC_URL="http://from-file.test"\n');
    const env = serviceEnvironment(file, { PUBLIC_URL: 'http://from-environment.test' });
    expect(env).toEqual({ PORT: '4010', LOG_LEVEL: 'debug', PUBLIC_URL: 'http://from-environment.test' });
    const config = loadConfig(env);
    expect([config.port, config.logLevel, config.publicUrl]).toEqual([4010, 'debug', 'http://from-environment.test']);
  });

  it('when there is no .env file, then the environment is used as it is', () => {
    expect(serviceEnvironment(join(dir, 'missing.env'), { PORT: '1' })).toEqual({ PORT: '1' });
  });
});
