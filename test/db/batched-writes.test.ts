import { afterEach, describe, expect, it } from 'vitest';
import { countSessionLoad, insertConnectSession } from '../../src/connect-sessions/connect-session.repository.js';
import { MAX_BATCH } from '../../src/db/batched-writes.js';
import type { ConnectSessionRow } from '../../src/db/schema.js';
import { createTestDatabase, testDialects, type TestDatabase } from '../helpers/databases.js';

const session = (id: string): ConnectSessionRow => ({
  id,
  user_id: 'user-1',
  mode: 'new',
  job_types: '["transactions"]',
  institution_id: null,
  connection_id: null,
  target_origin: null,
  embed: 'host',
  presentation: 'popup',
  redirect_uri: null,
  single_account_select: null,
  status: 'created',
  failure_reason: null,
  last_error_code: null,
  last_error_at: null,
  load_count: 0,
  expires_at: '2026-12-01T01:00:00.000Z',
  created_at: '2026-12-01T00:00:00.000Z',
  updated_at: '2026-12-01T00:00:00.000Z',
});

const NOW = '2026-12-01T00:10:00.000Z';

describe.each(testDialects)('batched writes (connect sessions) on %s', (dialect) => {
  let database: TestDatabase | undefined;
  let writes: string[] = [];
  afterEach(async () => {
    await database?.destroy();
    database = undefined;
  });
  const open = async () => {
    writes = [];
    database = await createTestDatabase(dialect, { onStatement: (sql) => /^(\/\* prepared \*\/ )?(insert into|update) "connect_sessions"/.test(sql) && writes.push(sql) });
    return database.db;
  };

  it('when calls come one after another, then each is written alone, at once', async () => {
    const db = await open();
    await insertConnectSession(db, session('cs_1'));
    await insertConnectSession(db, session('cs_2'));
    expect((await countSessionLoad(db, 'cs_1', 10, NOW))?.load_count).toBe(1);
    expect(writes).toHaveLength(3);
  });

  it('when many calls come at once, then every one gets its own outcome, in as few statements as PostgreSQL needs', async () => {
    const db = await open();
    const ids = Array.from({ length: MAX_BATCH + 8 }, (_, i) => `cs_${i}`);
    await Promise.all(ids.map((id) => insertConnectSession(db, session(id))));
    // One session is spent: its load is refused while the others in its statement are counted.
    await db.updateTable('connect_sessions').set({ load_count: 10 }).where('id', '=', 'cs_3').execute();
    writes = [];
    const counted = await Promise.all(ids.map((id) => countSessionLoad(db, id, 10, NOW)));
    expect(counted.map((row) => row?.id)).toEqual(ids.map((id) => (id === 'cs_3' ? undefined : id)));
    expect(counted[0]).toMatchObject({ load_count: 1, status: 'opened', updated_at: NOW, user_id: 'user-1' });
    // PostgreSQL: the first alone, the rest queued behind it in statements of at most MAX_BATCH.
    // SQLite writes in-process, one statement a call.
    expect(writes).toHaveLength(dialect === 'postgres' ? 3 : ids.length);
    const stored = await db.selectFrom('connect_sessions').select(['id', 'load_count']).orderBy('id').execute();
    expect(stored).toHaveLength(ids.length);
    expect(stored.filter((row) => row.load_count !== (row.id === 'cs_3' ? 10 : 1))).toEqual([]);
  });

  it('when one session is loaded twice at once, then both loads count, each in its own statement', async () => {
    const db = await open();
    await insertConnectSession(db, session('cs_twice'));
    await insertConnectSession(db, session('cs_other'));
    const [, first, second] = await Promise.all([
      countSessionLoad(db, 'cs_other', 10, NOW),
      countSessionLoad(db, 'cs_twice', 10, NOW),
      countSessionLoad(db, 'cs_twice', 10, NOW),
    ]);
    expect([first?.load_count, second?.load_count]).toEqual([1, 2]);
  });

  it('when one row of a batch fails, then only its call fails and the others are written', async () => {
    const db = await open();
    await insertConnectSession(db, session('cs_taken'));
    const outcomes = await Promise.allSettled(['cs_a', 'cs_b', 'cs_taken', 'cs_c'].map((id) => insertConnectSession(db, session(id))));
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    expect((await db.selectFrom('connect_sessions').select('id').orderBy('id').execute()).map((row) => row.id)).toEqual(['cs_a', 'cs_b', 'cs_c', 'cs_taken']);
  });
});

describe.runIf(testDialects.includes('postgres'))('batched writes on an exhausted PostgreSQL pool', () => {
  it('when no connection becomes free, then every queued call fails with the pool timeout, each batch waiting once', async () => {
    const database = await createTestDatabase('postgres', { poolSize: 1, poolTimeoutMs: 100 });
    const pool = database.pgPool!;
    const held = await pool.connect();
    let acquisitions = 0;
    const connect = pool.connect.bind(pool);
    pool.connect = (() => ((acquisitions += 1), connect())) as typeof pool.connect;
    try {
      const outcomes = await Promise.allSettled(['cs_x', 'cs_y', 'cs_z'].map((id) => insertConnectSession(database.db, session(id))));
      expect(outcomes.map((outcome) => outcome.status === 'rejected' && (outcome.reason as Error).name)).toEqual(['DatabaseOverloadedError', 'DatabaseOverloadedError', 'DatabaseOverloadedError']);
      // The first call alone, then one batch of the two queued behind it: not one wait per row again.
      expect(acquisitions).toBe(2);
    } finally {
      pool.connect = connect;
      held.release();
      await database.destroy();
    }
  });
});
