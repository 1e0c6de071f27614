/**
 * Three product processes on one PostgreSQL database behind a round-robin proxy, with the sandbox
 * UCW and a platform webhook receiver on real loopback sockets. Proves what README "Running
 * several instances" promises: shared rate limits, SSE across instances, one delivery per state
 * change, one run per job, and a kill -9 that loses no acknowledged event and strands no work.
 */
import { once } from 'node:events';
import { Agent as HttpAgent, createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localAllowance } from '../src/http/rate-limit-store.postgres.js';
import { startSandboxUcw, type SandboxUcw } from '../src/sandbox/sandbox-ucw.js';
import { signWebhook } from '../src/lib/standard-webhooks.js';
import { createTestDatabase, testDialects, withSchemaLock, type TestDatabase } from './helpers/databases.js';
import { TEST_AUDIENCE, TEST_ISSUER, TEST_JWT_SECRET, userToken } from './helpers/jwt.js';
import { freePort, startService, type StartedProcess } from './helpers/process.js';
import { productionBuild } from './helpers/production-build.js';
import { openSse } from './helpers/sse.js';
import { startReceiver } from './outbox/webhook-receiver.js';

const INBOUND_SECRET = 'whsec_' + Buffer.from('inbound-secret-for-many-instances').toString('base64');
const PLATFORM_SECRET = 'whsec_' + Buffer.from('platform-secret-for-many-instances').toString('base64');
const ORIGIN = 'https://app.platform.test';
const CONNECT_URL_LIMIT = 20;
const OUTBOX_CONCURRENCY = 4;
const JOB_BATCH = 5;

