import type SQLite from 'better-sqlite3';
import {
  CompiledQuery,
  SelectQueryNode,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  type Kysely,
  type QueryResult,
} from 'kysely';

/**
 * Kysely's SQLite dialect, with two changes that matter under load (issue #10):
 *
 * - **Statement cache.** Kysely's driver calls `prepare` for every query, and compiling SQL costs
 *   more than running our small indexed statements. The app issues a few dozen distinct
 *   statements; the compiled ones are kept (least recently used out past `maxStatements`).
 *
 * - **Group commit.** A commit writes every page it touched to the WAL, and that write, not the
 *   statement, is most of what a request's write costs. Single-statement writes outside a
 *   transaction (inserting a session, counting a page load) therefore share one transaction:
 *   the first opens it, every write until the event loop's next turn joins it, then one COMMIT
 *   ends it. Each caller's promise resolves only after that COMMIT, so nothing is answered
 *   before it is committed, as with autocommit. A write that fails (a constraint) fails alone;
 *   if SQLite had to abandon the whole transaction, every write in it fails.
 *
 * Explicit transactions (`db.transaction()`) run alone, as before: they wait for the connection,
 * first commit the open group, and hold the connection until they end; every other query waits
 * for them. Reads run at once; between a group's writes and its COMMIT (one event-loop turn) a
 * read on this connection may see the group's writes, which in this single-connection,
 * single-process database only ever become visible to other readers by committing.
 */
export function sqliteDialect(database: SQLite.Database, options: { maxStatements?: number } = {}): Dialect & { readonly cachedStatements: () => number } {
  const statements = new StatementCache(database, options.maxStatements ?? 256);
  return {
    createAdapter: () => new SqliteAdapter(),
    createDriver: () => new GroupCommitDriver(database, statements),
    createIntrospector: (db: Kysely<unknown>) => new SqliteIntrospector(db),
    createQueryCompiler: () => new SqliteQueryCompiler(),
    cachedStatements: () => statements.size,
  };
}

/** Only data changes join a group; DDL, PRAGMA and the like run on their own, as written. */
const GROUPABLE = /^\s*(insert|update|delete|replace)\b/i;

class StatementCache {
  readonly #cache = new Map<string, SQLite.Statement>();
  constructor(
    private readonly database: SQLite.Database,
    private readonly max: number,
  ) {}

  get size(): number {
    return this.#cache.size;
  }

  prepare(sql: string): SQLite.Statement {
    const cached = this.#cache.get(sql);
    if (cached) {
      // Map order is insertion order: re-inserting marks it most recently used.
      this.#cache.delete(sql);
      this.#cache.set(sql, cached);
      return cached;
    }
    const statement = this.database.prepare(sql);
    this.#cache.set(sql, statement);
    if (this.#cache.size > this.max) this.#cache.delete(this.#cache.keys().next().value!);
    return statement;
  }
}

interface Waiting {
  resolve: () => void;
  reject: (error: unknown) => void;
}

class GroupCommitDriver implements Driver {
  /** The connection inside an explicit transaction, if any: every other one waits for it. */
  #owner: Connection | undefined;
  #ownerEnded: Promise<void> = Promise.resolve();
  #endOwner: () => void = () => undefined;
  /** Writes run in the open group, waiting for its COMMIT. */
  #group: Waiting[] | undefined;

  constructor(
    private readonly database: SQLite.Database,
    private readonly statements: StatementCache,
  ) {}

  async init(): Promise<void> {}

  /** Acquiring takes no lock: a connection waits only while another holds a transaction. */
  async acquireConnection(): Promise<DatabaseConnection> {
    return new Connection(this);
  }

  async releaseConnection(): Promise<void> {}

  async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await this.untilFree(connection as Connection);
    this.commitGroup();
    this.#owner = connection as Connection;
    this.#ownerEnded = new Promise((resolve) => (this.#endOwner = resolve));
    this.run('begin');
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    this.endTransaction(connection as Connection, 'commit');
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    this.endTransaction(connection as Connection, 'rollback');
  }

