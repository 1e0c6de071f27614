import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, Migrator, sql, type LogEvent, type Migration, type MigrationProvider } from 'kysely';
import type pg from 'pg';
import type { Config } from '../config.js';
import type { MigrationContext } from './migration-context.js';
import * as initial from './migrations/2026-11-26T0600-initial.js';
import * as normalizeAggregators from './migrations/2026-11-30T2100-normalize-aggregators.js';
import * as sessionLastError from './migrations/2026-11-30T2110-session-last-error.js';
import * as rateLimits from './migrations/2026-11-30T2120-rate-limits.js';
import * as connectionsInstitutionIndex from './migrations/2026-11-30T2330-connections-institution-index.js';
import type { Database } from './schema.js';
import { WalCheckpoints } from './sqlite-checkpoints.js';
import { sqliteDialect } from './sqlite-dialect.js';

export type Dialect = 'sqlite' | 'postgres';

export interface DatabaseHandle {
  db: Kysely<Database>;
  dialect: Dialect;
  /** The pg pool behind `db` (PostgreSQL only): LISTEN/NOTIFY needs a dedicated client from it. */
  pgPool: pg.Pool | undefined;
  /** The PostgreSQL schema in use (tests isolate themselves in one), for clients made outside Kysely. */
  pgSchema: string | undefined;
  /** Without a context, data migrations that need the data key fail if they find rows to change. */
  migrateToLatest(context?: MigrationContext): Promise<void>;
  migrateDown(): Promise<void>;
  /** Migrates up or down until `name` is the last applied migration (tests of a data migration start before it). */
  migrateTo(name: string): Promise<void>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Timestamped migrations, applied in name order. Each receives the dialect for the few DDL
 * differences, and the context (keys, log) for data migrations.
 */
const migrations: Record<string, (dialect: Dialect, context: MigrationContext) => Migration> = {
  '2026-11-26T0600-initial': (dialect) => ({
    up: (db) => initial.up(db, dialect),
    down: (db) => initial.down(db),
  }),
  '2026-11-30T2100-normalize-aggregators': (_dialect, context) => ({
    up: (db) => normalizeAggregators.up(db, context),
    down: () => normalizeAggregators.down(),
  }),
  '2026-11-30T2110-session-last-error': () => ({
    up: (db) => sessionLastError.up(db),
    down: (db) => sessionLastError.down(db),
  }),
  '2026-11-30T2120-rate-limits': () => ({ up: (db) => rateLimits.up(db), down: (db) => rateLimits.down(db) }),
  '2026-11-30T2330-connections-institution-index': () => ({
    up: (db) => connectionsInstitutionIndex.up(db),
    down: (db) => connectionsInstitutionIndex.down(db),
  }),
};

const silent: MigrationContext['log'] = { warn: () => undefined, info: () => undefined };

function migrationProvider(dialect: Dialect, context: MigrationContext): MigrationProvider {
  return {
    getMigrations: async () =>
      Object.fromEntries(Object.entries(migrations).map(([name, build]) => [name, build(dialect, context)])),
  };
}

/** Opens the configured database; PostgreSQL's driver is loaded only when it is the one configured. */
export async function createDatabase(
  settings: Config['database'],
  options: {
    pgSchema?: string;
    poolSize?: number;
    poolTimeoutMs?: number;
    /** Called with every statement sent, BEGIN and COMMIT included (tests count what a request costs). */
    onStatement?: (sql: string) => void;
    /** SQLite: told if its checkpoint worker fails (SQLite then checkpoints inside commits again). */
    onCheckpointFailure?: (error: unknown) => void;
  } = {},
): Promise<DatabaseHandle> {
  const onStatement = options.onStatement;
  const log = onStatement ? { log: (event: LogEvent) => onStatement(event.query.sql) } : {};
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
    // A file's WAL is checkpointed by a worker thread, not inside a request's COMMIT (see WalCheckpoints).
    const checkpoints = settings.path === ':memory:' ? undefined : new WalCheckpoints(sqlite, { onFailure: options.onCheckpointFailure });
    const db = new Kysely<Database>({ dialect: sqliteDialect(sqlite, { checkpoints }), ...log });
    return handle(db, 'sqlite', undefined, undefined);
  }

  const { openPostgres } = await import('./postgres-pool.js');
  const { db, pool } = openPostgres(settings.url, options, log);
  return handle(db, 'postgres', pool, options.pgSchema);
}

function handle(db: Kysely<Database>, dialect: Dialect, pgPool: pg.Pool | undefined, pgSchema: string | undefined): DatabaseHandle {
  // Kysely looks for its bookkeeping tables across all schemas; pin them to ours so that two
  // schemas on one server (tests, or two deployments sharing a database) never confuse each other.
  const migrator = (context: MigrationContext) =>
    new Migrator({ db, provider: migrationProvider(dialect, context), ...(pgSchema ? { migrationTableSchema: pgSchema } : {}) });
  const run = async (action: Promise<{ error?: unknown }>) => {
    const { error } = await action;
    if (error) throw error instanceof Error ? error : new Error(String(error));
  };
  return {
    db,
    dialect,
    pgPool,
    pgSchema,
    migrateToLatest: (context = { log: silent }) => run(migrator(context).migrateToLatest()),
    migrateDown: () => run(migrator({ log: silent }).migrateDown()),
    migrateTo: (name) => run(migrator({ log: silent }).migrateTo(name)),
    ping: async () => {
      await sql`select 1`.execute(db);
    },
    close: () => db.destroy(),
  };
}
