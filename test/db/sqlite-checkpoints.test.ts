import { copyFileSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WalCheckpoints, type CheckpointOptions } from '../../src/db/sqlite-checkpoints.js';
import { sqliteDialect } from '../../src/db/sqlite-dialect.js';

interface Items {
  items: { id: number; name: string };
}

describe('WAL checkpoints in a worker thread', () => {
  let dir: string;
  let path: string;
  let db: Kysely<Items> | undefined;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sqlite-checkpoints-'));
    path = join(dir, 'db.sqlite');
  });
  afterEach(async () => {
    await db?.destroy();
    db = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  const open = async (options: CheckpointOptions) => {
    const sqlite = new SQLite(path);
    sqlite.pragma('journal_mode = WAL');
    const checkpoints = new WalCheckpoints(sqlite, options);
    db = new Kysely<Items>({ dialect: sqliteDialect(sqlite, { checkpoints }) });
    await sql`create table items (id integer primary key, name text not null)`.execute(db);
    return { sqlite, checkpoints };
  };
  const until = async (done: () => boolean) => {
    for (let waited = 0; !done(); waited += 10) {
      if (waited > 5_000) throw new Error('timed out');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  };
  /** The rows in the database file alone, without its WAL: what checkpoints copied there. */
  const inDatabaseFile = () => {
    const copy = join(dir, 'file-only.sqlite');
    copyFileSync(path, copy);
    const reader = new SQLite(copy, { readonly: true });
    try {
      if (!reader.prepare("select 1 from sqlite_master where name = 'items'").get()) return 0;
      return (reader.prepare('select count(*) as n from items').get() as { n: number }).n;
    } finally {
      reader.close();
    }
  };

  it('when commits pass commitsPerCheckpoint, then the worker copies them into the database file and the main connection never checkpoints', async () => {
    const { sqlite, checkpoints } = await open({ commitsPerCheckpoint: 5 });
    expect(sqlite.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
    for (let id = 1; id <= 4; id += 1) await db!.insertInto('items').values({ id, name: `n${id}` }).execute();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(checkpoints.stats.checkpoints).toBe(0); // no worker yet: an idle service never starts one
    expect(inDatabaseFile()).toBe(0);
    await db!.insertInto('items').values({ id: 5, name: 'n5' }).execute();
    await until(() => checkpoints.stats.checkpoints === 1);
    expect(inDatabaseFile()).toBe(5);
    expect(checkpoints.stats.failed).toBe(false);
  });

  it('when commits keep overlapping the worker\'s checkpoints, then the main connection resets the WAL past restartAtFrames, and it never holds every commit', async () => {
    const { sqlite, checkpoints } = await open({ commitsPerCheckpoint: 2, restartAtFrames: 40 });
    const name = 'x'.repeat(2_000); // about half a page a row
    // The worker up first (its start takes a few ms, thousands of these commits), then an empty WAL file.
    for (let id = -1; id <= 0; id += 1) await db!.insertInto('items').values({ id, name }).execute();
    await until(() => checkpoints.stats.checkpoints === 1);
    sqlite.pragma('wal_checkpoint(TRUNCATE)');
    for (let id = 1; id <= 2_000; id += 1) {
      await db!.insertInto('items').values({ id, name }).execute();
      if (id % 10 === 0) await new Promise((resolve) => setTimeout(resolve, 1)); // lets the worker's answers in
    }
    // Without checkpoints the WAL holds every commit's pages, at least one each: over 2,000 here
    // (~3,300). Its file keeps the largest size it ever had, so this is the most it held at any
    // time: ~100 pages on a quiet machine, up to ~1,000 beside the rest of the suite.
    const frames = statSync(`${path}-wal`).size / (4_096 + 24);
    expect(frames).toBeLessThan(2_000);
    expect(checkpoints.stats.checkpoints).toBeGreaterThan(0);
    expect(checkpoints.stats.restarts).toBeGreaterThan(0);
  });

  it('when the worker cannot start, then SQLite checkpoints by itself again and writes go on', async () => {
    const failures: unknown[] = [];
    const { sqlite, checkpoints } = await open({ commitsPerCheckpoint: 1, driver: join(dir, 'no-such-driver.js'), onFailure: (error) => failures.push(error) });
    await db!.insertInto('items').values({ id: 1, name: 'n1' }).execute();
    await until(() => checkpoints.stats.failed);
    expect(failures).toHaveLength(1); // told once, for the logs
    expect(String(failures[0])).toMatch(/no-such-driver/);
    expect(sqlite.pragma('wal_autocheckpoint', { simple: true })).toBe(1_000);
    await db!.insertInto('items').values({ id: 2, name: 'n2' }).execute();
    expect(await db!.selectFrom('items').select('id').orderBy('id').execute()).toEqual([{ id: 1 }, { id: 2 }]);
  });

  it('when the worker stops answering, then after more commits than restartAtFrames SQLite checkpoints by itself again', async () => {
    const hangs = join(dir, 'hanging-driver.cjs');
    writeFileSync(hangs, 'module.exports = class { pragma() { for (;;); } };');
    const failures: unknown[] = [];
    const { sqlite, checkpoints } = await open({ commitsPerCheckpoint: 1, restartAtFrames: 10, driver: hangs, onFailure: (error) => failures.push(error) });
    // The first commit asks it; ten more are still within the bound.
    for (let id = 1; id <= 11; id += 1) await db!.insertInto('items').values({ id, name: `n${id}` }).execute();
    expect(checkpoints.stats.failed).toBe(false);
    await db!.insertInto('items').values({ id: 12, name: 'n12' }).execute();
    expect(checkpoints.stats.failed).toBe(true);
    expect(String(failures[0])).toMatch(/stopped answering/);
    expect(sqlite.pragma('wal_autocheckpoint', { simple: true })).toBe(1_000);
  });

  it('when the database is destroyed, then the worker stops and the last connection leaves no WAL behind', async () => {
    await open({ commitsPerCheckpoint: 1 });
    for (let id = 1; id <= 3; id += 1) await db!.insertInto('items').values({ id, name: `n${id}` }).execute();
    await db!.destroy();
    db = undefined;
    expect(() => statSync(`${path}-wal`)).toThrow(/ENOENT/);
    expect(inDatabaseFile()).toBe(3);
  });
});
