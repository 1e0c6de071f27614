import { afterEach, describe, expect, it, vi } from 'vitest';
import { enqueueJob } from '../../src/jobs/job.repository.js';
import { claimDue, holdLease, recordOutcome, renewLease, type WorkTable } from '../../src/jobs/lease.js';
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

describe.each(testDialects)('the lease protocol on %s', (dialect) => {
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

  /** One due row in `table`, enqueued at `now`. */
  async function enqueue(table: WorkTable): Promise<string> {
    return table === 'jobs'
      ? enqueueJob(database.db, { kind: 'verify_connection', subjectId: 'conn_1', runAt: now, deadlineAt: new Date(at(600_000)) }, now)
      : enqueueOutbox(database.db, { type: 't', data: {} }, now);
  }
  const row = (table: WorkTable, id: string) => database.db.selectFrom(table as 'jobs').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  const later = (offsetMs: number) => new Date(now.getTime() + offsetMs);

  it.each<WorkTable>(['jobs', 'outbox'])(
    'when a stale worker\'s lease on %s lapsed and another worker took the row over, then the stale worker can neither renew nor record, and the new owner can',
    async (table) => {
      database = await createTestDatabase(dialect);
      const id = await enqueue(table);
      const [stale] = await claimDue(database, table, { now, leaseMs: 1_000, limit: 1 });
      expect(stale).toMatchObject({ id, claimed_until: at(1_000) });
      // The stale worker's lease lapses mid-work; another worker claims the row.
      const [owner] = await claimDue(database, table, { now: later(2_000), leaseMs: 1_000, limit: 1 });
      expect(owner).toMatchObject({ id, claimed_until: at(3_000) });

      expect(await renewLease(database.db, table, stale!, { now: later(2_500), leaseMs: 1_000 })).toBeUndefined();
      const staleOutcome = table === 'jobs' ? ({ status: 'done', attempts: 1 } as const) : ({ status: 'delivered', attempts: 1 } as const);
      expect(await recordOutcome(database.db, table, stale!, staleOutcome, later(2_500))).toBe(false);
      // Nothing the stale worker did shows: the row is still the new owner's, untouched.
      expect(await row(table, id)).toMatchObject({ status: 'pending', attempts: 0, claimed_until: at(3_000), updated_at: at(0) });

      const retryAt = later(60_000);
      expect(await recordOutcome(database.db, table, owner!, { status: 'pending', attempts: 1, retryAt, lastError: 'HTTP 503' }, later(2_600))).toBe(true);
      expect(await row(table, id)).toMatchObject({
        status: 'pending',
        attempts: 1,
        claimed_until: null,
        last_error: 'HTTP 503',
        updated_at: at(2_600),
        [table === 'jobs' ? 'run_at' : 'next_attempt_at']: retryAt.toISOString(),
      });
    },
  );

  it('when a worker renews its lease before it lapses, then nobody else can claim the row, and the outcome is fenced on the renewed token', async () => {
    database = await createTestDatabase(dialect);
    const id = await enqueue('jobs');
    const [claimed] = await claimDue(database, 'jobs', { now, leaseMs: 1_000, limit: 1 });
    const renewed = await renewLease(database.db, 'jobs', claimed!, { now: later(800), leaseMs: 1_000 });
    expect(renewed).toEqual({ id, claimed_until: at(1_800) });
    // Past the first lease, inside the renewed one: the row is not claimable.
    expect(await claimDue(database, 'jobs', { now: later(1_500), leaseMs: 1_000, limit: 10 })).toEqual([]);
    // The old token no longer fences anything; the renewed one does.
    expect(await recordOutcome(database.db, 'jobs', claimed!, { status: 'done', attempts: 1 }, later(1_600))).toBe(false);
    expect(await recordOutcome(database.db, 'jobs', renewed!, { status: 'failed', attempts: 1, lastError: 'deadline passed' }, later(1_600))).toBe(true);
    expect(await row('jobs', id)).toMatchObject({ status: 'failed', attempts: 1, claimed_until: null, last_error: 'deadline passed' });
  });

  it('when an outcome was recorded, then the lease is released: recording or renewing again with it does nothing', async () => {
    database = await createTestDatabase(dialect);
    const id = await enqueue('outbox');
    await database.db.updateTable('outbox').set({ last_error: 'HTTP 500' }).where('id', '=', id).execute();
    const [claimed] = await claimDue(database, 'outbox', { now, leaseMs: 1_000, limit: 1 });
    expect(await recordOutcome(database.db, 'outbox', claimed!, { status: 'delivered', attempts: 1 }, later(10))).toBe(true);
    expect(await row('outbox', id)).toMatchObject({ status: 'delivered', attempts: 1, claimed_until: null, last_error: null });
    expect(await recordOutcome(database.db, 'outbox', claimed!, { status: 'dead', attempts: 2, lastError: 'x' }, later(20))).toBe(false);
    expect(await renewLease(database.db, 'outbox', claimed!, { now: later(20), leaseMs: 1_000 })).toBeUndefined();
    expect(await row('outbox', id)).toMatchObject({ status: 'delivered', attempts: 1 });
  });

  it('when a lease is held while work runs, then its heartbeat extends it, and release hands back the newest token to record with', async () => {
    database = await createTestDatabase(dialect);
    const id = await enqueue('jobs');
    const [claimed] = await claimDue(database, 'jobs', { now, leaseMs: 30, limit: 1 });
    let clock = now;
    const errors: unknown[] = [];
    const held = holdLease(database, 'jobs', claimed!, { leaseMs: 30, clock: () => clock, onError: (error) => errors.push(error) });
    clock = later(1_000);
    // Positive barrier: wait until a beat has renewed the lease from the moved clock.
    await vi.waitFor(async () => expect((await row('jobs', id)).claimed_until).toBe(at(1_030)), { timeout: 10_000, interval: 5 });
    const lease = await held.release();
    expect(lease).toEqual({ id, claimed_until: (await row('jobs', id)).claimed_until });
    expect(await recordOutcome(database.db, 'jobs', lease, { status: 'done', attempts: 1 }, clock)).toBe(true);
    expect(errors).toEqual([]);
  });
});
