import { createHash } from 'node:crypto';
import type { Db } from '../db/executor.js';
import type { ConnectionEventRow, ConnectionEventTable } from '../db/schema.js';
import type { Insertable } from 'kysely';
import { columnsOf, fixedStatement } from '../db/prepared-statements.js';
import { canonicalJson } from '../lib/json-limits.js';

/** A log row with every column but its generated `seq` (absent values null). */
export type EventLogRow = Required<Omit<Insertable<ConnectionEventTable>, 'seq'>>;

const insertEvent = fixedStatement((db, row: EventLogRow) =>
  db
    .insertInto('connection_events')
    .values(row)
    .onConflict((oc) => oc.column('dedupe_key').doNothing()),
);

/** Appends one event; false when its dedupe key was already there (a redelivery). */
export async function appendEvent(db: Db, row: EventLogRow): Promise<boolean> {
  const result = await insertEvent(db, row);
  return Number(result.numAffectedRows ?? 0n) > 0;
}

/** Appends several events in one statement, in order (their seqs follow it: SSE replays them so). */
export async function appendEvents(db: Db, rows: Array<Insertable<ConnectionEventTable>>): Promise<void> {
  if (rows.length === 0) return;
  await db
    .insertInto('connection_events')
    .values(rows)
    .onConflict((oc) => oc.column('dedupe_key').doNothing())
    .execute();
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
