import { afterEach, describe, expect, it, vi } from 'vitest';
import type { JobRow } from '../../src/db/schema.js';
import { createJobRunner, type JobHandler, type JobOutcome, type JobRunnerOptions } from '../../src/jobs/job-runner.js';
import { enqueueJob } from '../../src/jobs/job.repository.js';
import { createTestDatabase, testDialects, type TestDatabase } from '../helpers/databases.js';
import { captureLogs } from '../helpers/logs.js';

const start = new Date('2026-11-26T06:00:00.000Z');
const at = (offsetMs: number) => new Date(start.getTime() + offsetMs);

/** A handler answering from a script, recording what it was called with. */
function scripted(outcomes: (JobOutcome | Error)[]) {
  const runs: JobRow[] = [];
  const deadlines: [JobRow, string][] = [];
  const handler: JobHandler = {
    run: async (job) => {
      runs.push(job);
      const next = outcomes[runs.length - 1] ?? { done: true };
      if (next instanceof Error) throw next;
      return next;
    },
    onDeadline: async (job, reason) => {
      deadlines.push([job, reason]);
    },
  };
  return { handler, runs, deadlines };
}

describe.each(testDialects)('job runner on %s', (dialect) => {
  let database: TestDatabase;
  let now: Date;
  let logs: ReturnType<typeof captureLogs>;
  const runners: { stop(): Promise<void> }[] = [];

  afterEach(async () => {
    for (const runner of runners.splice(0)) await runner.stop();
    await database?.destroy();
    // Cleared so a failed set-up in the next test does not destroy this database twice.
    database = undefined as never;
  });

  async function setUp() {
    database = await createTestDatabase(dialect);
    now = new Date(start);
    logs = captureLogs();
  }

  function runner(handler: JobHandler, overrides: Partial<JobRunnerOptions> = {}) {
    const created = createJobRunner({
      database,
      handlers: { verify_connection: handler },
      logger: logs.logger,
      clock: () => now,
      baseDelayMs: 1_000,
      maxDelayMs: 8_000,
      random: () => 0.5,
      pollIntervalMs: 5,
      ...overrides,
    });
    runners.push(created);
    return created;
  }

  const enqueue = (deadlineMs = 60_000) =>
    enqueueJob(database.db, { kind: 'verify_connection', subjectId: 'conn_1', runAt: now, deadlineAt: at(deadlineMs) }, now);
  const rows = () => database.db.selectFrom('jobs').selectAll().execute();

  it('when a job is enqueued, then it is stored pending with its schedule', async () => {
    await setUp();
    const id = await enqueueJob(database.db, { kind: 'verify_connection', subjectId: 'conn_1', runAt: at(5_000), deadlineAt: at(600_000) }, now);
    expect(id).toMatch(/^job_[\w-]{22}$/);
    expect(await rows()).toEqual([
      {
        id,
        kind: 'verify_connection',
        subject_id: 'conn_1',
        status: 'pending',
        attempts: 0,
        run_at: at(5_000).toISOString(),
        deadline_at: at(600_000).toISOString(),
        claimed_until: null,
        last_error: null,
        created_at: start.toISOString(),
        updated_at: start.toISOString(),
      },
    ]);
  });

  it('when the handler finishes, then the job is done and not run again', async () => {
    await setUp();
    const id = await enqueue();
    const { handler, runs, deadlines } = scripted([{ done: true }]);
    const jobs = runner(handler);
    expect(await jobs.runOnce()).toBe(1);
    now = at(3_600_000);
    expect(await jobs.runOnce()).toBe(0);
    expect(runs.map((job) => [job.id, job.subject_id, job.attempts])).toEqual([[id, 'conn_1', 0]]);
    expect(deadlines).toEqual([]);
    expect(await rows()).toMatchObject([{ status: 'done', attempts: 1, last_error: null, claimed_until: null }]);
  });

  it('when not due yet, then it does not run', async () => {
    await setUp();
    await enqueueJob(database.db, { kind: 'verify_connection', subjectId: 'conn_1', runAt: at(1), deadlineAt: at(60_000) }, now);
    const { handler, runs } = scripted([]);
    expect(await runner(handler).runOnce()).toBe(0);
    expect(runs).toEqual([]);
  });

  it('when the handler asks to retry and later finishes, then it is rescheduled with backoff and ends done', async () => {
    await setUp();
    await enqueue();
    const { handler, runs } = scripted([{ retry: true, reason: 'no accounts yet' }, new Error('UCW timed out'), { done: true }]);
    const jobs = runner(handler);

    await jobs.runOnce();
    expect(await rows()).toMatchObject([{ status: 'pending', attempts: 1, last_error: 'no accounts yet', run_at: at(500).toISOString() }]);
    expect(await jobs.runOnce()).toBe(0);
    now = at(500);
    await jobs.runOnce();
    // The throw counts as a retry; the second window is 2 s, half of it is 1 s.
    expect(await rows()).toMatchObject([{ status: 'pending', attempts: 2, last_error: 'UCW timed out', run_at: at(1_500).toISOString() }]);
    now = at(1_500);
    await jobs.runOnce();
    expect(await rows()).toMatchObject([{ status: 'done', attempts: 3, last_error: null }]);
    expect(runs.map((job) => job.attempts)).toEqual([0, 1, 2]);
  });

  it('when the handler throws, then the retry is logged with the message only, never the error object', async () => {
    await setUp();
    const id = await enqueue();
    const error = new Error('UCW answered 503', { cause: { headers: { authorization: 'Bearer m2m-token-secret' } } });
    await runner(scripted([error]).handler).runOnce();
    const text = logs.text();
    expect(text).not.toContain('m2m-token-secret');
    const line = logs.lines().map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.jobId === id);
    expect(line).toMatchObject({ msg: 'job will retry', reason: 'UCW answered 503', attempt: 1 });
  });

  it('when the next retry would pass the deadline, then the job fails and the deadline handler runs exactly once', async () => {
    await setUp();
    const id = await enqueue(2_000);
    const { handler, runs, deadlines } = scripted([
      { retry: true, reason: 'no accounts yet' },
      { retry: true, reason: 'no accounts yet' },
      { retry: true, reason: 'UCW refused: 401' },
    ]);
    const jobs = runner(handler);
    for (let poll = 0; poll < 6; poll += 1) {
      await jobs.runOnce();
      now = at(now.getTime() - start.getTime() + 10_000);
    }
    // Runs at 0 (retry at +500 ms), +10 s (now past the deadline: the next retry cannot fit).
    expect(runs).toHaveLength(2);
    expect(deadlines).toHaveLength(1);
    expect(deadlines[0]![0]).toMatchObject({ id, attempts: 2, last_error: 'no accounts yet' });
    expect(deadlines[0]![1]).toBe('no accounts yet');
    expect(await rows()).toMatchObject([{ status: 'failed', attempts: 2, last_error: 'no accounts yet', claimed_until: null }]);
  });

  it('when the deadline handler throws, then the job stays pending and is retried until the handler succeeds', async () => {
    await setUp();
    await enqueue(100);
    let deadlineCalls = 0;
    const handler: JobHandler = {
      run: async () => ({ retry: true, reason: 'no accounts yet' }),
      onDeadline: async () => {
        deadlineCalls += 1;
        if (deadlineCalls === 1) throw new Error('database briefly unavailable');
      },
    };
    const jobs = runner(handler);
    await jobs.runOnce();
    expect(await rows()).toMatchObject([{ status: 'pending', attempts: 1 }]);
    now = at(3_600_000);
    await jobs.runOnce();
    expect(deadlineCalls).toBe(2);
    expect(await rows()).toMatchObject([{ status: 'failed', attempts: 2 }]);
  });

  it('when a runner is stopped mid-retry, then a new runner over the same database finishes the job', async () => {
    await setUp();
    await enqueue();
    const first = scripted([{ retry: true, reason: 'no accounts yet' }]);
    const a = runner(first.handler);
    await a.runOnce();
    await a.stop();

    now = at(1_000);
    const second = scripted([{ done: true }]);
    expect(await runner(second.handler).runOnce()).toBe(1);
    expect(second.runs.map((job) => [job.attempts, job.last_error])).toEqual([[1, 'no accounts yet']]);
    expect(await rows()).toMatchObject([{ status: 'done', attempts: 2 }]);
  });

  it('when started, then it polls and runs due jobs, and stop() waits for the run in flight', async () => {
    await setUp();
    await enqueue();
    let release: () => void = () => undefined;
    let started: () => void = () => undefined;
    const running = new Promise<void>((resolve) => (started = resolve));
    const jobs = runner({
      run: async () => {
        started();
        await new Promise<void>((resolve) => (release = resolve));
        return { done: true };
      },
    });
    jobs.start();
    await running;
    const stopped = jobs.stop();
    release();
    await stopped;
    expect(await rows()).toMatchObject([{ status: 'done', attempts: 1 }]);
  });

  it('when a run outlasts its lease, then the heartbeat keeps the job from being claimed by another runner, and the result is recorded', async () => {
    await setUp();
    await enqueue();
    const jobs = runner(
      {
        run: async (job) => {
          // Time passes beyond the 30 ms lease while the handler works.
          now = at(10_000);
          await vi.waitFor(async () => expect((await rows())[0]?.claimed_until).toBe(at(10_030).toISOString()), { timeout: 10_000, interval: 5 });
          // Another runner polling now finds nothing to claim: the lease is held.
          const other = scripted([]);
          expect(await runner(other.handler, { leaseMs: 30 }).runOnce()).toBe(0);
          expect(job.claimed_until).toBe(at(30).toISOString());
          return { done: true };
        },
      },
      { leaseMs: 30 },
    );
    expect(await jobs.runOnce()).toBe(1);
    expect(await rows()).toMatchObject([{ status: 'done', attempts: 1, claimed_until: null }]);
    expect(logs.text()).not.toContain('lease');
  });
});
