/**
 * Delivers outbox rows to the platform's webhook URL, signed per Standard Webhooks.
 *
 * State lives only in the `outbox` table: a row is claimed under a lease (the protocol shared
 * with the job runner in `jobs/lease.ts`, `FOR UPDATE SKIP LOCKED` on PostgreSQL, so several BFF processes never send the same attempt),
 * posted outside any transaction, and its outcome written fenced on that lease. A crash
 * mid-delivery leaves the row claimed until the lease lapses; it is then retried. Receivers see
 * at-least-once delivery and deduplicate on `webhook-id`, which is the row id on every attempt.
 *
 * Throughput: up to `concurrency` deliveries are in flight at once, over one keep-alive pool to
 * the receiver. A poll claims only as many rows as there are free slots (so no claimed row waits
 * for a slot while its lease runs), and a finished delivery frees its slot for the next poll at
 * once: one slow receiver answer never holds up a whole batch.
 */
import { Agent, request, type Dispatcher } from '../lib/undici.js';
import type { DatabaseHandle } from '../db/database.js';
import type { OutboxRow } from '../db/schema.js';
import { backoffDelayMs, type BackoffPolicy } from '../jobs/backoff.js';
import { claimDue, recordOutcome, type LeaseOutcome } from '../jobs/lease.js';
import { createPollingLoop, describe, type PollingLoop } from '../jobs/polling-loop.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../observability/metrics.js';
import { deadline } from '../lib/deadline.js';
import { signWebhook } from '../lib/standard-webhooks.js';
import { countDeadOutbox } from './outbox.repository.js';
import { retryAfterMs } from '../lib/retry-after.js';

export interface OutboxDispatcherOptions {
  database: DatabaseHandle;
  /** PLATFORM_WEBHOOK_URL. Never logged: it may carry a token. */
  url: string;
  /** PLATFORM_WEBHOOK_SECRET (`whsec_…`). Never logged. */
  secret: string;
  logger: Logger;
  metrics: Metrics;
  clock?: () => Date;
  /** Total deadline of one attempt (connect, headers and body). Default 10 s. */
  fetchTimeoutMs?: number;
  /** Attempts before a message is dead-lettered. Default 12. */
  maxAttempts?: number;
  /** First retry waits up to this (full jitter). Default 30 s. */
  baseDelayMs?: number;
  /** Ceiling of one backoff delay. Default 6 h. */
  maxDelayMs?: number;
  /** A Retry-After larger than backoff is honoured up to this. Default 24 h. */
  maxRetryAfterMs?: number;
  pollIntervalMs?: number;
  /** Deliveries in flight at most (OUTBOX_CONCURRENCY). Default 16. */
  concurrency?: number;
  /** Messages claimed per poll at most (never more than the free slots). Default `concurrency`. */
  batchSize?: number;
  /** How long a claim lasts; must exceed one attempt, which `fetchTimeoutMs` bounds, so no heartbeat is needed. Default fetchTimeoutMs * 3. */
  leaseMs?: number;
  random?: () => number;
  /** Default: a keep-alive pool of `concurrency` connections, closed by `stop`. Tests pass their own. */
  dispatcher?: Dispatcher;
}

/** `start`/`stop` belong to main.ts; `stop` waits for deliveries in flight (SPEC §11 "flush the outbox"). */
export type OutboxDispatcher = PollingLoop;

/** Counter label values of `ucw_bff_outbox_deliveries_total{outcome}`. */
export type DeliveryOutcome = 'delivered' | 'retry' | 'gone' | 'dead';

type DeliveryResult = LeaseOutcome<'outbox'>;

