/**
 * Runs durable jobs from the `jobs` table under the lease protocol shared with the outbox
 * (`lease.ts`: claim with SKIP LOCKED on PostgreSQL, heartbeat while a handler runs, outcome
 * fenced on the lease); everything a restart needs (attempts, next run, last error) is in the row.
 *
 * Delivery to handlers is at-least-once: a process dying mid-run leaves the job leased, and it
 * runs again when the lease lapses. Handlers must therefore be idempotent.
 */
import type { DatabaseHandle } from '../db/database.js';
import type { JobRow } from '../db/schema.js';
import type { Logger } from '../logger.js';
import { backoffDelayMs, type BackoffPolicy } from './backoff.js';
import type { JobKind } from './job.repository.js';
import { claimDue, holdLease, recordOutcome, type Lease, type LeaseOutcome } from './lease.js';
import { createPollingLoop, describe, type PollingLoop } from './polling-loop.js';

/** What a handler's run says: finished, or try again later (the reason is kept as `last_error`). */
export type JobOutcome = { done: true } | { retry: true; reason: string };

export interface JobHandler {
  /** One attempt. A throw counts as `{ retry: true, reason: error.message }`. */
  run(job: JobRow): Promise<JobOutcome>;
  /**
   * Called when a retry would land past `deadline_at`, before the job is marked `failed`
   * (e.g. mark the connection `needs_attention`). If it throws, the job stays pending and is
   * tried again after a backoff (run first, then this again), so it must be idempotent. It
   * runs outside any transaction: open your own.
   */
  onDeadline?(job: JobRow, lastReason: string): Promise<void>;
}

export interface JobRunnerOptions {
  database: DatabaseHandle;
  /** One handler per job kind. */
  handlers: Record<JobKind, JobHandler>;
  logger: Logger;
  clock?: () => Date;
  pollIntervalMs?: number;
  /** First retry waits up to this (full jitter). Default 2 s. */
  baseDelayMs?: number;
  /** Ceiling of one backoff delay. Default 60 s. */
  maxDelayMs?: number;
  random?: () => number;
  /** Jobs claimed per poll. Default 5. */
  batchSize?: number;
  /** How long a claim lasts; renewed every third of it while a handler runs. Default 60 s. */
  leaseMs?: number;
}

export type JobRunner = PollingLoop;

type JobResult = LeaseOutcome<'jobs'>;

export function createJobRunner(options: JobRunnerOptions): JobRunner {
  const { database, logger, handlers } = options;
  const clock = options.clock ?? (() => new Date());
  const leaseMs = options.leaseMs ?? 60_000;
  const batchSize = options.batchSize ?? 5;
  const backoff: BackoffPolicy = {
    baseDelayMs: options.baseDelayMs ?? 2_000,
    maxDelayMs: options.maxDelayMs ?? 60_000,
    random: options.random ?? Math.random,
  };

  async function attempt(handler: JobHandler, job: JobRow): Promise<JobOutcome> {
    try {
      return await handler.run(job);
    } catch (error) {
      // Only the message: the error object may hold request headers or other secrets.
      return { retry: true, reason: describe(error) };
    }
  }

  async function decide(job: JobRow): Promise<JobResult> {
    const attempts = job.attempts + 1;
    const handler = handlers[job.kind] as JobHandler | undefined;
    if (!handler) return { status: 'failed', attempts, lastError: `no handler for job kind ${job.kind}` };

    const outcome = await attempt(handler, job);
    if ('done' in outcome) return { status: 'done', attempts };

    const now = clock();
    const retryAt = new Date(now.getTime() + backoffDelayMs(attempts, backoff));
    if (retryAt.getTime() <= Date.parse(job.deadline_at)) return { status: 'pending', attempts, retryAt, lastError: outcome.reason };

    try {
      await handler.onDeadline?.({ ...job, attempts, last_error: outcome.reason }, outcome.reason);
      return { status: 'failed', attempts, lastError: outcome.reason };
    } catch (error) {
      logger.error({ jobId: job.id, kind: job.kind, error: describe(error) }, 'job deadline handler failed; will try again');
      return { status: 'pending', attempts, retryAt, lastError: outcome.reason };
    }
  }

  async function runJob(job: JobRow): Promise<void> {
    const held = holdLease(database, 'jobs', job, {
      leaseMs,
      clock,
      onError: (error) => logger.warn({ jobId: job.id, error: describe(error) }, 'renewing a job lease failed; will try again'),
    });
    let result: JobResult;
    let lease: Lease;
    try {
      result = await decide(job);
    } finally {
      lease = await held.release();
    }
    const recorded = await recordOutcome(database.db, 'jobs', lease, result, clock());
    const fields = { jobId: job.id, kind: job.kind, attempt: result.attempts };
    if (!recorded) logger.warn(fields, 'job lease lapsed before the result was written; another worker owns the job');
    else if (result.status === 'done') logger.info(fields, 'job done');
    else if (result.status === 'pending') logger.info({ ...fields, reason: result.lastError, runAt: result.retryAt.toISOString() }, 'job will retry');
    else logger.warn({ ...fields, reason: result.lastError }, 'job failed: deadline passed');
  }

  async function tick(): Promise<number> {
    const jobs = await claimDue(database, 'jobs', { now: clock(), leaseMs, limit: batchSize });
    const settled = await Promise.allSettled(jobs.map((job) => runJob(job)));
    for (const [index, outcome] of settled.entries()) {
      // The job stays leased and runs again when the lease lapses.
      if (outcome.status === 'rejected') logger.error({ jobId: jobs[index]?.id, error: describe(outcome.reason) }, 'recording a job result failed');
    }
    return jobs.length;
  }

  return createPollingLoop({ name: 'jobs', intervalMs: options.pollIntervalMs ?? 1000, tick, logger });
}
