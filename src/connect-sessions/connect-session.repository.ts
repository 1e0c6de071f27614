import { sql, type Kysely } from 'kysely';
import { batchedWrite } from '../db/batched-writes.js';
import { columnsOf, fixedStatement } from '../db/prepared-statements.js';
import type { ConnectSessionRow, ConnectSessionUpdate, Database } from '../db/schema.js';
import type { Db } from '../db/executor.js';

const COLUMNS = columnsOf<ConnectSessionRow>({
  id: true,
  user_id: true,
  mode: true,
  job_types: true,
  institution_id: true,
  connection_id: true,
  target_origin: true,
  embed: true,
  presentation: true,
  redirect_uri: true,
  single_account_select: true,
  status: true,
  failure_reason: true,
  last_error_code: true,
  last_error_at: true,
  load_count: true,
  expires_at: true,
  created_at: true,
  updated_at: true,
});

const insertSessions = fixedStatement((db, p: { rows: ConnectSessionRow[] }) => db.insertInto('connect_sessions').values(p.rows));

/** Records a new session: whole rows, written together with concurrent calls' (prepared on PostgreSQL). */
export const insertConnectSession: (db: Kysely<Database>, row: ConnectSessionRow) => Promise<void> = batchedWrite({
  write: (db, rows: ConnectSessionRow[]) => insertSessions(db, { rows }).then(() => rows.map(() => undefined)),
});

/** Removes a session nobody was ever told about (its direct connect URL could not be minted). */
export async function deleteConnectSession(db: Db, id: string): Promise<void> {
  await db.deleteFrom('connect_sessions').where('id', '=', id).execute();
}

const selectSession = fixedStatement((db, p: { id: string }) => db.selectFrom('connect_sessions').select(COLUMNS).where('id', '=', p.id));

/** By id alone: only for capability-authenticated routes, which then check the MAC against its user. */
export function findConnectSession(db: Db, id: string): Promise<ConnectSessionRow | undefined> {
  return selectSession(db, { id }).then((result) => result.rows[0]);
}

const selectOwnedSession = fixedStatement((db, p: { id: string; userId: string }) =>
  db.selectFrom('connect_sessions').select(COLUMNS).where('id', '=', p.id).where('user_id', '=', p.userId),
);

export function findOwnedConnectSession(db: Db, userId: string, id: string): Promise<ConnectSessionRow | undefined> {
  return selectOwnedSession(db, { id, userId }).then((result) => result.rows[0]);
}

export async function updateConnectSession(db: Db, id: string, changes: ConnectSessionUpdate): Promise<void> {
  await db.updateTable('connect_sessions').set(changes).where('id', '=', id).execute();
}

/** Counts one page load, only while the session is still open and under its load budget; the row as counted. */
export function countSessionLoad(db: Kysely<Database>, id: string, maxLoads: number, nowIso: string): Promise<ConnectSessionRow | undefined> {
  return countLoads(db, { id, maxLoads, nowIso });
}

interface SessionLoad {
  id: string;
  maxLoads: number;
  nowIso: string;
}

const countLoads = batchedWrite({
  // One update per row and statement (its RETURNING would show a row once); one budget per statement.
  canJoin: (load: SessionLoad, batch: readonly SessionLoad[]) => load.maxLoads === batch[0]!.maxLoads && !batch.some((other) => other.id === load.id),
  write: async (db, loads: SessionLoad[]) => {
    const { rows } = await countLoadsStatement(db, {
      ids: loads.map((load) => load.id),
      maxLoads: loads[0]!.maxLoads,
      // The loads of one statement share one timestamp: the latest of them.
      nowIso: loads.reduce((latest, load) => (load.nowIso > latest ? load.nowIso : latest), loads[0]!.nowIso),
    });
    const counted = new Map(rows.map((row) => [row.id, row]));
    return loads.map((load) => counted.get(load.id));
  },
});

const countLoadsStatement = fixedStatement((db, p: { ids: string[]; maxLoads: number; nowIso: string }) =>
  db
    .updateTable('connect_sessions')
    .set((eb) => ({
      load_count: eb('load_count', '+', 1),
      status: sql<ConnectSessionRow['status']>`case when status = 'created' then 'opened' else status end`,
      updated_at: p.nowIso,
    }))
    .where('id', 'in', p.ids)
    // Open and under budget, said so that no index can serve it: without fresh statistics the
    // planner took `status in (…)` for selective and ANDed the status index's ~all open sessions
    // into every batch (10 ms a statement at 36,000 open sessions instead of 0.3 ms).
    .where(sql<boolean>`case when status in ('created', 'opened') then load_count < ${p.maxLoads} else false end`)
    .returning(COLUMNS),
);

/** What a session transition writes. */
export type SessionMove = Pick<ConnectSessionRow, 'status' | 'connection_id' | 'last_error_code' | 'last_error_at' | 'failure_reason' | 'updated_at'>;

const updateOpen = fixedStatement((db, p: SessionMove & { id: string; readStatus: ConnectSessionRow['status'] }) =>
  db
    .updateTable('connect_sessions')
    .set({
      status: p.status,
      connection_id: p.connection_id,
      last_error_code: p.last_error_code,
      last_error_at: p.last_error_at,
      failure_reason: p.failure_reason,
      updated_at: p.updated_at,
    })
    .where('id', '=', p.id)
    .where('status', '=', p.readStatus),
);

/**
 * Writes a session change only while the row still has the status it was read with, so two
 * writers (a relay, an expiry sweep, a cancel) never overwrite each other's ending.
 */
export async function updateOpenConnectSession(db: Db, id: string, readStatus: ConnectSessionRow['status'], move: SessionMove): Promise<boolean> {
  const result = await updateOpen(db, { ...move, id, readStatus });
  return Number(result.numAffectedRows ?? 0n) > 0;
}

/** Open sessions past their expiry, oldest first: what the maintenance sweep ends. */
export function listDueSessions(db: Db, nowIso: string, limit: number): Promise<ConnectSessionRow[]> {
  return db
    .selectFrom('connect_sessions')
    .selectAll()
    .where('status', 'in', ['created', 'opened'])
    .where('expires_at', '<=', nowIso)
    .orderBy('expires_at')
    .limit(limit)
    .execute();
}

/** The latest session that produced (or refreshed) a connection: whose SSE stream wants to hear about it. */
export async function findLatestSessionIdOfConnection(db: Db, connection: { id: string; user_id: string }): Promise<string | null> {
  return (
    (
      await db
        .selectFrom('connect_sessions')
        .select('id')
        .where('connection_id', '=', connection.id)
        .where('user_id', '=', connection.user_id)
        .orderBy('updated_at', 'desc')
        .executeTakeFirst()
    )?.id ?? null
  );
}