export function createOutboxDispatcher(options: OutboxDispatcherOptions): OutboxDispatcher {
  const { database, logger, metrics } = options;
  const clock = options.clock ?? (() => new Date());
  const fetchTimeoutMs = options.fetchTimeoutMs ?? 10_000;
  const maxAttempts = options.maxAttempts ?? 12;
  const maxRetryAfterMs = options.maxRetryAfterMs ?? 24 * 60 * 60 * 1000;
  const leaseMs = options.leaseMs ?? fetchTimeoutMs * 3;
  const concurrency = Math.max(1, options.concurrency ?? 16);
  const batchSize = options.batchSize ?? concurrency;
  const ownPool = options.dispatcher ? undefined : new Agent({ connections: concurrency, keepAliveTimeout: 30_000 });
  const dispatcher = options.dispatcher ?? ownPool!;
  const backoff: BackoffPolicy = {
    baseDelayMs: options.baseDelayMs ?? 30_000,
    maxDelayMs: options.maxDelayMs ?? 6 * 60 * 60 * 1000,
    random: options.random ?? Math.random,
  };

  // Deliveries dying together refresh it concurrently, and a count started earlier (seeing fewer
  // dead) may answer later: only a count started after the one last shown replaces it.
  let refreshesStarted = 0;
  let refreshShown = 0;
  const refreshDeadGauge = async () => {
    const started = (refreshesStarted += 1);
    const dead = await countDeadOutbox(database.db);
    if (started < refreshShown) return;
    refreshShown = started;
    metrics.outboxDead.set(dead);
  };

  /** One POST; resolves with the HTTP status and Retry-After, or a transport failure description. */
  async function post(row: OutboxRow): Promise<{ status: number; retryAfter: string | undefined } | { failure: string }> {
    const signed = signWebhook({ id: row.id, timestamp: Math.floor(clock().getTime() / 1000), body: row.payload, secret: options.secret });
    const { signal, clear } = deadline(fetchTimeoutMs);
    try {
      const response = await request(options.url, {
        method: 'POST',
        dispatcher,
        headers: { 'content-type': 'application/json', 'user-agent': 'ucw-bff', ...signed },
        body: row.payload,
        signal,
        headersTimeout: fetchTimeoutMs,
        bodyTimeout: fetchTimeoutMs,
      });
      // The receiver's answer body means nothing to us; drain it (capped) so the socket is reused.
      await response.body.dump({ limit: 64 * 1024 }).catch(() => undefined);
      const retryAfter = response.headers['retry-after'];
      return { status: response.statusCode, retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter };
    } catch (error) {
      return { failure: signal.aborted ? `timed out after ${fetchTimeoutMs} ms` : transportFailure(error) };
    } finally {
      clear();
    }
  }

  function decide(row: OutboxRow, answer: Awaited<ReturnType<typeof post>>, now: Date): { result: DeliveryResult; outcome: DeliveryOutcome } {
    const attempts = row.attempts + 1;
    if ('status' in answer && answer.status >= 200 && answer.status < 300) {
      return { result: { status: 'delivered', attempts }, outcome: 'delivered' };
    }
    if ('status' in answer && answer.status === 410) {
      return { result: { status: 'dead', attempts, lastError: 'HTTP 410: the receiver disabled this endpoint' }, outcome: 'gone' };
    }
    const lastError = 'status' in answer ? `HTTP ${answer.status}` : answer.failure;
    if (attempts >= maxAttempts) return { result: { status: 'dead', attempts, lastError }, outcome: 'dead' };
    const backoffMs = backoffDelayMs(attempts, backoff);
    const askedMs = 'status' in answer ? retryAfterMs(answer.retryAfter, now) : undefined;
    const delayMs = askedMs !== undefined && askedMs > backoffMs ? Math.min(askedMs, maxRetryAfterMs) : backoffMs;
    return { result: { status: 'pending', attempts, lastError, retryAt: new Date(now.getTime() + delayMs) }, outcome: 'retry' };
  }

  /**
   * Outcomes wait here and are written together, one transaction for all that finished meanwhile:
   * a commit per delivery (an fsync each on SQLite) would otherwise cap the delivery rate.
   */
  const outcomes: Array<{ row: OutboxRow; result: DeliveryResult; now: Date; done: (recorded: boolean) => void; fail: (error: unknown) => void }> = [];
  let writing = false;
  const writeOutcomes = async () => {
    if (writing) return;
    writing = true;
    try {
      while (outcomes.length > 0) {
        const batch = outcomes.splice(0);
        try {
          const recorded = await database.db.transaction().execute(async (trx) => {
            const each: boolean[] = [];
            for (const item of batch) each.push(await recordOutcome(trx, 'outbox', item.row, item.result, item.now));
            return each;
          });
          batch.forEach((item, index) => item.done(recorded[index]!));
        } catch (error) {
          for (const item of batch) item.fail(error);
        }
      }
    } finally {
      writing = false;
    }
  };
  const record = (row: OutboxRow, result: DeliveryResult, now: Date) =>
    new Promise<boolean>((done, fail) => {
      outcomes.push({ row, result, now, done, fail });
      void writeOutcomes();
    });

  async function deliver(row: OutboxRow): Promise<void> {
    if (row.attempts === 0) metrics.outboxFirstAttemptLag.observe(Math.max(0, clock().getTime() - Date.parse(row.created_at)) / 1000);
    const answer = await post(row);
    const now = clock();
    const { result, outcome } = decide(row, answer, now);
    const recorded = await record(row, result, now);
    metrics.outboxDeliveries.inc({ outcome });
    const fields = { messageId: row.id, type: row.type, attempt: result.attempts };
    if (!recorded) {
      logger.warn(fields, 'outbox lease lapsed before the outcome was written; another worker owns the message');
      return;
    }
    if (result.status === 'delivered') logger.info(fields, 'platform webhook delivered');
    else if (result.status === 'pending') logger.warn({ ...fields, error: result.lastError, nextAttemptAt: result.retryAt.toISOString() }, 'platform webhook failed; will retry');
    else {
      const reason = outcome === 'gone' ? 'receiver answered 410 Gone' : `gave up after ${result.attempts} attempts`;
      logger.error({ ...fields, error: result.lastError }, `platform webhook dead-lettered: ${reason}`);
      await refreshDeadGauge();
    }
  }

  const inFlight = new Set<Promise<void>>();

  function launch(row: OutboxRow): void {
    const delivery = deliver(row).catch((error: unknown) => {
      // The row stays claimed and is retried when its lease lapses.
      logger.error({ messageId: row.id, error: describe(error) }, 'recording an outbox delivery failed');
    });
    inFlight.add(delivery);
    void delivery.finally(() => inFlight.delete(delivery));
  }

  // Claims go in batches too (one transaction each): with deliveries running, wait until a quarter of the slots are free.
  const claimAtFree = Math.max(1, Math.min(batchSize, Math.ceil(concurrency / 4)));

  /** Claims as many due rows as there are free slots and starts them; with too few slots free, waits for one to free. */
  async function tick(): Promise<number> {
    if (inFlight.size > 0 && concurrency - inFlight.size < claimAtFree) {
      await Promise.race(inFlight);
      // A slot is free: poll again at once.
      return 1;
    }
    const rows = await claimDue(database, 'outbox', { now: clock(), leaseMs, limit: Math.min(batchSize, concurrency - inFlight.size) });
    for (const row of rows) launch(row);
    return rows.length;
  }

  const drain = async () => {
    while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
  };

  const loop = createPollingLoop({ name: 'outbox', intervalMs: options.pollIntervalMs ?? 1000, tick, logger, onStart: refreshDeadGauge });
  return {
    start: () => loop.start(),
    // Deliveries already started finish (and record their outcome) before the pool closes.
    async stop() {
      await loop.stop();
      await drain();
      if (ownPool && !ownPool.closed) await ownPool.close();
    },
    async runOnce() {
      const claimed = await tick();
      await drain();
      return claimed;
    },
  };
}

/** An error code (ECONNREFUSED, UND_ERR_SOCKET…) rather than the message, which can name the host and port. */
function transportFailure(error: unknown): string {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current && typeof current === 'object'; depth += 1) {
    const { code, cause } = current as { code?: unknown; cause?: unknown };
    if (typeof code === 'string') return `transport error ${code}`;
    current = cause;
  }
  return 'transport error';
}
