import { Agent } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import type { DatabaseHandle } from '../../src/db/database.js';
import { claimDue } from '../../src/jobs/lease.js';
import { createMetrics, type Metrics } from '../../src/observability/metrics.js';
import { createOutboxDispatcher, type OutboxDispatcherOptions } from '../../src/outbox/outbox-dispatcher.js';
import { enqueueOutbox } from '../../src/outbox/outbox.repository.js';
import { verifyWebhook } from '../../src/lib/standard-webhooks.js';
import { createTestDatabase, testDialects, type TestDatabase } from '../helpers/databases.js';
import { captureLogs } from '../helpers/logs.js';
import { startReceiver } from './webhook-receiver.js';

const secret = 'whsec_' + Buffer.from('platform-webhook-secret-0123456789').toString('base64');
const start = new Date('2026-11-26T06:00:00.000Z');
const message = { type: 'connection.verified', data: { userId: 'user-1', connection: { id: 'conn_1', status: 'connected' } } };

describe.each(testDialects)('outbox dispatcher on %s', (dialect) => {
  let database: TestDatabase;
  let receiver: Awaited<ReturnType<typeof startReceiver>> | undefined;
  let agent: Agent;
  let now: Date;
  let metrics: Metrics;
  let logs: ReturnType<typeof captureLogs>;
  const cleanups: (() => Promise<void>)[] = [];

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    await agent?.close();
    await receiver?.close();
    receiver = undefined;
    await database?.destroy();
    // Cleared so a failed set-up in the next test does not destroy this database twice.
    database = undefined as never;
  });

  async function setUp(script?: Parameters<typeof startReceiver>[0]) {
    database = await createTestDatabase(dialect);
    receiver = await startReceiver(script);
    agent = new Agent();
    now = new Date(start);
    metrics = createMetrics();
    logs = captureLogs();
  }

  function dispatcher(overrides: Partial<OutboxDispatcherOptions> = {}) {
    const created = createOutboxDispatcher({
      database,
      url: overrides.url ?? receiver!.url,
      secret,
      logger: logs.logger,
      metrics,
      clock: () => now,
      baseDelayMs: 1000,
      maxDelayMs: 60_000,
      random: () => 0.5,
      pollIntervalMs: 5,
      dispatcher: agent,
      ...overrides,
    });
    cleanups.push(() => created.stop());
    return created;
  }

  const rows = (db: DatabaseHandle = database) => db.db.selectFrom('outbox').selectAll().orderBy('created_at').execute();
  const advance = (ms: number) => (now = new Date(now.getTime() + ms));
  const deliveries = async () =>
    Object.fromEntries((await metrics.outboxDeliveries.get()).values.map((value) => [value.labels.outcome, value.value]));
  const deadGauge = async () => (await metrics.outboxDead.get()).values[0]?.value;

  it('when enqueued, then a pending row holds the Standard Webhooks body and a msg_ id', async () => {
    await setUp();
    const id = await enqueueOutbox(database.db, message, now);
    expect(id).toMatch(/^msg_[\w-]{22}$/);
    const [row] = await rows();
    expect(row).toEqual({
      id,
      type: 'connection.verified',
      payload: JSON.stringify({ type: 'connection.verified', timestamp: start.toISOString(), data: message.data }),
      status: 'pending',
      attempts: 0,
      next_attempt_at: start.toISOString(),
      claimed_until: null,
      last_error: null,
      created_at: start.toISOString(),
      updated_at: start.toISOString(),
    });
  });

  it('when enqueued in a transaction that rolls back, then nothing is queued', async () => {
    await setUp();
    await expect(
      database.db.transaction().execute(async (trx) => {
        await enqueueOutbox(trx, message, now);
        throw new Error('state change failed');
      }),
    ).rejects.toThrow('state change failed');
    expect(await rows()).toEqual([]);
  });

  it('when the receiver fails twice then succeeds, then it accepts exactly one delivery, signed, with a stable webhook-id', async () => {
    await setUp((index) => ({ status: index < 2 ? 500 : 204 }));
    const id = await enqueueOutbox(database.db, message, now);
    const outbox = dispatcher();

    expect(await outbox.runOnce()).toBe(1);
    expect(await rows()).toMatchObject([{ status: 'pending', attempts: 1, last_error: 'HTTP 500', claimed_until: null }]);
    // Not due yet: random 0.5 of a 1 s window puts the retry 500 ms out.
    expect((await rows())[0]!.next_attempt_at).toBe(new Date(start.getTime() + 500).toISOString());
    expect(await outbox.runOnce()).toBe(0);

    advance(500);
    expect(await outbox.runOnce()).toBe(1);
    expect(await rows()).toMatchObject([{ status: 'pending', attempts: 2, last_error: 'HTTP 500' }]);
    advance(1000); // second retry: 0.5 of a 2 s window
    expect(await outbox.runOnce()).toBe(1);
    advance(3_600_000);
    expect(await outbox.runOnce()).toBe(0);

    const receipts = receiver!.receipts;
    expect(receipts.map((r) => r.status)).toEqual([500, 500, 204]);
    expect(new Set(receipts.map((r) => r.headers['webhook-id']))).toEqual(new Set([id]));
    const accepted = receipts[2]!;
    expect(accepted.headers['content-type']).toBe('application/json');
    expect(JSON.parse(accepted.body.toString('utf8'))).toEqual({ type: 'connection.verified', timestamp: start.toISOString(), data: message.data });
    // Each attempt is signed at its own time, so the last one verifies against the clock when it was sent.
    const sentAt = new Date(start.getTime() + 1500);
    expect(verifyWebhook({ headers: accepted.headers, rawBody: accepted.body, secrets: [secret], now: sentAt })).toEqual({
      id,
      timestamp: Math.floor(sentAt.getTime() / 1000),
    });
    const startSeconds = start.getTime() / 1000;
    expect(receipts.map((r) => Number(r.headers['webhook-timestamp']))).toEqual([startSeconds, startSeconds, startSeconds + 1]);

    expect(await rows()).toMatchObject([{ status: 'delivered', attempts: 3, last_error: null, claimed_until: null }]);
    expect(await deliveries()).toEqual({ retry: 2, delivered: 1 });
  });

  it('when the receiver sends Retry-After in seconds larger than the backoff, then the retry waits that long', async () => {
    await setUp((index) => (index === 0 ? { status: 503, headers: { 'retry-after': '120' } } : { status: 200 }));
    await enqueueOutbox(database.db, message, now);
    const outbox = dispatcher();
    await outbox.runOnce();
    expect((await rows())[0]!.next_attempt_at).toBe(new Date(start.getTime() + 120_000).toISOString());
    advance(119_999);
    expect(await outbox.runOnce()).toBe(0);
    advance(1);
    expect(await outbox.runOnce()).toBe(1);
    expect(await rows()).toMatchObject([{ status: 'delivered', attempts: 2 }]);
  });

  it('when the receiver sends Retry-After as an HTTP date, then the retry waits until then', async () => {
    const until = new Date(start.getTime() + 300_000);
    await setUp(() => ({ status: 429, headers: { 'retry-after': until.toUTCString() } }));
    await enqueueOutbox(database.db, message, now);
    await dispatcher().runOnce();
    expect(await rows()).toMatchObject([{ status: 'pending', attempts: 1, last_error: 'HTTP 429', next_attempt_at: until.toISOString() }]);
  });

  it('when Retry-After is shorter than the backoff, then the backoff wins', async () => {
    await setUp(() => ({ status: 503, headers: { 'retry-after': '1' } }));
    await enqueueOutbox(database.db, message, now);
    await dispatcher({ baseDelayMs: 10_000 }).runOnce();
    expect((await rows())[0]!.next_attempt_at).toBe(new Date(start.getTime() + 5_000).toISOString());
  });

  it('when the receiver answers 410, then the message is dead, never retried, logged and counted', async () => {
    await setUp(() => ({ status: 410 }));
    const id = await enqueueOutbox(database.db, message, now);
    const outbox = dispatcher();
    expect(await outbox.runOnce()).toBe(1);
    advance(7 * 24 * 3_600_000);
    expect(await outbox.runOnce()).toBe(0);
    expect(receiver!.receipts).toHaveLength(1);
    expect(await rows()).toMatchObject([{ status: 'dead', attempts: 1, claimed_until: null }]);
    expect((await rows())[0]!.last_error).toContain('410');
    expect(await deliveries()).toEqual({ gone: 1 });
    expect(await deadGauge()).toBe(1);
    const line = logs.lines().map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.messageId === id && l.level === 50);
    expect(line?.msg).toMatch(/410/);
  });

  it('when every attempt fails, then after maxAttempts the message is dead, logged at error without secrets, and the gauge says so', async () => {
    await setUp(() => ({ status: 500 }));
    const id = await enqueueOutbox(database.db, message, now);
    await enqueueOutbox(database.db, { ...message, type: 'connection.deleted' }, now);
    const outbox = dispatcher({ maxAttempts: 3 });
    for (let attempt = 0; attempt < 5; attempt += 1) {
      await outbox.runOnce();
      advance(3_600_000);
    }
    expect(receiver!.receipts).toHaveLength(6);
    expect(await rows()).toMatchObject([
      { status: 'dead', attempts: 3, last_error: 'HTTP 500' },
      { status: 'dead', attempts: 3, last_error: 'HTTP 500' },
    ]);
    expect(await deliveries()).toEqual({ retry: 4, dead: 2 });
    expect(await deadGauge()).toBe(2);

    const errors = logs.lines().map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.level === 50);
    expect(errors).toHaveLength(2);
    expect(errors.find((line) => line.messageId === id)).toMatchObject({ type: 'connection.verified', attempt: 3, error: 'HTTP 500' });
    const text = logs.text();
    expect(text).not.toContain(secret.slice('whsec_'.length));
    for (const receipt of receiver!.receipts) expect(text).not.toContain(String(receipt.headers['webhook-signature']).slice(3));
    expect(text).not.toContain(receiver!.url);
  });

  it('when the dispatcher starts, then the dead-letter gauge reflects rows dead before this process', async () => {
    await setUp();
    await enqueueOutbox(database.db, message, now);
    await database.db.updateTable('outbox').set({ status: 'dead' }).execute();
    const outbox = dispatcher();
    outbox.start();
    await outbox.stop();
    expect(await deadGauge()).toBe(1);
  });

  it('when the receiver is unreachable or too slow, then the attempt is a retry naming the failure', async () => {
    await setUp(() => 'hang');
    await enqueueOutbox(database.db, message, now);
    await dispatcher({ fetchTimeoutMs: 150 }).runOnce();
    expect(await rows()).toMatchObject([{ status: 'pending', attempts: 1, last_error: 'timed out after 150 ms' }]);

    const url = receiver!.url;
    await receiver!.close();
    receiver = undefined;
    advance(3_600_000);
    await dispatcher({ url }).runOnce();
    expect(await rows()).toMatchObject([{ status: 'pending', attempts: 2, last_error: 'transport error ECONNREFUSED' }]);
  });

  it('when a dispatcher is stopped mid-retry, then a new dispatcher over the same database delivers the message', async () => {
    await setUp((index) => ({ status: index === 0 ? 502 : 200 }));
    const id = await enqueueOutbox(database.db, message, now);
    const first = dispatcher();
    await first.runOnce();
    await first.stop();

    advance(60_000);
    const second = dispatcher();
    expect(await second.runOnce()).toBe(1);
    expect(receiver!.receipts.map((r) => [r.status, r.headers['webhook-id']])).toEqual([
      [502, id],
      [200, id],
    ]);
    expect(await rows()).toMatchObject([{ status: 'delivered', attempts: 2 }]);
  });

  it('when a process died holding a claim, then the message is retried once the lease lapses, not before', async () => {
    await setUp();
    await enqueueOutbox(database.db, message, now);
    // The "crashed" process: claimed, never wrote an outcome.
    await claimDue(database, 'outbox', { now, leaseMs: 30_000, limit: 10 });
    const survivor = dispatcher();
    advance(29_999);
    expect(await survivor.runOnce()).toBe(0);
    advance(2);
    expect(await survivor.runOnce()).toBe(1);
    expect(receiver!.receipts).toHaveLength(1);
    expect(await rows()).toMatchObject([{ status: 'delivered', attempts: 1, claimed_until: null }]);
  });

  it('when started, then it polls and delivers, and stop() waits for the delivery in flight', async () => {
    await setUp(() => ({ status: 200, delayMs: 100 }));
    await enqueueOutbox(database.db, message, now);
    const outbox = dispatcher();
    outbox.start();
    while (receiver!.receipts.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    await outbox.stop();
    expect(await rows()).toMatchObject([{ status: 'delivered', attempts: 1 }]);
  });

  it('when the receiver answers slowly, then deliveries overlap up to the concurrency limit and each message is delivered once', async () => {
    let current = 0;
    let highest = 0;
    await setUp((_index, res) => {
      current += 1;
      highest = Math.max(highest, current);
      res.on('finish', () => (current -= 1));
      return { status: 200, delayMs: 100 };
    });
    const ids = await Promise.all(Array.from({ length: 30 }, (_, n) => enqueueOutbox(database.db, { ...message, data: { n } }, now)));
    const outbox = dispatcher({ concurrency: 4 });
    outbox.start();
    // Positive barrier: every row recorded as delivered.
    while ((await rows()).some((row) => row.status !== 'delivered')) await new Promise((resolve) => setTimeout(resolve, 20));
    await outbox.stop();

    expect(highest).toBeGreaterThan(1);
    expect(highest).toBeLessThanOrEqual(4);
    const delivered = receiver!.receipts.map((receipt) => String(receipt.headers['webhook-id']));
    expect(delivered.sort()).toEqual([...ids].sort());
    expect(await rows()).toHaveLength(30);
    expect((await rows()).every((row) => row.attempts === 1 && row.claimed_until === null)).toBe(true);
  });
});

