import { createHash } from 'node:crypto';
import { CompiledQuery, type Compilable, type PostgresCursor, type PostgresPoolClient, type PostgresQueryResult, type QueryResult } from 'kysely';
import type { Db } from './executor.js';
import type pg from 'pg';

/**
 * PostgreSQL parses and plans every unnamed statement anew. A statement whose text starts with
 * this comment goes out as a named prepared statement instead: each pooled connection parses it
 * once and the server reuses its plan. For hot statements of one fixed text whose result columns
 * no migration can change (never a bare `select *` in the output: a prepared statement refuses
 * a changed row type). SQLite ignores the comment (its statements are cached anyway).
 */
export const PREPARED = '/* prepared */ ';

// One wrapper per pooled client: Kysely keeps its connection object per client identity.
const wrappers = new WeakMap<pg.PoolClient, PostgresPoolClient>();

/** The client as Kysely's PostgreSQL driver uses it, with `PREPARED` statements sent by name. */
export function withPreparedStatements(client: pg.PoolClient): PostgresPoolClient {
  let wrapper = wrappers.get(client);
  if (!wrapper) {
    function query<R>(sql: string, parameters: readonly unknown[]): Promise<PostgresQueryResult<R>>;
    function query<R>(cursor: PostgresCursor<R>): PostgresCursor<R>;
    function query<R>(sqlOrCursor: string | PostgresCursor<R>, parameters?: readonly unknown[]): Promise<PostgresQueryResult<R>> | PostgresCursor<R> {
      if (typeof sqlOrCursor !== 'string') return client.query(sqlOrCursor as never);
      const values = [...(parameters ?? [])];
      if (!sqlOrCursor.startsWith(PREPARED)) return client.query(sqlOrCursor, values) as unknown as Promise<PostgresQueryResult<R>>;
      // pg parses a named statement on its first use on a connection and only binds it afterwards.
      return client.query({ name: statementName(sqlOrCursor), text: sqlOrCursor, values }) as unknown as Promise<PostgresQueryResult<R>>;
    }
    // Kysely passes `true` to drop a broken connection instead of returning it to the pool.
    wrapper = { query, release: (...args: [destroy?: boolean]) => client.release(...args) };
    wrappers.set(client, wrapper);
  }
  return wrapper;
}

const names = new Map<string, string>();

/** A name per text (pg refuses one name for two texts), computed once per text. */
function statementName(text: string): string {
  let name = names.get(text);
  if (name === undefined) {
    name = `p_${createHash('sha256').update(text).digest('hex').slice(0, 32)}`;
    names.set(text, name);
  }
  return name;
}

/**
 * Every column of a row type by name, for a prepared statement's result (never `*`: a prepared
 * statement refuses a row type a migration changed). Naming one too few or too many fails to compile.
 */
export function columnsOf<Row>(names: { [K in keyof Row & string]: true }): Array<keyof Row & string> {
  return Object.keys(names) as Array<keyof Row & string>;
}

/** Stands in for one parameter (a value, an element of a list, or a column of a row in a list of rows) while a `fixedStatement` is built. */
class Placeholder {
  constructor(
    readonly name: string,
    readonly index?: number,
    readonly column?: string,
  ) {}

  get key(): string {
    return `${this.name}[${this.index ?? ''}]${this.column ?? ''}`;
  }
}

interface Plan {
  text: string;
  bind: Array<Placeholder | { constant: unknown }>;
}

type Row = Record<string, unknown>;
const isRow = (value: unknown): value is Row => typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype;

