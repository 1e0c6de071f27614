import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';

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
    expect(config.sandbox).toEqual({ enabled: true, port: 3001, version: 2 });
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
      expect.arrayContaining(['PORT', 'UCW_URL', 'ALLOWED_ORIGINS.0', 'UCW_BEARER_TOKEN']),
    );
    expect(problems).toHaveLength(4);
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
    const problems = problemsOf({ SESSION_SECRET: 'hunter2' });
    expect(problems).toEqual(['SESSION_SECRET.0: each secret must be at least 32 characters']);
  });
});