describe.runIf(testDialects.includes('postgres'))('outbox dispatcher across processes on postgres', () => {
  it('when two dispatchers with their own pools run concurrently, then each message is delivered exactly once', async () => {
    const { createDatabase } = await import('../../src/db/database.js');
    const database = await createTestDatabase('postgres');
    const other = await createDatabase({ dialect: 'postgres', url: process.env.TEST_DATABASE_URL! }, { pgSchema: database.pgSchema!, poolSize: 5 });
    const receiver = await startReceiver(() => ({ status: 200, delayMs: 10 }));
    const agent = new Agent();
    try {
      const now = new Date(start);
      const ids = await Promise.all(Array.from({ length: 20 }, (_, n) => enqueueOutbox(database.db, { ...message, data: { n } }, now)));
      const common = { url: receiver.url, secret, logger: captureLogs().logger, clock: () => now, dispatcher: agent, batchSize: 3 };
      const a = createOutboxDispatcher({ ...common, database, metrics: createMetrics() });
      const b = createOutboxDispatcher({ ...common, database: other, metrics: createMetrics() });
      const drain = async (dispatcher: typeof a) => {
        let attempted = 0;
        for (let n = await dispatcher.runOnce(); n > 0; n = await dispatcher.runOnce()) attempted += n;
        return attempted;
      };
      const [byA, byB] = await Promise.all([drain(a), drain(b)]);

      expect(byA + byB).toBe(20);
      expect(byA).toBeGreaterThan(0);
      expect(byB).toBeGreaterThan(0);
      const counts = new Map<string, number>();
      for (const receipt of receiver.receipts) {
        const id = String(receipt.headers['webhook-id']);
        counts.set(id, (counts.get(id) ?? 0) + 1);
      }
      expect([...counts.keys()].sort()).toEqual([...ids].sort());
      expect([...counts.values()].every((count) => count === 1)).toBe(true);
      const statuses = await database.db.selectFrom('outbox').select('status').distinct().execute();
      expect(statuses).toEqual([{ status: 'delivered' }]);
    } finally {
      await agent.close();
      await receiver.close();
      await other.close();
      await database.destroy();
    }
  });
});