/** Round-robin over the instances still listed as alive; an instance that fails mid-request yields a 502. */
async function startProxy(alive: () => number[]) {
  const agent = new HttpAgent({ keepAlive: true, maxSockets: 32 });
  let next = 0;
  const server = createServer((req, res) => {
    const ports = alive();
    const port = ports[next++ % ports.length]!;
    const upstream = httpRequest({ host: '127.0.0.1', port, method: req.method, path: req.url, headers: req.headers, agent }, (answer) => {
      res.writeHead(answer.statusCode!, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => (res.headersSent ? res.destroy() : res.writeHead(502).end()));
    req.pipe(upstream);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      agent.destroy();
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

describe.runIf(testDialects.includes('postgres'))('several instances on one PostgreSQL database', () => {
  let database: TestDatabase;
  let sandbox: SandboxUcw;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let proxy: Awaited<ReturnType<typeof startProxy>>;
  let client: Pool;
  const instances: { port: number; process: StartedProcess; alive: boolean }[] = [];

  beforeAll(async () => {
    // The service as production runs it: built once per run (npm run build), started by start:prod.
    const program = await productionBuild();
    database = await createTestDatabase('postgres');
    sandbox = await startSandboxUcw({ version: 2, port: 0 });
    receiver = await startReceiver(() => ({ status: 200, delayMs: 20 }));
    const ports = [await freePort(), await freePort(), await freePort()];
    proxy = await startProxy(() => instances.filter((i) => i.alive).map((i) => i.port));
    const url = new URL(process.env.TEST_DATABASE_URL!);
    url.searchParams.set('options', `-c search_path=${database.pgSchema}`);
    // Each process runs the (already applied) migrations at start-up; the schema lock keeps other
    // test files from dropping a schema while the migrator lists them.
    await withSchemaLock('postgres', async () => {
      for (const port of ports) {
        const service = startService(program, {
          NODE_ENV: 'test',
          LOG_LEVEL: 'info',
          PORT: String(port),
          PUBLIC_URL: proxy.url,
          DATABASE_URL: url.toString(),
          ALLOWED_ORIGINS: ORIGIN,
          AUTH_JWT_SECRET: TEST_JWT_SECRET,
          AUTH_ISSUER: TEST_ISSUER,
          AUTH_AUDIENCE: TEST_AUDIENCE,
          SESSION_SECRET: 's'.repeat(32),
          UCW_URL: sandbox.url,
          UCW_API_VERSION: '2',
          UCW_DATA_ENDPOINTS: 'true',
          WEBHOOK_SECRETS: INBOUND_SECRET,
          PLATFORM_WEBHOOK_URL: receiver.url,
          PLATFORM_WEBHOOK_SECRET: PLATFORM_SECRET,
          OUTBOX_CONCURRENCY: String(OUTBOX_CONCURRENCY),
          // Short leases: the killed instance's claims lapse within the test.
          OUTBOX_LEASE_SECONDS: '3',
          JOB_LEASE_SECONDS: '3',
          RATE_LIMIT_CONNECT_URL_PER_MIN: String(CONNECT_URL_LIMIT),
          RATE_LIMIT_IP_PER_MIN: '1000000',
        });
        instances.push({ port, process: service, alive: false });
      }
      await Promise.all(instances.map((i) => i.process.waitFor(/ucw-bff listening/, 60_000)));
    });
    for (const instance of instances) instance.alive = true;
    client = new Pool(proxy.url, { connections: 8 });
  }, 240_000);

  afterAll(async () => {
    await client?.close();
    for (const instance of instances) await instance.process.stop('SIGKILL');
    await proxy?.close();
    await receiver?.close();
    await sandbox?.close();
    await database?.destroy();
  });

  const authFor = async (userId: string) => ({ authorization: `Bearer ${await userToken(userId)}`, 'content-type': 'application/json', origin: ORIGIN });

  async function createSession(userId: string, base?: string): Promise<{ status: number; sessionId?: string }> {
    const headers = await authFor(userId);
    const body = JSON.stringify({ jobTypes: ['transactions'] });
    const res = base
      ? await request(`${base}/connect-url`, { method: 'POST', headers, body })
      : await client.request({ path: '/connect-url', method: 'POST', headers, body });
    const json = (await res.body.json().catch(() => ({}))) as { sessionId?: string };
    return { status: res.statusCode, ...(json.sessionId ? { sessionId: json.sessionId } : {}) };
  }

  /** POSTs a signed memberConnected; resolves with the status (2xx = acknowledged). */
  async function ingest(webhookId: string, userId: string, sessionId: string, member: { connectionId: string; aggregator: string; aggregatorUserId: string; institutionId: string }, base?: string) {
    const body = JSON.stringify({
      type: 'connect/memberConnected',
      userId,
      sessionId,
      metadata: { aggregator: member.aggregator, connectionId: member.connectionId, aggregatorUserId: member.aggregatorUserId, ucpInstitutionId: member.institutionId },
    });
    const headers = { 'content-type': 'application/json', ...signWebhook({ id: webhookId, timestamp: Date.now() / 1000, body, secret: INBOUND_SECRET }) };
    try {
      const res = base
        ? await request(`${base}/events`, { method: 'POST', headers, body })
        : await client.request({ path: '/events', method: 'POST', headers, body });
      await res.body.dump();
      return res.statusCode;
    } catch {
      return 0;
    }
  }

  it('when one user asks every instance for connect URLs, then the per-user limit holds across them', async () => {
    const statuses: number[] = [];
    const worker = async () => {
      while (statuses.length < 60) statuses.push((await createSession('greedy')).status);
    };
    // Windows are fixed wall-clock minutes: on a busy machine the burst may straddle two, each with its own limit.
    const minute = () => Math.floor(Date.now() / 60_000);
    const firstMinute = minute();
    await Promise.all(Array.from({ length: 6 }, worker));
    const windows = minute() - firstMinute + 1;
    const created = statuses.filter((s) => s === 201).length;
    expect(statuses.filter((s) => s !== 201 && s !== 429)).toEqual([]);
    expect(created).toBeGreaterThanOrEqual(CONNECT_URL_LIMIT);
    // The documented slack: each instance may admit its local allowance before it consults the shared count.
    expect(created).toBeLessThanOrEqual(windows * (CONNECT_URL_LIMIT + instances.length * localAllowance(CONNECT_URL_LIMIT)));
  }, 60_000);

  it('when a change is ingested on instance B, then an SSE client on instance A sees it, through verification', async () => {
    const [a, b] = instances.map((i) => `http://127.0.0.1:${i.port}`);
    const { sessionId } = await createSession('sse-user', a);
    const member = sandbox.members.create({ userId: 'sse-user' });
    const stream = await openSse(`${a}/connect-sessions/${sessionId}/stream`, { authorization: (await authFor('sse-user')).authorization });
    await stream.until((events) => events.some((e) => e.event === 'snapshot'));
    expect(await ingest('wh_sse', 'sse-user', sessionId!, member, b)).toBe(200);
    await stream.finished();
    expect(stream.events.map((e) => e.event)).toEqual(expect.arrayContaining(['snapshot', 'connected', 'verified', 'dataReady']));
  }, 60_000);

  it('when an instance is killed -9 mid-load, then no acknowledged event is lost, every webhook goes out once per change and every job runs once', async () => {
    const users = Array.from({ length: 40 }, (_, n) => `load-${n}`);
    const acknowledged = new Map<string, { sessionId: string; connectionId: string }>();
    let killed = false;
    let cursor = 0;
    const worker = async () => {
      while (cursor < users.length) {
        const userId = users[cursor++]!;
        let sessionId: string | undefined;
        while (!sessionId) sessionId = (await createSession(userId)).sessionId;
        const member = sandbox.members.create({ userId });
        // A client retries until acknowledged, as a platform backend would.
        while ((await ingest(`wh_${userId}`, userId, sessionId, member)) !== 200) await new Promise((resolve) => setTimeout(resolve, 50));
        acknowledged.set(userId, { sessionId, connectionId: member.connectionId });
        if (!killed && acknowledged.size >= 12) {
          killed = true;
          instances[2]!.process.child.kill('SIGKILL');
          instances[2]!.alive = false;
        }
      }
    };
    await Promise.all(Array.from({ length: 6 }, worker));
    expect(killed).toBe(true);
    expect(acknowledged.size).toBe(users.length);

    // Positive barrier: the survivors finish everything, including what the killed instance had claimed.
    const db = database.db;
    const settled = async () => {
      const connections = await db.selectFrom('connections').select(['verified', 'data_ready']).where('user_id', 'like', 'load-%').execute();
      const open = await db.selectFrom('outbox').select('id').where('status', '!=', 'delivered').execute();
      const jobs = await db.selectFrom('jobs').select('id').where('status', '!=', 'done').execute();
      return connections.length === users.length && connections.every((c) => c.verified && c.data_ready) && open.length === 0 && jobs.length === 0;
    };
    const deadline = Date.now() + 90_000;
    while (!(await settled())) {
      if (Date.now() > deadline) throw new Error('work did not settle');
      await new Promise((resolve) => setTimeout(resolve, 200));
    }

    // No acknowledged event lost: every session connected.
    const sessions = await db
      .selectFrom('connect_sessions')
      .select(['id', 'status'])
      .where('id', 'in', [...acknowledged.values()].map((a) => a.sessionId))
      .execute();
    expect(sessions).toHaveLength(users.length);
    expect(sessions.every((s) => s.status === 'connected')).toBe(true);

    // No outbox row stuck: all delivered and released.
    const outbox = await db.selectFrom('outbox').select(['id', 'type', 'payload', 'status', 'claimed_until']).execute();
    expect(outbox.every((row) => row.status === 'delivered' && row.claimed_until === null)).toBe(true);

    // One message per state change: connected, verified, data_ready per connection, each enqueued once.
    const perChange = new Map<string, number>();
    for (const row of outbox) {
      const { data } = JSON.parse(row.payload) as { data: { connection: { id: string } } };
      const change = `${row.type}:${data.connection.id}`;
      perChange.set(change, (perChange.get(change) ?? 0) + 1);
    }
    expect([...perChange.entries()].filter(([, count]) => count > 1)).toEqual([]);
    expect(new Set(outbox.map((row) => row.type))).toEqual(new Set(['connection.connected', 'connection.verified', 'connection.data_ready']));

    // Each message received; a second send only for what the killed instance had in flight (at-least-once).
    const received = new Map<string, number>();
    for (const receipt of receiver.receipts) {
      const id = String(receipt.headers['webhook-id']);
      received.set(id, (received.get(id) ?? 0) + 1);
    }
    expect([...received.keys()].sort()).toEqual(outbox.map((row) => row.id).sort());
    const resent = [...received.values()].filter((count) => count > 1);
    expect(resent.every((count) => count === 2)).toBe(true);
    expect(resent.length).toBeLessThanOrEqual(OUTBOX_CONCURRENCY);

    // Each verification job ran once (the accounts read), bar those the killed instance held.
    const reads = new Map<string, number>();
    for (const req of sandbox.requests) {
      if (!req.path.includes('accounts')) continue;
      const text = JSON.stringify(req);
      for (const { connectionId } of acknowledged.values()) if (text.includes(connectionId)) reads.set(connectionId, (reads.get(connectionId) ?? 0) + 1);
    }
    expect(reads.size).toBe(users.length);
    const rerun = [...reads.values()].filter((count) => count > 1);
    expect(rerun.every((count) => count === 2)).toBe(true);
    expect(rerun.length).toBeLessThanOrEqual(JOB_BATCH);
  }, 150_000);
});
