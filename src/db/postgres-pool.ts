/**
 * The PostgreSQL side of createDatabase: the pg pool and the Kysely instance over it. Its own
 * module, loaded by `import()` only when DATABASE_URL is PostgreSQL, so that a SQLite deployment
 * never loads pg (about 2.5 MiB of heap at start-up, measured on the production bundle).
 */
import { Kysely, PostgresDialect, type KyselyConfig } from 'kysely';
import pg from 'pg';
import { DatabaseOverloadedError } from './database-errors.js';
import { withPreparedStatements } from './prepared-statements.js';
import type { Database } from './schema.js';

// PostgreSQL returns bigint (int8) as strings by default; our counters and sequences fit in a double.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

// pg-pool's two timeout errors: waiting for a free client, and opening a new one.
const POOL_TIMEOUT_MESSAGES = new Set(['timeout exceeded when trying to connect', 'Connection terminated due to connection timeout']);

export function openPostgres(
  url: string,
  options: { pgSchema?: string; poolSize?: number; poolTimeoutMs?: number },
  log: Pick<KyselyConfig, 'log'> = {},
): { db: Kysely<Database>; pool: pg.Pool } {
  const schema = options.pgSchema;
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: options.poolTimeoutMs ?? 5_000,
    ...(schema ? { options: `-c search_path=${schema}` } : {}),
  });
  // An idle client losing its server must not crash the process; the next query reconnects.
  pool.on('error', () => undefined);
  // Kysely acquires every connection through connect(): the one place a pool timeout surfaces.
  const typedPool = {
    connect: () =>
      pool.connect().then(withPreparedStatements, (error: unknown) => {
        throw error instanceof Error && POOL_TIMEOUT_MESSAGES.has(error.message) ? new DatabaseOverloadedError(error) : error;
      }),
    end: () => pool.end(),
  };
  return { db: new Kysely<Database>({ dialect: new PostgresDialect({ pool: typedPool }), ...log }), pool };
}
