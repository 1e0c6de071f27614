import { createHash } from 'node:crypto';
import type { Db } from '../db/executor.js';
import type { ConnectionEventRow, ConnectionEventTable } from '../db/schema.js';
import type { Insertable } from 'kysely';
import { columnsOf, fixedStatement } from '../db/prepared-statements.js';
import { canonicalJson } from '../lib/json-limits.js';

/** A log row with every column but its generated `seq` (absent values null). */
export type EventLogRow = Required<Omit<Insertable<ConnectionEventTable>, 'seq'>>;

const insertEvents = fixedStatement((db, p: { rows: EventLogRow[] }) =>
  db
    .insertInto('connection_events')
    .values(p.rows)
    .onConflict((oc) => oc.column('dedupe_key').doNothing())
    .returning('dedupe_key'),
);

/**
 * Appends events in one statement, in order (their seqs follow it: SSE replays them so). Returns
 * the dedupe keys it appended: one already there (a redelivery) is skipped, and absent.
 */
export async function appendEvents(db: Db, rows: EventLogRow[]): Promise<Set<string>> {
  if (rows.length === 0) return new Set();
  const { rows: appended } = await insertEvents(db, { rows });
  return new Set(appended.map((row) => row.dedupe_key));
}

const COLUMNS = columnsOf<ConnectionEventRow>({
  seq: true,
  dedupe_key: true,
  user_id: true,
  session_id: true,
  connection_id: true,
  type: true,
  source: true,
  status_code: true,
  metadata: true,
  created_at: true,
});

const selectSessionChanges = fixedStatement((db, p: { sessionId: string; afterSeq: number }) =>
  db.selectFrom('connection_events').select(COLUMNS).where('session_id', '=', p.sessionId).where('source', '=', 'system').where('seq', '>', p.afterSeq).orderBy('seq'),
);

/** The session's state-change events after `afterSeq`, oldest first (what SSE streams and replays). */
export function listSessionChanges(db: Db, sessionId: string, afterSeq: number): Promise<ConnectionEventRow[]> {
  return selectSessionChanges(db, { sessionId, afterSeq }).then((result) => result.rows);
}

/**
 * The newest state-change seq of each of `sessionIds` that has any (sessions without one are
 * absent): one indexed read for many open streams, so they can tell whether they are behind.
 */
export async function latestSessionChangeSeqs(db: Db, sessionIds: readonly string[]): Promise<Map<string, number>> {
  if (sessionIds.length === 0) return new Map();
  const rows = await db
    .selectFrom('connection_events')
    .select(['session_id', (eb) => eb.fn.max('seq').as('seq')])
    .where('session_id', 'in', sessionIds)
    .where('source', '=', 'system')
    .groupBy('session_id')
    .execute();
  return new Map(rows.map((row) => [row.session_id!, Number(row.seq)]));
}

/**
 * The identity of a widget event: who, which session, what. A browser retry, a second relay
 * of the same postMessage and a webhook carrying the same event all collapse into one record.
 */
export function eventDedupeKey(userId: string, sessionId: string | null, type: string, metadata: unknown): string {
  return `evt:${createHash('sha256').update(canonicalJson([userId, sessionId, type, metadata])).digest('base64url')}`;
}
