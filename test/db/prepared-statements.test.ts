import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { PREPARED, fixedStatement } from '../../src/db/prepared-statements.js';
import { createTestDatabase, testDialects, type TestDatabase } from '../helpers/databases.js';

describe.each(testDialects)('statements marked PREPARED on %s', (dialect) => {
  let database: TestDatabase | undefined;
  afterEach(async () => {
    await database?.destroy();
    database = undefined;
  });

  // One pooled connection, so every statement below runs on the same PostgreSQL session.
  const open = async () => (database = await createTestDatabase(dialect, { poolSize: 1 }));
  const preparedHere = async (db: TestDatabase) =>
    (await sql<{ statement: string }>`select statement from pg_prepared_statements order by statement`.execute(db.db)).rows.map((r) => r.statement);

  it('when a marked statement runs again with other values, then each answers for its own values', async () => {
    const db = await open();
    const double = (n: number) => sql<{ doubled: number }>`${sql.raw(PREPARED)}select cast(${n} as integer) * 2 as doubled`.execute(db.db);
    expect((await double(2)).rows).toEqual([{ doubled: 4 }]);
    expect((await double(21)).rows).toEqual([{ doubled: 42 }]);
  });

  it('when a fixedStatement inserts lists of rows, then each row is stored with its own values, an undefined column left out, one text per row count and columns, server-prepared', async () => {
    const db = await open();
    let builds = 0;
    const insertHooks = fixedStatement((handle, p: { rows: Array<{ webhook_id: string; received_at: string | undefined }> }) => {
      builds += 1;
      return handle.insertInto('inbound_webhooks').values(p.rows as never).returning('webhook_id');
    });
    const inserted = async (rows: Array<{ webhook_id: string; received_at: string | undefined }>) => (await insertHooks(db.db, { rows })).rows.map((row) => row.webhook_id);
    expect(await inserted([{ webhook_id: 'msg_a', received_at: '2026-12-01T00:00:00.000Z' }])).toEqual(['msg_a']);
    expect(await inserted([{ received_at: '2026-12-01T00:00:01.000Z', webhook_id: 'msg_b' }])).toEqual(['msg_b']); // key order is part of the shape
    await db.db.transaction().execute(async (trx) => {
      await insertHooks(trx, { rows: [{ webhook_id: 'msg_c', received_at: '2026-12-01T00:00:02.000Z' }] });
    });
    expect(
      await inserted([
        { webhook_id: 'msg_d', received_at: '2026-12-01T00:00:03.000Z' },
        { webhook_id: 'msg_e', received_at: '2026-12-01T00:00:04.000Z' },
      ]),
    ).toEqual(['msg_d', 'msg_e']);
    // Left out, not bound as null: received_at is NOT NULL without a default, so the insert fails.
    await expect(inserted([{ webhook_id: 'msg_f', received_at: undefined }])).rejects.toThrow(/received_at|null/i);
    expect(builds).toBe(4); // one row (two key orders), two rows, one row without received_at
    const rows = await db.db.selectFrom('inbound_webhooks').select(['webhook_id', 'received_at']).orderBy('webhook_id').execute();
    expect(rows).toEqual([
      { webhook_id: 'msg_a', received_at: '2026-12-01T00:00:00.000Z' },
      { webhook_id: 'msg_b', received_at: '2026-12-01T00:00:01.000Z' },
      { webhook_id: 'msg_c', received_at: '2026-12-01T00:00:02.000Z' },
      { webhook_id: 'msg_d', received_at: '2026-12-01T00:00:03.000Z' },
      { webhook_id: 'msg_e', received_at: '2026-12-01T00:00:04.000Z' },
    ]);
    // Rows have no plan to go stale: unlike a list of values, a list of rows stays a prepared statement.
    if (dialect === 'postgres') {
      expect((await preparedHere(db)).sort()).toEqual([
        expect.stringMatching(/^\/\* prepared \*\/ insert into "inbound_webhooks" \("received_at", "webhook_id"\) values \(\$1, \$2\) returning/),
        expect.stringMatching(/^\/\* prepared \*\/ insert into "inbound_webhooks" \("webhook_id"\) values \(\$1\) returning/),
        expect.stringMatching(/^\/\* prepared \*\/ insert into "inbound_webhooks" \("webhook_id", "received_at"\) values \(\$1, \$2\) returning/),
        expect.stringMatching(/^\/\* prepared \*\/ insert into "inbound_webhooks" \("webhook_id", "received_at"\) values \(\$1, \$2\), \(\$3, \$4\) returning/),
      ]);
    }
  });

  it('when a fixedStatement runs on the database and in its transactions, then it is built once and each call binds its own values', async () => {
    const db = await open();
    let builds = 0;
    const remember = fixedStatement((handle, row: { webhook_id: string; received_at: string }) => {
      builds += 1;
      return handle.insertInto('inbound_webhooks').values(row).onConflict((oc) => oc.column('webhook_id').doNothing());
    });
    const since = fixedStatement((handle, p: { after: string }) =>
      handle.selectFrom('inbound_webhooks').select('webhook_id').where('received_at', '>', p.after).where('webhook_id', '!=', 'msg_hidden').orderBy('webhook_id'),
    );
    expect((await remember(db.db, { webhook_id: 'msg_a', received_at: '2026-12-01T00:00:01.000Z' })).numAffectedRows).toBe(1n);
    expect((await remember(db.db, { webhook_id: 'msg_a', received_at: '2026-12-01T00:00:09.000Z' })).numAffectedRows).toBe(0n);
    await db.db.transaction().execute(async (trx) => {
      await remember(trx, { webhook_id: 'msg_b', received_at: '2026-12-01T00:00:02.000Z' });
      await remember(trx, { webhook_id: 'msg_hidden', received_at: '2026-12-01T00:00:03.000Z' });
    });
    expect(builds).toBe(1);
    // Its constants stay bound beside the values ('msg_hidden' above).
    expect((await since(db.db, { after: '2026-12-01T00:00:00.000Z' })).rows).toEqual([{ webhook_id: 'msg_a' }, { webhook_id: 'msg_b' }]);
    expect((await since(db.db, { after: '2026-12-01T00:00:01.500Z' })).rows).toEqual([{ webhook_id: 'msg_b' }]);
  });

  it('when a fixedStatement gets lists of other lengths or leaves out a param, then each shape is built once, answers for its own values, and is never server-prepared', async () => {
    const db = await open();
    for (const [id, at] of [['msg_a', '01'], ['msg_b', '02'], ['msg_c', '03']] as const) {
      await db.db.insertInto('inbound_webhooks').values({ webhook_id: id, received_at: `2026-12-01T00:00:${at}.000Z` }).execute();
    }
    let builds = 0;
    const find = fixedStatement((handle, p: { ids: string[]; after: string | undefined }) => {
      builds += 1;
      let query = handle.selectFrom('inbound_webhooks').select('webhook_id').where('webhook_id', 'in', p.ids);
      if (p.after !== undefined) query = query.where('received_at', '>', p.after);
      return query.orderBy('webhook_id');
    });
    const ids = async (params: { ids: string[]; after: string | undefined }) => (await find(db.db, params)).rows.map((row) => row.webhook_id);
    expect(await ids({ ids: ['msg_a'], after: undefined })).toEqual(['msg_a']);
    expect(await ids({ ids: ['msg_b'], after: undefined })).toEqual(['msg_b']);
    expect(await ids({ ids: ['msg_a', 'msg_c'], after: undefined })).toEqual(['msg_a', 'msg_c']);
    expect(await ids({ ids: ['msg_b', 'msg_c'], after: undefined })).toEqual(['msg_b', 'msg_c']);
    expect(await ids({ ids: ['msg_a', 'msg_c'], after: '2026-12-01T00:00:02.000Z' })).toEqual(['msg_c']);
    expect(await ids({ ids: ['msg_a', 'msg_b'], after: '2026-12-01T00:00:00.000Z' })).toEqual(['msg_a', 'msg_b']);
    expect(builds).toBe(3); // one list, two lists, two lists with the clause
    // A statement with a list is planned at every call, never kept as a prepared statement.
    if (dialect === 'postgres') expect(await preparedHere(db)).toEqual([]);
  });

  it('when a fixedStatement would build a value into its text, then its first call throws instead of running it', async () => {
    const db = await open();
    const unused = fixedStatement((handle, _p: { id: string }) => handle.selectFrom('inbound_webhooks').select('webhook_id'));
    await expect(unused(db.db, { id: 'msg_a' })).rejects.toThrow(/id did not become parameters/);
    const inlined = fixedStatement((handle, p: { limit: number }) => handle.selectFrom('inbound_webhooks').select('webhook_id').modifyEnd(sql.raw(` limit ${String(p.limit)}`)));
    await expect(inlined(db.db, { limit: 1 })).rejects.toThrow(/limit did not become parameters/);
  });

  it.runIf(dialect === 'postgres')('when a marked statement runs twice, then the connection prepared it once; unmarked ones never', async () => {
    const db = await open();
    for (const n of [1, 2]) {
      await sql`${sql.raw(PREPARED)}select ${n}::int as marked`.execute(db.db);
      await sql`select ${n}::int as unmarked`.execute(db.db);
    }
    expect(await preparedHere(db)).toEqual([`${PREPARED}select $1::int as marked`]);
  });

  it.runIf(dialect === 'postgres')('when a marked statement fails inside a transaction, then the transaction rolls back and the connection stays usable', async () => {
    const db = await open();
    const failing = db.db.transaction().execute(async (trx) => {
      await sql`${sql.raw(PREPARED)}insert into inbound_webhooks (webhook_id, received_at) values (${'msg_prepared'}, ${'now'})`.execute(trx);
      await sql`${sql.raw(PREPARED)}select 1 / ${0}::int`.execute(trx);
    });
    await expect(failing).rejects.toThrow(/division by zero/);
    expect(await db.db.selectFrom('inbound_webhooks').selectAll().execute()).toEqual([]);
    expect((await sql<{ one: number }>`${sql.raw(PREPARED)}select ${1}::int as one`.execute(db.db)).rows).toEqual([{ one: 1 }]);
  });
});
