import { afterEach, describe, expect, it } from 'vitest';
import { createDatabase, type DatabaseHandle } from '../../src/db/database.js';
import { localAllowance, postgresRateLimitStore, type SharedRateLimitStore } from '../../src/http/rate-limit-store.postgres.js';
import { createTestDatabase, testDialects, type TestDatabase } from '../helpers/databases.js';
import { captureLogs } from '../helpers/logs.js';

const MINUTE = 60_000;

describe.runIf(testDialects.includes('postgres'))('the shared rate-limit store on postgres', () => {
  let database: TestDatabase;
  let other: DatabaseHandle | undefined;
  const stores: SharedRateLimitStore[] = [];
  let now = 1_800_000_010_000;

  afterEach(async () => {
    for (const store of stores.splice(0)) await store.close();
    await other?.close();
    other = undefined;
    await database.destroy();
  });

  async function twoInstances() {
    database = await createTestDatabase('postgres');
    other = await createDatabase({ dialect: 'postgres', url: process.env.TEST_DATABASE_URL! }, { pgSchema: database.pgSchema!, poolSize: 2 });
    const logs = captureLogs();
    const make = (handle: DatabaseHandle) => {
      const store = postgresRateLimitStore({ database: handle, logger: logs.logger, now: () => now, flushMs: 60_000 });
      stores.push(store);
      return store;
    };
    return { a: make(database), b: make(other), logs };
  }

  it('when two instances count the same key, then together they admit the limit plus at most their local allowances', async () => {
    const { a, b } = await twoInstances();
    const limit = 20;
    const verdicts: boolean[] = [];
    for (let i = 0; i < 60; i += 1) verdicts.push((await (i % 2 === 0 ? a : b).hit('user:u1', limit, MINUTE)).allowed);
    const admitted = verdicts.filter(Boolean).length;
    expect(admitted).toBeGreaterThanOrEqual(limit);
    expect(admitted).toBeLessThanOrEqual(limit + 2 * localAllowance(limit));
    // Once refused, refused for the rest of the window.
    expect(verdicts.slice(verdicts.indexOf(false)).every((allowed) => !allowed)).toBe(true);
    // Other keys are untouched.
    expect((await a.hit('user:u2', limit, MINUTE)).allowed).toBe(true);

    const refused = await a.hit('user:u1', limit, MINUTE);
    expect(refused).toMatchObject({ allowed: false, remaining: expect.any(Number) });
    expect(refused.resetMs).toBe(50_000);

    // The next window starts from zero on both instances.
    now += MINUTE;
    expect((await a.hit('user:u1', limit, MINUTE)).allowed).toBe(true);
    expect((await b.hit('user:u1', limit, MINUTE)).allowed).toBe(true);
  });

  it('when two instances get a burst of concurrent requests for one key, then the bound still holds', async () => {
    const { a, b } = await twoInstances();
    const limit = 20;
    const verdicts = await Promise.all(Array.from({ length: 80 }, async (_, i) => (await (i % 2 === 0 ? a : b).hit('user:burst', limit, MINUTE)).allowed));
    const admitted = verdicts.filter(Boolean).length;
    expect(admitted).toBeGreaterThanOrEqual(limit);
    expect(admitted).toBeLessThanOrEqual(limit + 2 * localAllowance(limit));
  });

  it('when an instance closes, then the requests it admitted on its own reach the shared count', async () => {
    const { a } = await twoInstances();
    await a.hit('ip:10.0.0.1', 600, MINUTE);
    await a.hit('ip:10.0.0.1', 600, MINUTE);
    await a.close();
    stores.splice(stores.indexOf(a), 1);
    const rows = await database.db.selectFrom('rate_limit_buckets').select(['key', 'count', 'window_start']).execute();
    expect(rows).toEqual([{ key: 'ip:10.0.0.1|600/60000', count: 2, window_start: Math.floor(now / MINUTE) * MINUTE }]);
  });

  it('when the database is unreachable, then requests are allowed (fail open) and one warning is logged', async () => {
    database = await createTestDatabase('postgres');
    // Nothing listens on port 9: every query fails at once.
    other = await createDatabase({ dialect: 'postgres', url: 'postgres://postgres@127.0.0.1:9/none' }, { poolSize: 1 });
    const logs = captureLogs();
    const store = postgresRateLimitStore({ database: other, logger: logs.logger, now: () => now, flushMs: 60_000 });
    const verdicts = [];
    for (let i = 0; i < 5; i += 1) verdicts.push((await store.hit('user:u3', 2, MINUTE)).allowed);
    expect(verdicts).toEqual([true, true, true, true, true]);
    const warnings = logs.lines().filter((line) => line.includes('fail open'));
    expect(warnings).toHaveLength(1);
    expect(JSON.parse(warnings[0]!)).toMatchObject({ level: 40 });
    await store.close();
  });
});
