import { afterEach, describe, expect, it } from 'vitest';
import { createSecretBox } from '../../src/connections/secret-box.js';
import { createTestDatabase, testDialects, withSchemaLock, type TestDatabase } from '../helpers/databases.js';
import { captureLogs } from '../helpers/logs.js';

const KEY = 'k1:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=';
const now = '2026-11-26T06:00:00.000Z';

describe.each(testDialects)('migration 2026-11-30T2100-normalize-aggregators on %s', (dialect) => {
  let database: TestDatabase;
  afterEach(() => database?.destroy());

  const box = createSecretBox(KEY);
  // What the code before this migration stored: the aggregator as sent, indexed as sent.
  const legacyRow = (id: string, userId: string, aggregator: string, connectionId: string, createdAt = now) => {
    const sealed = box.seal(connectionId);
    return {
      id,
      user_id: userId,
      aggregator,
      aggregator_connection_id: sealed.value,
      aggregator_user_id: null,
      encryption_key_id: sealed.keyId,
      lookup_key: `legacy:${aggregator}:${connectionId}`,
      institution_id: null,
      job_types: '[]',
      status: 'connected' as const,
      status_code: 6,
      verification_error: null,
      duplicate_of: null,
      created_at: createdAt,
      updated_at: createdAt,
      last_connected_at: null,
    };
  };

  it('when stored rows spell aggregators in capitals, then they are re-spelled and re-indexed, and a conflict leaves both rows and is logged', async () => {
    database = await createTestDatabase(dialect);
    await withSchemaLock(dialect, () => database.migrateTo('2026-11-26T0600-initial'));
    await database.db
      .insertInto('connections')
      .values([
        legacyRow('conn_upper', 'u1', ' MX', 'MBR-1'),
        // Bob's row already has the normalized spelling and index; Alice's later "Mx" row is the same connection.
        { ...legacyRow('conn_bob', 'bob', 'mx', 'MBR-2'), lookup_key: box.lookupKey('mx', 'MBR-2') },
        legacyRow('conn_alice', 'alice', 'Mx', 'MBR-2', '2026-11-27T06:00:00.000Z'),
        legacyRow('conn_bad', 'u3', 'm x', 'MBR-3'),
      ])
      .execute();
    const logs = captureLogs();
    await withSchemaLock(dialect, () => database.migrateToLatest({ keys: box, log: logs.logger }));

    const rows = await database.db.selectFrom('connections').select(['id', 'user_id', 'aggregator', 'lookup_key']).orderBy('id').execute();
    expect(rows).toEqual([
      { id: 'conn_alice', user_id: 'alice', aggregator: 'Mx', lookup_key: 'legacy:Mx:MBR-2' },
      { id: 'conn_bad', user_id: 'u3', aggregator: 'm x', lookup_key: 'legacy:m x:MBR-3' },
      { id: 'conn_bob', user_id: 'bob', aggregator: 'mx', lookup_key: box.lookupKey('mx', 'MBR-2') },
      { id: 'conn_upper', user_id: 'u1', aggregator: 'mx', lookup_key: box.lookupKey('mx', 'MBR-1') },
    ]);
    const lines = logs.lines().map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.filter((l) => l.event === 'aggregator_normalization_conflict')).toEqual([
      expect.objectContaining({ security: true, connection: 'conn_alice', conflictsWith: 'conn_bob', sameUser: false }),
    ]);
    expect(lines.filter((l) => l.event === 'aggregator_not_normalized')).toEqual([expect.objectContaining({ connection: 'conn_bad' })]);
    expect(logs.text()).not.toContain('MBR-');
  });

  it('when rows need re-indexing but no keys are given, then the migration fails and changes nothing', async () => {
    database = await createTestDatabase(dialect);
    await withSchemaLock(dialect, () => database.migrateTo('2026-11-26T0600-initial'));
    await database.db.insertInto('connections').values(legacyRow('conn_upper', 'u1', 'MX', 'MBR-1')).execute();
    await expect(withSchemaLock(dialect, () => database.migrateToLatest())).rejects.toThrow(/data encryption key/);
    expect(await database.db.selectFrom('connections').select(['aggregator', 'lookup_key']).execute()).toEqual([{ aggregator: 'MX', lookup_key: 'legacy:MX:MBR-1' }]);
  });
});
