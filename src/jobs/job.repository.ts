/**
 * The jobs table: durable background work (today only `verify_connection`). Enqueued in the
 * caller's transaction, so the job exists exactly when the state change that needs it committed.
 */
import type { Db } from '../db/executor.js';
import { iso } from '../db/executor.js';
import type { JobTable } from '../db/schema.js';
import { newId } from '../ids.js';
import { unclaimed } from './lease.js';

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
      run_at: iso(job.runAt),
      deadline_at: iso(job.deadlineAt),
      ...unclaimed(now),
    })
    .execute();
  return id;
}
