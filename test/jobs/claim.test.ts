import { afterEach, describe, expect, it } from 'vitest';
import { claimDue } from '../../src/jobs/claim.js';
import { enqueueOutbox } from '../../src/outbox/outbox.repository.js';
import { createTestDatabase, testDialects, type TestDatabase } from '../helpers/databases.js';

const now = new Date('2026-11-26T06:00:00.000Z');
const at = (offsetMs: number) => new Date(now.getTime() + offsetMs).toISOString();

function job(id: string, overrides: Record<string, unknown> = {}) {
  return {
    id,
    kind: 'verify_connection' as const,
    subject_id: 'conn_1',
    status: 'pending' as const,
    attempts: 0,
    run_at: at(0),
    deadline_at: at(600_000),
    claimed_until: null,
    last_error: null,
    created_at: at(0),
    updated_at: at(0),
    ...overrides,
  };
}

describe.each(testDialects)('claiming due work on %s', (dialect) => {
  let database: TestDatabase;
  afterEach(async () => {
    await database?.destroy();
    database = undefined as never;
  });

  it('when rows are due, not yet due, finished or leased, then only the due unleased pending ones are claimed, oldest first', async () => {
    database = await createTestDatabase(dialect);
    await database.db
      .insertInto('jobs')
      .values([
        job('job_due_later', { run_at: at(-1_000) }),
        job('job_due_first', { run_at: at(-5_000) }),
        job('job_future', { run_at: at(1) }),
        job('job_done', { status: 'done' }),
        job('job_leased', { claimed_until: at(1) }),
        job('job_lease_lapsed', { claimed_until: at(-1), run_at: at(-500) }),
      ])
      .execute();

    const claimed = await claimDue(database, 'jobs', { now, leaseMs: 30_000, limit: 10 });
    expect(claimed.map((row) => row.id)).toEqual(['job_due_first', 'job_due_later', 'job_lease_lapsed']);
    expect(claimed.every((row) => row.claimed_until === at(30_000))).toBe(true);
    // Claimed rows are leased: a second claim at the same moment finds nothing.
    expect(await claimDue(database, 'jobs', { now, leaseMs: 30_000, limit: 10 })).toEqual([]);
  });

  it('when more rows are due than the limit, then only the limit is claimed', async () => {
    database = await createTestDatabase(dialect);
    for (let n = 0; n < 5; n += 1) await enqueueOutbox(database.db, { type: 't', data: n }, new Date(now.getTime() - n));
    const first = await claimDue(database, 'outbox', { now, leaseMs: 1_000, limit: 2 });
    const second = await claimDue(database, 'outbox', { now, leaseMs: 1_000, limit: 10 });
    expect(first).toHaveLength(2);
    expect(second).toHaveLength(3);
    expect(new Set([...first, ...second].map((row) => row.id)).size).toBe(5);
    expect(first[0]).toMatchObject({ status: 'pending', type: 't', claimed_until: at(1_000) });
  });
});