  async destroy(): Promise<void> {
    this.commitGroup();
    this.database.close();
  }

  /** Waits while another connection holds a transaction. */
  async untilFree(connection: Connection): Promise<void> {
    while (this.#owner !== undefined && this.#owner !== connection) await this.#ownerEnded;
  }

  async execute(connection: Connection, query: CompiledQuery): Promise<QueryResult<unknown>> {
    await this.untilFree(connection);
    const statement = this.statements.prepare(query.sql);
    const inTransaction = this.#owner === connection;
    if (statement.readonly || inTransaction) return runStatement(statement, query);
    if (!GROUPABLE.test(query.sql)) {
      this.commitGroup();
      return runStatement(statement, query);
    }
    const group = this.openGroup();
    let result: QueryResult<unknown>;
    try {
      result = runStatement(statement, query);
    } catch (error) {
      // A failed statement undoes only itself, unless SQLite abandoned the whole transaction.
      if (!this.database.inTransaction) this.failGroup(group, error);
      throw error;
    }
    await new Promise<void>((resolve, reject) => group.push({ resolve, reject }));
    return result;
  }

  async *stream(connection: Connection, query: CompiledQuery): AsyncIterableIterator<QueryResult<unknown>> {
    await this.untilFree(connection);
    if (!SelectQueryNode.is(query.query)) throw new Error('SQLite streams only select queries');
    for (const row of this.statements.prepare(query.sql).iterate(query.parameters as unknown[])) yield { rows: [row] };
  }

  private run(sql: string): void {
    this.statements.prepare(sql).run();
  }

  private endTransaction(connection: Connection, sql: 'commit' | 'rollback'): void {
    // Already ended: Kysely rolls back after a failed COMMIT, which was rolled back below.
    if (this.#owner !== connection) return;
    try {
      // After SQLite rolled a transaction back itself (an I/O error, say), COMMIT must still fail.
      if (sql === 'commit' || this.database.inTransaction) this.run(sql);
    } catch (error) {
      if (this.database.inTransaction) this.run('rollback');
      throw error;
    } finally {
      this.#owner = undefined;
      this.#endOwner();
    }
  }

  private openGroup(): Waiting[] {
    if (this.#group) return this.#group;
    this.run('begin immediate');
    const group: Waiting[] = [];
    this.#group = group;
    setImmediate(() => {
      if (this.#group === group) this.commitGroup();
    });
    return group;
  }

  /** Commits the open group, if any, and tells its writers how it went. */
  private commitGroup(): void {
    const group = this.#group;
    if (!group) return;
    this.#group = undefined;
    try {
      this.run('commit');
    } catch (error) {
      if (this.database.inTransaction) this.run('rollback');
      for (const waiting of group) waiting.reject(error);
      return;
    }
    for (const waiting of group) waiting.resolve();
  }

  private failGroup(group: Waiting[], error: unknown): void {
    if (this.#group === group) this.#group = undefined;
    const lost = new Error('SQLite abandoned the transaction this write shared with others; it was not committed', { cause: error });
    for (const waiting of group) waiting.reject(lost);
  }
}

class Connection implements DatabaseConnection {
  constructor(private readonly driver: GroupCommitDriver) {}

  executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    return this.driver.execute(this, query) as Promise<QueryResult<R>>;
  }

  streamQuery<R>(query: CompiledQuery): AsyncIterableIterator<QueryResult<R>> {
    return this.driver.stream(this, query) as AsyncIterableIterator<QueryResult<R>>;
  }
}

function runStatement(statement: SQLite.Statement, query: CompiledQuery): QueryResult<unknown> {
  const parameters = query.parameters as unknown[];
  if (statement.reader) return { rows: statement.all(parameters) };
  const { changes, lastInsertRowid } = statement.run(parameters);
  return { numAffectedRows: BigInt(changes), insertId: BigInt(lastInsertRowid), rows: [] };
}