/**
 * A statement built and compiled by Kysely once per database (its transactions included) and
 * shape, and afterwards only bound: building and compiling a query cost more than SQLite takes to
 * run our small indexed ones. `build` gets placeholders for `params`' values, so a value may only
 * be bound, never shape the text. What may shape it: which params are present (`build` sees an
 * absent one as undefined, e.g. to leave out a clause), each list param's length (a list is one
 * placeholder per element, e.g. for `in`) and, in a list of rows (a multi-row insert), which
 * columns each row has. Every present value must end up a parameter, or the first call of that
 * shape throws. A `PREPARED` statement: its result names its columns, never `*`.
 * Except a statement with a list of values: PostgreSQL keeps the generic plan of a prepared
 * statement until the table is next analyzed, and for an `in` list planned while the table was
 * small that plan is a sequential scan, kept as the table grows (measured: host page loads at a
 * tenth of their rate, 5–35 ms a statement, once 40,000 sessions were written in under a minute).
 * Unnamed, it is planned for the table as it is at every call, a cost its batch of rows shares.
 * An insert's list of rows has no plan to go stale: it stays prepared.
 */
export function fixedStatement<P extends Record<string, unknown>, R>(build: (db: Db, params: P) => Compilable<R>): (db: Db, params: P) => Promise<QueryResult<R>> {
  // The compiled text depends on the dialect and the shape; a transaction shares its database's adapter.
  const plans = new WeakMap<object, Map<string, Plan>>();
  const planFor = (db: Db, params: P): Plan => {
    const dialect = db.getExecutor().adapter;
    let byShape = plans.get(dialect);
    if (byShape === undefined) plans.set(dialect, (byShape = new Map<string, Plan>()));
    const shape = shapeOf(params);
    let plan = byShape.get(shape);
    if (plan === undefined) {
      const placeholders: Record<string, unknown> = {};
      const all: Placeholder[] = [];
      const placeholder = (name: string, index?: number, column?: string) => {
        const made = new Placeholder(name, index, column);
        all.push(made);
        return made;
      };
      let valueList = false;
      for (const [name, value] of Object.entries(params)) {
        if (value === undefined) continue;
        if (!Array.isArray(value)) {
          placeholders[name] = placeholder(name);
          continue;
        }
        placeholders[name] = value.map((element: unknown, i) => {
          if (!isRow(element)) {
            valueList = true;
            return placeholder(name, i);
          }
          return Object.fromEntries(presentColumns(element).map((column) => [column, placeholder(name, i, column)]));
        });
      }
      const compiled = build(db, placeholders as P).compile();
      const bind = compiled.parameters.map((value) => (value instanceof Placeholder ? value : { constant: value }));
      const bound = new Set(bind.map((b) => (b instanceof Placeholder ? b.key : '')));
      const unbound = all.filter((made) => !bound.has(made.key)).map((made) => made.name);
      if (unbound.length > 0) throw new Error(`fixedStatement: ${[...new Set(unbound)].join(', ')} did not become parameters: ${compiled.sql}`);
      // A list of values' statement is planned at every call instead (see above).
      plan = { text: (valueList ? '' : PREPARED) + compiled.sql, bind };
      byShape.set(shape, plan);
    }
    return plan;
  };
  return (db, params) => {
    let plan;
    try {
      plan = planFor(db, params);
    } catch (error) {
      return Promise.reject(error);
    }
    const values = plan.bind.map((b) => {
      if (!(b instanceof Placeholder)) return b.constant;
      const value = b.index === undefined ? params[b.name] : (params[b.name] as unknown[])[b.index];
      return (b.column === undefined ? value : (value as Row)[b.column]) ?? null;
    });
    return db.executeQuery<R>(CompiledQuery.raw(plan.text, values));
  };
}

/** A row's columns with a value (an undefined one is absent, as Kysely's insert leaves it out). */
const presentColumns = (row: Row): string[] => Object.keys(row).filter((column) => row[column] !== undefined);

/** Which params are present, each list's length and each listed row's columns: all that may shape a fixed statement's text. */
function shapeOf(params: Record<string, unknown>): string {
  let shape = '';
  for (const name in params) {
    const value = params[name];
    if (value === undefined) continue;
    if (!Array.isArray(value)) {
      shape += `${name} `;
      continue;
    }
    shape += `${name}[${value.length}`;
    for (const element of value) if (isRow(element)) shape += `{${presentColumns(element).join()}}`;
    shape += '] ';
  }
  return shape;
}
