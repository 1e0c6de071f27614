import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sqliteDialect } from '../../src/db/sqlite-dialect.js';

interface Items {
  items: { id: number; name: string };
}

describe('SQLite dialect (statement cache, group commit)', () => {
  let dir: string;
  let sqlite: SQLite.Database;
  /** A second connection to the same file: sees only what is committed. */
  let observer: SQLite.Database;
  let db: Kysely<Items>;
  let prepared: string[];

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sqlite-dialect-'));
    sqlite = new SQLite(join(dir, 'db.sqlite'));
    sqlite.pragma('journal_mode = WAL');
    prepared = [];
    const prepare = sqlite.prepare.bind(sqlite);
    sqlite.prepare = ((text: string) => (prepared.push(text), prepare(text)));
    db = new Kysely<Items>({ dialect: sqliteDialect(sqlite, { maxStatements: 8 }) });
    await sql`create table items (id integer primary key, name text not null)`.execute(db);
    observer = new SQLite(join(dir, 'db.sqlite'), { readonly: true });
  });
  afterEach(async () => {
    observer.close();
    await db.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  const committed = () => (observer.prepare('select id from items order by id').all() as Array<{ id: number }>).map((r) => r.id);
  const insert = (id: number, name = `n${id}`) => db.insertInto('items').values({ id, name }).execute();

  it('when the same query runs again, then SQLite compiles it once; past the bound the least recently used is compiled again', async () => {
    const read = (id: number) => db.selectFrom('items').select('name').where('id', '=', id).execute();
    await read(1);
    await read(2);
    const selects = () => prepared.filter((text) => text.startsWith('select "name"')).length;
    expect(selects()).toBe(1);
    for (let i = 0; i < 8; i += 1) await sql`select ${sql.lit(i)} as n`.execute(db); // pushes it out
    await read(3);
    expect(selects()).toBe(2);
  });

  it('when writes start in the same turn of the event loop, then they commit together and each resolves only once committed', async () => {
    const seenAtResolve: number[][] = [];
    const writes = [1, 2, 3].map((id) => insert(id).then(() => seenAtResolve.push(committed())));
    expect(committed()).toEqual([]); // all three ran, none is committed yet
    await Promise.all(writes);
    expect(seenAtResolve).toEqual([
      [1, 2, 3],
      [1, 2, 3],
      [1, 2, 3],
    ]);
    expect(prepared.filter((text) => text === 'begin immediate')).toHaveLength(1);
  });

  it('when writes start with a comment (a PREPARED mark), then they still join the group', async () => {
    const marked = (id: number) => sql`/* prepared */ insert into items (id, name) values (${id}, ${`n${id}`})`.execute(db);
    const writes = [1, 2].map((id) => marked(id));
    expect(committed()).toEqual([]);
    await Promise.all(writes);
    expect(committed()).toEqual([1, 2]);
    expect(prepared.filter((text) => text === 'begin immediate')).toHaveLength(1);
  });

  it('when one write of a group breaks a constraint, then it fails alone and the others commit', async () => {
    await insert(1);
    const results = await Promise.allSettled([insert(2), insert(1), insert(3)]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(String((results[1] as PromiseRejectedResult).reason)).toMatch(/UNIQUE/);
    expect(committed()).toEqual([1, 2, 3]);
  });

  it('when a write returns rows (RETURNING), then it gets its rows after the commit', async () => {
    await insert(1, 'a');
    const updated = await db.updateTable('items').set({ name: 'b' }).where('id', '=', 1).returning(['id', 'name']).execute();
    expect(updated).toEqual([{ id: 1, name: 'b' }]);
    expect(observer.prepare('select name from items where id = 1').get()).toEqual({ name: 'b' });
  });

  it('when a transaction runs while a group is open, then it runs alone, joins the group, and nothing of it is committed before it ends', async () => {
    const order: string[] = [];
    const grouped = insert(1).then(() => order.push(`group write resolved, committed ${JSON.stringify(committed())}`));
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const transaction = db.transaction().execute(async (trx) => {
      await trx.insertInto('items').values({ id: 2, name: 'in transaction' }).execute();
      await held; // other I/O inside the transaction: the group's turn passes meanwhile
      await trx.insertInto('items').values({ id: 3, name: 'in transaction' }).execute();
    });
    const outside = (async () => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      const rows = await db.selectFrom('items').select('id').orderBy('id').execute();
      order.push(`outside read ${JSON.stringify(rows.map((r) => r.id))}`);
    })();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(committed()).toEqual([]); // neither the group nor half a transaction
    expect(order).toEqual([]); // the read waits for the transaction
    release();
    await transaction;
    expect(committed()).toEqual([1, 2, 3]); // the transaction resolved only once committed
    await Promise.all([grouped, outside]);
    expect(order.sort()).toEqual(['group write resolved, committed [1,2,3]', 'outside read [1,2,3]']);
    expect(prepared.filter((text) => text === 'begin immediate')).toHaveLength(1);
  });

  it('when a transaction fails, then its writes are rolled back and the writes it shared a group with are committed', async () => {
    const before = insert(1);
    await expect(
      db.transaction().execute(async (trx) => {
        await trx.insertInto('items').values({ id: 2, name: 'x' }).execute();
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    await before;
    await insert(3);
    expect(committed()).toEqual([1, 3]);
    const deleted = await db.deleteFrom('items').where('id', '=', 1).executeTakeFirst();
    expect(deleted.numDeletedRows).toBe(1n);
  });

  it('when the database is closed while a transaction runs, then the transaction ends first and is committed whole', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const transaction = db.transaction().execute(async (trx) => {
      await trx.insertInto('items').values({ id: 1, name: 'first half' }).execute();
      await held;
      await trx.insertInto('items').values({ id: 2, name: 'second half' }).execute();
    });
    await new Promise((resolve) => setTimeout(resolve, 5));
    const closed = db.destroy();
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(committed()).toEqual([]);
    release();
    await Promise.all([transaction, closed]);
    expect(committed()).toEqual([1, 2]);
    db = new Kysely<Items>({ dialect: sqliteDialect(new SQLite(join(dir, 'db.sqlite'))) }); // for afterEach
  });

  it('when a schema change arrives while a group is open, then the group commits first and the change runs on its own', async () => {
    const grouped = insert(1);
    await sql`create table other (id integer primary key)`.execute(db);
    expect(committed()).toEqual([1]);
    await grouped;
    expect(observer.prepare("select name from sqlite_master where name = 'other'").get()).toEqual({ name: 'other' });
  });
});
