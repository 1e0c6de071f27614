import SQLite from 'better-sqlite3';
import { Kysely, SqliteDialect, sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { withStatementCache } from '../../src/db/sqlite-statement-cache.js';

describe('SQLite statement cache', () => {
  let sqlite: SQLite.Database;
  afterEach(() => {
    if (sqlite?.open) sqlite.close();
  });

  it('when the same SQL is prepared twice, then SQLite compiles it once', () => {
    sqlite = new SQLite(':memory:');
    let compiled = 0;
    const counting = { close: () => sqlite.close(), prepare: (text: string) => (compiled++, sqlite.prepare(text)) };
    const cached = withStatementCache(counting);
    const first = cached.prepare('select 1 as one');
    const second = cached.prepare('select 1 as one');
    expect(second).toBe(first);
    expect(compiled).toBe(1);
  });

  it('when more statements than the bound pass through, then the least recently used goes first', () => {
    sqlite = new SQLite(':memory:');
    const cached = withStatementCache(sqlite, 2);
    const a = cached.prepare('select 1');
    const b = cached.prepare('select 2');
    expect(cached.prepare('select 1')).toBe(a); // a is now the most recent
    cached.prepare('select 3'); // evicts b
    expect(cached.cachedStatements).toBe(2);
    expect(cached.prepare('select 1')).toBe(a);
    expect(cached.prepare('select 2')).not.toBe(b);
  });

  it('when Kysely reuses a cached statement, then reads, writes and transactions answer as without the cache', async () => {
    sqlite = new SQLite(':memory:');
    const db = new Kysely<{ items: { id: number; name: string } }>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) });
    await sql`create table items (id integer primary key, name text not null)`.execute(db);
    for (const name of ['a', 'b', 'c']) await db.insertInto('items').values({ id: name.charCodeAt(0), name }).execute();
    await db.transaction().execute(async (trx) => {
      await trx.updateTable('items').set({ name: 'B' }).where('id', '=', 98).execute();
    });
    await expect(
      db.transaction().execute(async (trx) => {
        await trx.updateTable('items').set({ name: 'C' }).where('id', '=', 99).execute();
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    const read = () => db.selectFrom('items').select('name').where('id', '>', 97).orderBy('id').execute();
    expect(await read()).toEqual([{ name: 'B' }, { name: 'c' }]);
    expect(await read()).toEqual([{ name: 'B' }, { name: 'c' }]);
    const deleted = await db.deleteFrom('items').where('id', '=', 97).executeTakeFirst();
    expect(deleted.numDeletedRows).toBe(1n);
    await db.destroy();
  });
});
