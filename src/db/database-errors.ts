/**
 * No pooled PostgreSQL connection became free within DATABASE_POOL_TIMEOUT_MS: the service is
 * overloaded, not broken. Thrown before any statement of the work ran, so nothing is half-written.
 * (Apart from postgres-pool.ts, which throws it, so the HTTP layer can recognise it without loading pg.)
 */
export class DatabaseOverloadedError extends Error {
  constructor(cause: unknown) {
    super('no database connection became free in time', { cause });
    this.name = 'DatabaseOverloadedError';
  }
}
