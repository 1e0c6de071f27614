import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect, sql, type Migration, type MigrationProvider } from 'kysely';
import pg from 'pg';
import type { Config } from '../config.js';
import * as initial from './migrations/2026-11-26T0600-initial.js';
import type { Database } from './schema.js';
import { withStatementCache } from './sqlite-statement-cache.js';

export type Dialect = 'sqlite' | 'postgres';

export interface DatabaseHandle {
  db: Kysely<Database>;
  dialect: Dialect;
  /** The pg pool behind `db` (PostgreSQL only): LISTEN/NOTIFY needs a dedicated client from it. */
  pgPool: pg.Pool | undefined;
  /** The PostgreSQL schema in use (tests isolate themselves in one), for clients made outside Kysely. */
  pgSchema: string | undefined;
  migrateToLatest(): Promise<void>;
  migrateDown(): Promise<void>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Timestamped migrations, applied in name order. Each receives the dialect for the few DDL differences. */
const migrations: Record<string, (dialect: Dialect) => Migration> = {
  '2026-11-26T0600-initial': (dialect) => ({
    up: (db) => initial.up(db, dialect),
    down: (db) => initial.down(db),
  }),
};

function migrationProvider(dialect: Dialect): MigrationProvider {
  return {
    getMigrations: async () =>
      Object.fromEntries(Object.entries(migrations).map(([name, build]) => [name, build(dialect)])),
  };
}

// PostgreSQL returns bigint (int8) as strings by default; our counters and sequences fit in a double.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

export function createDatabase(
  settings: Config['database'],
  options: { pgSchema?: string; poolSize?: number } = {},
): DatabaseHandle {
  if (settings.dialect === 'sqlite') {
    if (settings.path !== ':memory:') mkdirSync(dirname(settings.path), { recursive: true });
    const sqlite = new SQLite(settings.path);
    // WAL lets readers run beside the single writer; busy_timeout waits instead of failing under contention.
    sqlite.pragma('journal_mode = WAL');
    // In WAL mode NORMAL syncs at checkpoints, not at every commit: a killed process loses
    // nothing committed; only an OS crash or power cut may lose the last commits (README).
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma('busy_timeout = 5000');
    sqlite.pragma('foreign_keys = ON');
    const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) });
    return handle(db, 'sqlite', undefined, undefined);
  }

  const schema = options.pgSchema;
  const pool = new pg.Pool({
    connectionString: settings.url,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: 5_000,
    ...(schema ? { options: `-c search_path=${schema}` } : {}),
  });
  // An idle client losing its server must not crash the process; the next query reconnects.
  pool.on('error', () => undefined);
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return handle(db, 'postgres', pool, schema);
}

function handle(db: Kysely<Database>, dialect: Dialect, pgPool: pg.Pool | undefined, pgSchema: string | undefined): DatabaseHandle {
  // Kysely looks for its bookkeeping tables across all schemas; pin them to ours so that two
  // schemas on one server (tests, or two deployments sharing a database) never confuse each other.
  const migrator = new Migrator({ db, provider: migrationProvider(dialect), ...(pgSchema ? { migrationTableSchema: pgSchema } : {}) });
  const run = async (action: Promise<{ error?: unknown }>) => {
    const { error } = await action;
    if (error) throw error instanceof Error ? error : new Error(String(error));
  };
  return {
    db,
    dialect,
    pgPool,
    pgSchema,
    migrateToLatest: () => run(migrator.migrateToLatest()),
    migrateDown: () => run(migrator.migrateDown()),
    ping: async () => {
      await sql`select 1`.execute(db);
    },
    close: () => db.destroy(),
  };
}
