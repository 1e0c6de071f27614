/**
 * The jobs table: durable background work (today only `verify_connection`). Enqueued in the
 * caller's transaction, so the job exists exactly when the state change that needs it committed.
 */
import type { Db } from '../db/executor.js';
import { iso } from '../db/executor.js';
import type { JobRow, JobTable } from '../db/schema.js';
import { newId } from '../ids.js';

export type JobKind = JobTable['kind'];

export interface NewJob {
  kind: JobKind;
  /** What the job is about, e.g. a connection id. */
  subjectId: string;
  /** First run no earlier than this. */
  runAt: Date;
  /** No retry is scheduled past this; the job then fails and its deadline handler runs. */
  deadlineAt: Date;
}

export async function enqueueJob(db: Db, job: NewJob, now: Date = new Date()): Promise<string> {
  const id = newId('job');
  await db
    .insertInto('jobs')
    .values({
      id,
      kind: job.kind,
      subject_id: job.subjectId,
      status: 'pending',
      attempts: 0,
      run_at: iso(job.runAt),
      deadline_at: iso(job.deadlineAt),
      claimed_until: null,
      last_error: null,
      created_at: iso(now),
      updated_at: iso(now),
    })
    .execute();
  return id;
}

export type JobResult =
  | { status: 'done'; attempts: number }
  | { status: 'pending'; attempts: number; runAt: Date; lastError: string }
  | { status: 'failed'; attempts: number; lastError: string };

/**
 * Writes a run's result and releases the claim, fenced on the lease this worker holds.
 * Returns false when the lease was lost to another worker.
 */
export async function recordJobResult(db: Db, job: JobRow, result: JobResult, now: Date): Promise<boolean> {
  const outcome = await db
    .updateTable('jobs')
    .set({
      status: result.status,
      attempts: result.attempts,
      claimed_until: null,
      updated_at: iso(now),
      last_error: result.status === 'done' ? null : result.lastError,
      ...(result.status === 'pending' ? { run_at: iso(result.runAt) } : {}),
    })
    .where('id', '=', job.id)
    .where('status', '=', 'pending')
    .where('claimed_until', '=', job.claimed_until)
    .executeTakeFirst();
  return Number(outcome.numUpdatedRows) === 1;
}
