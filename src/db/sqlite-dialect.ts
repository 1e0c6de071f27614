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
import type { WalCheckpoints } from './sqlite-checkpoints.js';

/**
 * Kysely's SQLite dialect, with three changes that matter under load (issue #10):
 *
 * - **Statement cache.** Kysely's driver calls `prepare` for every query, and compiling SQL costs
 *   more than running our small indexed statements. The app issues a few dozen distinct
 *   statements; the compiled ones are kept (least recently used out past `maxStatements`).
 *
 * - **Group commit.** A commit writes every page it touched to the WAL, and that write, not the
 *   statement, is most of what a request's write costs. So writes share transactions: the first
 *   write opens one (BEGIN IMMEDIATE), every write until the event loop's next turn joins it, then
 *   one COMMIT ends it. Each writer's promise resolves only after that COMMIT, so nothing is
 *   acknowledged before it is committed, as with autocommit. A single write that fails (a
 *   constraint) undoes only itself; if SQLite had to abandon the whole transaction, every write
 *   in it fails.
 *
 * - **Checkpoints off the event loop.** With `checkpoints`, each COMMIT is counted, and a worker
 *   thread copies the WAL into the database file (see WalCheckpoints), not the COMMIT that
 *   happened to cross SQLite's threshold.
 *
 * Explicit transactions (`db.transaction()`) join the group as a savepoint: one runs at a time,
 * holding the connection (every other query waits, as with Kysely's own SQLite driver); rolling
 * back undoes only it; its commit resolves after the group's COMMIT, which never happens in the
 * middle of one. Reads run at once; between a write and its group's COMMIT (one event-loop turn)
 * a read on this connection may see it. This is a single-connection, single-process database,
 * so nothing else reads it before the COMMIT.
 */
export function sqliteDialect(
  database: SQLite.Database,
  options: { maxStatements?: number; checkpoints?: WalCheckpoints } = {},
): Dialect & { readonly cachedStatements: () => number } {
  const statements = new StatementCache(database, options.maxStatements ?? 256);
  return {
    createAdapter: () => new SqliteAdapter(),
    createDriver: () => new GroupCommitDriver(database, statements, options.checkpoints),
    createIntrospector: (db: Kysely<unknown>) => new SqliteIntrospector(db),
    createQueryCompiler: () => new SqliteQueryCompiler(),
    cachedStatements: () => statements.size,
  };
}

/**
 * Only data changes join a group; DDL, PRAGMA and the like run on their own, as written. Leading
 * comments (the `PREPARED` mark) are skipped.
 */
const GROUPABLE = /^\s*(?:\/\*[^]*?\*\/\s*)*(insert|update|delete|replace)\b/i;
const SAVEPOINT = 'kysely_transaction';

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
  /** The open group's turn is over but a transaction was running: commit when it ends. */
  #commitDue = false;

  constructor(
    private readonly database: SQLite.Database,
    private readonly statements: StatementCache,
    private readonly checkpoints: WalCheckpoints | undefined,
  ) {}

  async init(): Promise<void> {}

  /** Acquiring takes no lock: a connection waits only while another holds a transaction. */
  async acquireConnection(): Promise<DatabaseConnection> {
    return new Connection(this);
  }

  async releaseConnection(): Promise<void> {}

  /** A transaction is a savepoint in the open group: it runs alone, and commits with the group. */
  async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await this.untilFree(connection as Connection);
    this.openGroup();
    this.run(`savepoint ${SAVEPOINT}`);
    this.#owner = connection as Connection;
    this.#ownerEnded = new Promise((resolve) => (this.#endOwner = resolve));
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    // Its writes are final with the group's COMMIT; other queries run meanwhile.
    const committed = this.commitOf(this.#group);
    try {
      this.endTransaction(connection as Connection, () => this.run(`release ${SAVEPOINT}`));
    } catch (error) {
      committed.catch(() => undefined); // failed with the same error, thrown here
      throw error;
    }
    await committed;
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    this.endTransaction(connection as Connection, () => {
      this.run(`rollback to ${SAVEPOINT}`);
      this.run(`release ${SAVEPOINT}`);
    });
  }

  /** Lets a running transaction end first: committing the group under it would commit half of it. */
  async destroy(): Promise<void> {
    // The worker first: nothing may slip in between the last COMMIT and the close.
    await this.checkpoints?.close();
    await this.untilFree();
    this.commitGroup();
    this.database.close();
  }

  /** Waits while another connection (any, without one) holds a transaction. */
  async untilFree(connection?: Connection): Promise<void> {
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
    await this.commitOf(group);
    return result;
  }

  async *stream(connection: Connection, query: CompiledQuery): AsyncIterableIterator<QueryResult<unknown>> {
    await this.untilFree(connection);
    if (!SelectQueryNode.is(query.query)) throw new Error('SQLite streams only select queries');
    for (const row of this.statements.prepare(query.sql).iterate(query.parameters)) yield { rows: [row] };
  }

  private run(sql: string): void {
    this.statements.prepare(sql).run();
  }

  private endTransaction(connection: Connection, end: () => void): void {
    // Already ended: Kysely rolls back after a failed commit, whose group failed as a whole.
    if (this.#owner !== connection) return;
    try {
      // SQLite abandons the whole transaction on some errors (I/O, disk full): the group is lost.
      if (!this.database.inTransaction) throw new Error('SQLite rolled the transaction back');
      end();
    } catch (error) {
      throw this.failGroup(this.#group, error);
    } finally {
      this.#owner = undefined;
      this.#endOwner();
      // The group's turn ended while this transaction ran: commit it now.
      if (this.#commitDue) this.commitGroup();
    }
  }

  private openGroup(): Waiting[] {
    if (this.#group) return this.#group;
    this.run('begin immediate');
    const group: Waiting[] = [];
    this.#group = group;
    setImmediate(() => {
      if (this.#group !== group) return;
      // Never in the middle of a transaction (it may await other I/O): it commits when it ends.
      if (this.#owner) this.#commitDue = true;
      else this.commitGroup();
    });
    return group;
  }

  /** Commits the open group, if any, and tells its writers how it went. */
  private commitGroup(): void {
    const group = this.#group;
    if (!group) return;
    this.#group = undefined;
    this.#commitDue = false;
    try {
      this.run('commit');
    } catch (error) {
      if (this.database.inTransaction) this.run('rollback');
      for (const waiting of group) waiting.reject(error);
      return;
    }
    this.checkpoints?.committed();
    for (const waiting of group) waiting.resolve();
  }

  /** Resolves once `group` is committed; rejects if it is not. */
  private commitOf(group: Waiting[] | undefined): Promise<void> {
    if (!group) return Promise.reject(new Error('SQLite transaction ended before it was committed'));
    return new Promise<void>((resolve, reject) => group.push({ resolve, reject }));
  }

  /** Ends a group SQLite had to abandon: none of its writes were committed. Returns the error. */
  private failGroup(group: Waiting[] | undefined, error: unknown): Error {
    const lost = new Error('SQLite abandoned the transaction this write shared with others; it was not committed', { cause: error });
    if (!group) return lost;
    if (this.#group === group) {
      this.#group = undefined;
      this.#commitDue = false;
      if (this.database.inTransaction) this.run('rollback');
    }
    for (const waiting of group) waiting.reject(lost);
    return lost;
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
