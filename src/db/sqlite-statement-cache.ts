import type { SqliteDatabase, SqliteStatement } from 'kysely';

/**
 * Kysely's SQLite driver calls `prepare` for every query, and compiling SQL costs more than
 * running our small indexed statements. The app issues a few dozen distinct statements, so
 * keeping the compiled ones (least recently used out past `max`) removes that cost. Reusing a
 * statement is safe: Kysely runs one query at a time on its single SQLite connection.
 */
export function withStatementCache(database: SqliteDatabase, max = 256): SqliteDatabase & { readonly cachedStatements: number } {
  const cache = new Map<string, SqliteStatement>();
  return {
    get cachedStatements() {
      return cache.size;
    },
    close: () => database.close(),
    prepare(sql: string): SqliteStatement {
      const cached = cache.get(sql);
      if (cached) {
        // Map order is insertion order: re-inserting marks it most recently used.
        cache.delete(sql);
        cache.set(sql, cached);
        return cached;
      }
      const statement = database.prepare(sql);
      cache.set(sql, statement);
      if (cache.size > max) cache.delete(cache.keys().next().value!);
      return statement;
    },
  };
}
