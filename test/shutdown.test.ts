import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Pool } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_AUDIENCE, TEST_ISSUER, TEST_JWT_SECRET, userToken } from './helpers/jwt.js';
import { freePort, startService } from './helpers/process.js';
import { productionBuild, type ProductionCommand } from './helpers/production-build.js';

const dir = mkdtempSync(join(tmpdir(), 'ucw-bff-shutdown-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A v2 UCW whose `POST /widgetUrl` answers only when the test says so: a request held in flight. */
async function startHeldUcw() {
  const held: ServerResponse[] = [];
  let arrived: () => void = () => undefined;
  const firstArrival = new Promise<void>((resolve) => (arrived = resolve));
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      held.push(res);
      arrived();
    });
  });
  server.listen(0, '127.0.0.1');
  // A widget URL on the UCW's own origin: the BFF refuses any other.
  const widgetUrl = () => `http://127.0.0.1:${(server.address() as AddressInfo).port}/widget?token=t`;
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    firstArrival,
    release() {
      for (const res of held.splice(0)) res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ widgetUrl: widgetUrl() }));
    },
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

// The service as production runs it: built once per run (npm run build), started by start:prod.
let program: ProductionCommand;
beforeAll(async () => {
  program = await productionBuild();
}, 180_000);

describe('graceful shutdown under keep-alive load', () => {
  it('when SIGTERM arrives while keep-alive clients hammer it, then connections get Connection: close, the in-flight request and SSE stream finish, the database closes and it exits 0', async () => {
    const ucw = await startHeldUcw();
    const port = await freePort();
    const databasePath = join(dir, 'bff.sqlite');
    const service = startService(program, {
      NODE_ENV: 'test',
      PORT: String(port),
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      DATABASE_URL: `sqlite:${databasePath}`,
      UCW_URL: ucw.url,
      UCW_API_VERSION: '2',
      AUTH_JWT_SECRET: TEST_JWT_SECRET,
      AUTH_ISSUER: TEST_ISSUER,
      AUTH_AUDIENCE: TEST_AUDIENCE,
      ALLOWED_ORIGINS: 'https://app.platform.test',
      SESSION_SECRET: 's'.repeat(32),
      RATE_LIMIT_IP_PER_MIN: '1000000',
      // A budget a busy 2-core machine meets; the assertions below are about behaviour, not speed.
      SHUTDOWN_TIMEOUT_SECONDS: '60',
    });
    const base = `http://127.0.0.1:${port}`;
    // Pipelined keep-alive connections are never idle: only Connection: close ends them.
    const connections = 4;
    const pipelining = 2;
    const pool = new Pool(base, { connections, pipelining });
    const inFlightClient = new Client(base);
    try {
      await service.waitFor(/ucw-bff listening/, 30_000);
      const token = await userToken('alice');
      const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json', origin: 'https://app.platform.test' };

      // An SSE stream open at shutdown.
      const created = await pool.request({ path: '/connect-url', method: 'POST', headers: auth, body: JSON.stringify({ jobTypes: ['transactions'] }) });
      expect(created.statusCode).toBe(201);
      const { sessionId } = (await created.body.json()) as { sessionId: string };
      const stream = await fetch(`${base}/connect-sessions/${sessionId}/stream`, { headers: { authorization: `Bearer ${token}` } });
      const streamText = stream.text();

      // Keep-alive load: each worker sends requests back to back until the server stops answering.
      let signalled = false;
      const afterSignal: { connection: string | undefined }[] = [];
      let served = 0;
      let warmedUp: () => void = () => undefined;
      const warm = new Promise<void>((resolve) => (warmedUp = resolve));
      const worker = async () => {
        for (;;) {
          const sentAfterSignal = signalled;
          try {
            // An authenticated read: asynchronous work, so connections are busy (not idle) when SIGTERM lands.
            const res = await pool.request({ path: '/connections', method: 'GET', headers: { authorization: auth.authorization } });
            await res.body.dump();
            expect(res.statusCode).toBe(200);
            if (sentAfterSignal) afterSignal.push({ connection: res.headers.connection as string | undefined });
            if ((served += 1) >= 200) warmedUp();
          } catch (error) {
            // Before the signal every request must succeed; after it, refused connections end the load.
            if (!signalled) throw error;
            return;
          }
        }
      };
      const workers = Promise.all(Array.from({ length: connections * pipelining }, () => worker()));
      await warm;

      // A request in flight at SIGTERM: the UCW holds its answer.
      const inFlight = inFlightClient.request({
        path: '/connect-url',
        method: 'POST',
        headers: auth,
        body: JSON.stringify({ jobTypes: ['transactions'], embed: 'direct' }),
      });
      await ucw.firstArrival;

      service.child.kill('SIGTERM');
      await service.waitFor(/shutting down/, 30_000);
      signalled = true;

      // Every connection was closed after the requests already on it, and no new one was accepted.
      await workers;
      expect(afterSignal.length).toBeLessThanOrEqual(connections * pipelining);
      expect(afterSignal.every((res) => res.connection === 'close')).toBe(true);

      // The SSE stream ended with a reconnection hint.
      expect(await streamText).toMatch(/retry: \d+\n\n$/);

      // The held request still completes.
      ucw.release();
      const answer = await inFlight;
      expect(answer.statusCode).toBe(201);
      expect(((await answer.body.json()) as { url: string }).url).toBe(`${ucw.url}/widget?token=t`);

      const [code] = (await once(service.child, 'exit')) as [number | null];
      expect(code).toBe(0);
      expect(service.output()).toContain('shutdown complete');
      // SQLite removes its write-ahead log when the last connection closes cleanly.
      expect(existsSync(databasePath)).toBe(true);
      expect(existsSync(`${databasePath}-wal`)).toBe(false);
    } finally {
      await service.stop('SIGKILL');
      await pool.destroy();
      await inFlightClient.destroy();
      await ucw.close();
    }
  }, 120_000);
});
