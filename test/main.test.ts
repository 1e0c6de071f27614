import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startService } from './helpers/process.js';
import { productionBuild, type ProductionCommand } from './helpers/production-build.js';
import { rawExchange } from './helpers/raw-http.js';

const dir = mkdtempSync(join(tmpdir(), 'ucw-bff-main-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// The service as production runs it: built once per run (npm run build), started by start:prod.
let program: ProductionCommand;
beforeAll(async () => {
  program = await productionBuild();
}, 180_000);

/**
 * `npm start` compiles src/ through tsx at start-up: seconds on a quiet machine, far more on a busy
 * 2-core one. The budget is for the slowest machine the suite runs on, not a timing assertion.
 */
const TSX_START_BUDGET_MS = 90_000;

describe('the service process', () => {
  it('when a variable is invalid, then start-up fails naming every bad variable and exits non-zero', async () => {
    const service = startService(program, { PORT: 'not-a-port', UCW_AUTH: 'static', UCW_URL: 'http://127.0.0.1:9' });
    const code = await new Promise<number | null>((resolve) => service.child.once('exit', resolve));
    expect(code).not.toBe(0);
    expect(service.output()).toContain('Invalid configuration');
    expect(service.output()).toContain('PORT');
    expect(service.output()).toContain('UCW_BEARER_TOKEN: required when UCW_AUTH=static');
  });

  it('when started, then it migrates the database, answers /healthz and /readyz, and stops cleanly on SIGTERM', async () => {
    const service = startService(program, {
      PORT: '0',
      DATABASE_URL: `sqlite:${join(dir, 'data', 'bff.sqlite')}`,
      UCW_URL: 'http://127.0.0.1:9',
      SESSION_SECRET: 's'.repeat(32),
    });
    try {
      const line = await service.waitFor(/ucw-bff listening/);
      const { port } = JSON.parse(line) as { port: number };
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
      const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
      expect(ready.status).toBe(200);
      const refused = await rawExchange(port, 'NOT HTTP\r\n\r\n');
      expect(refused.statusLine).toMatch(/^HTTP\/1\.1 400 /);
      expect(JSON.parse(refused.body)).toMatchObject({ code: 'malformed_request', status: 400 });
      // Logs are buffered (4 KiB or 100 ms): one request's access line still comes out while the process runs.
      expect((await fetch(`http://127.0.0.1:${port}/no-such-route`)).status).toBe(404);
      expect(JSON.parse(await service.waitFor(/"path":"\/no-such-route"/, 5_000))).toMatchObject({ msg: 'request completed', res: { statusCode: 404 } });
    } finally {
      expect(await service.stop()).toBe(0);
    }
    expect(service.output()).toContain('shutdown complete');
  });
});

describe('sandbox mode (npm start with no UCW_URL)', () => {
  it('when started with no UCW, then the simulator runs, a dev user gets a widget URL that works once, and SIGTERM ends an open stream', async () => {
    const port = await freePort();
    const service = startService(program, {
      PORT: String(port),
      SANDBOX_UCW_PORT: '0',
      DATABASE_URL: `sqlite:${join(dir, 'sandbox', 'bff.sqlite')}`,
    });
    try {
      expect(await service.waitFor(/SANDBOX MODE/)).toContain('ucwUrl');
      await service.waitFor(/ucw-bff listening/);
      const base = `http://127.0.0.1:${port}`;
      const ready = (await (await fetch(`${base}/readyz`)).json()) as { dependencies: Record<string, { status: string }> };
      expect(ready.dependencies.ucw!.status).toBe('up');

      const login = await fetch(`${base}/dev/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"userId":"alice"}' });
      const { token } = (await login.json()) as { token: string };
      const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
      const foreign = await fetch(`${base}/connect-url`, { method: 'POST', headers: auth, body: JSON.stringify({ jobTypes: ['transactions'], embed: 'direct', targetOrigin: 'http://localhost:1' }) });
      // The sandbox admits only the BFF's own origin by default.
      expect(foreign.status).toBe(400);
      const direct = await fetch(`${base}/connect-url`, {
        method: 'POST',
        headers: { ...auth, origin: `http://localhost:${port}` },
        body: JSON.stringify({ jobTypes: ['transactions'], embed: 'direct' }),
      });
      expect(direct.status).toBe(201);
      const { url, sessionId } = (await direct.json()) as { url: string; sessionId: string };
      const widget = url.replace('localhost', '127.0.0.1');
      const widgetPage = await fetch(widget);
      expect(widgetPage.status).toBe(200);
      // The simulator may be framed by the BFF's own origin, named once.
      expect(widgetPage.headers.get('content-security-policy')).toBe(`frame-ancestors http://localhost:${port}`);
      expect(await (await fetch(widget)).text()).toBe('token invalid or expired');

      // An open SSE stream must not hold shutdown up.
      const stream = await fetch(`${base}/connect-sessions/${sessionId}/stream`, { headers: { authorization: `Bearer ${token}` } });
      expect(stream.status).toBe(200);
      const reader = stream.body!.getReader();
      await reader.read();
      expect(await service.stop()).toBe(0);
    } finally {
      await service.stop();
    }
    // Not ended by the shutdown budget (which logs this and exits non-zero): the stream let go.
    expect(service.output()).not.toContain('shutdown took too long');
    expect(service.output()).toContain('shutdown complete');
  });
});

describe('npm start and .env', () => {
  it('when npm start gets SIGTERM, then the service itself shuts down (no orphaned child keeps serving)', async () => {
    const port = await freePort();
    const child = spawn('npm', ['start', '--silent'], {
      cwd: process.cwd(),
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', LOG_FORMAT: 'json', PORT: String(port), SANDBOX_UCW_PORT: '0', DATABASE_URL: `sqlite:${join(dir, 'npm', 'bff.sqlite')}` },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await expect.poll(() => output, { timeout: TSX_START_BUDGET_MS }).toContain('ucw-bff listening');
    const listening = JSON.parse(output.split('\n').find((line) => line.includes('ucw-bff listening')) ?? '{}') as { pid?: number };
    expect(listening.pid).toBeGreaterThan(0);
    expect(listening.pid).not.toBe(child.pid); // the service runs under npm, as a child of it
    child.kill('SIGTERM');
    await once(child, 'exit');
    expect(output).toContain('shutdown complete');
    // The service's own process is gone. (Not "nothing answers on the port": a test running in
    // parallel may bind the freed port the moment it is released.)
    expect(() => process.kill(listening.pid ?? 0, 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }));
  }, TSX_START_BUDGET_MS + 30_000);

  it('when the working directory has a .env, then the service reads it and the environment wins over it', async () => {
    const cwd = mkdtempSync(join(dir, 'dotenv-'));
    writeFileSync(
      join(cwd, '.env'),
      ['# as after cp .env.example .env', 'PORT=0', 'UCW_URL=http://127.0.0.1:9', `SESSION_SECRET=${'s'.repeat(32)}`, 'PUBLIC_URL=http://from-dotenv.test', 'DATABASE_URL=sqlite:./bff.sqlite'].join('\n'),
    );
    const service = startService(program, { PUBLIC_URL: 'http://from-environment.test' }, cwd);
    try {
      const listening = JSON.parse(await service.waitFor(/ucw-bff listening/)) as { url: string };
      // UCW_URL came from .env (no sandbox), PUBLIC_URL from the environment.
      expect(listening.url).toBe('http://from-environment.test');
      expect(service.output()).not.toContain('SANDBOX MODE');
    } finally {
      await service.stop();
    }
  });
});
