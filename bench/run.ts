/**
 * Throughput of the hot paths, as ratios against GET /healthz measured in the same run on the
 * same machine (absolute numbers mean little on a shared 2-core box). Loopback only, bounded
 * in requests and time, stops by itself. Run: `npm run bench` (BENCH_REQUESTS=2000 by default).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { Agent, request } from 'undici';
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { buildDependencies } from '../src/dependencies.js';
import { createLogger } from '../src/logger.js';

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 2000);
const CONCURRENCY = 16;
const SECRET = 'bench-secret-for-hs256-at-least-32-characters';

const dir = mkdtempSync(join(tmpdir(), 'ucw-bff-bench-'));
const config = loadConfig({
  NODE_ENV: 'test',
  LOG_LEVEL: 'silent',
  UCW_URL: 'http://127.0.0.1:9',
  UCW_API_VERSION: '2',
  DATABASE_URL: process.env.BENCH_DATABASE_URL ?? `sqlite:${join(dir, 'bench.sqlite')}`,
  AUTH_JWT_SECRET: SECRET,
  SESSION_SECRET: 'bench-session-secret-0123456789abcdef',
  RATE_LIMIT_CONNECT_URL_PER_MIN: '100000',
  RATE_LIMIT_IP_PER_MIN: '1000000',
  PUBLIC_URL: 'http://127.0.0.1:1',
});
const deps = await buildDependencies(config, createLogger({ level: 'silent' }));
const server = createApp(deps).listen(0, '127.0.0.1');
await new Promise((resolve) => server.once('listening', resolve));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
const agent = new Agent({ connections: CONCURRENCY, keepAliveTimeout: 10_000 });
const token = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('bench-user').setExpirationTime('1h').sign(new TextEncoder().encode(SECRET));
const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };

async function measure(
  name: string,
  make: (i: number) => { method: 'GET' | 'POST'; path: string; headers?: Record<string, string>; body?: string },
  expected: number,
  count = REQUESTS,
) {
  let next = 0;
  let failures = 0;
  const started = process.hrtime.bigint();
  const deadline = Date.now() + 60_000;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < count && Date.now() < deadline) {
        const i = next++;
        const spec = make(i);
        const res = await request(`${base}${spec.path}`, { method: spec.method, headers: spec.headers, body: spec.body, dispatcher: agent });
        await res.body.dump();
        if (res.statusCode !== expected) failures += 1;
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { name, rps: next / seconds, failures };
}

// Warm-up (JIT, connection pool, SQLite page cache) so the baseline is not measured cold.
await measure('warm-up', () => ({ method: 'GET', path: '/connections', headers: auth }), 200, 1000);
await measure('warm-up', () => ({ method: 'GET', path: '/healthz' }), 200, 1000);

const sessionUrls: string[] = [];
const results = [];
results.push(await measure('GET /healthz (baseline)', () => ({ method: 'GET', path: '/healthz' }), 200));
results.push(
  await measure('POST /connect-url (host embed)', () => ({ method: 'POST', path: '/connect-url', headers: auth, body: '{"jobTypes":["transactions"]}' }), 201),
);
for (let i = 0; i < 64; i += 1) {
  const res = await request(`${base}/connect-url`, { method: 'POST', headers: auth, body: '{"jobTypes":["transactions"]}', dispatcher: agent });
  const { url } = (await res.body.json()) as { url: string };
  const u = new URL(url);
  sessionUrls.push(`${u.pathname}/events${u.search}`);
}
results.push(
  await measure('POST /connect/:id/events (relay)', (i) => ({
    method: 'POST',
    path: sessionUrls[i % sessionUrls.length]!,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ type: 'connect/stepChange', metadata: { current: `step-${i}`, previous: 'x' } }),
  }), 200),
);
results.push(await measure('GET /connections', () => ({ method: 'GET', path: '/connections', headers: auth }), 200));

const baseline = results[0]!.rps;
const rss = process.memoryUsage().rss / 1024 / 1024;
console.log(`ucw-bff bench: ${REQUESTS} requests per route, concurrency ${CONCURRENCY}, ${config.database.dialect}`);
for (const r of results) {
  console.log(`${r.name.padEnd(36)} ${r.rps.toFixed(0).padStart(7)} req/s  ratio ${(r.rps / baseline).toFixed(2)}  failures ${r.failures}`);
}
console.log(`process RSS after run: ${rss.toFixed(0)} MiB`);

await agent.close();
await new Promise((resolve) => server.close(resolve));
await deps.close();
rmSync(dir, { recursive: true, force: true });
