import type { Db } from '../db/executor.js';
import type { Logger } from '../logger.js';
import { findLookupKeyHolder, findRekeyRow, listRekeyRows, resealConnection, type RekeyRow } from './connection.repository.js';
import type { SecretBox } from './secret-box.js';

export interface RekeyReport {
  /** Rows re-sealed under the current key and re-indexed. */
  rekeyed: number;
  /** Rows already under the current key with the current index. */
  current: number;
  /** Rows another writer changed mid-way three times running; a re-run picks them up. */
  busy: number;
  /** Rows left as they are: their key is not configured, or their new index belongs to another row. */
  failed: number;
}

export type { RekeyRow };

/**
 * Re-seals every connection under the ring's current key and rebuilds its blind index
 * (`npm run rekey`). Resumable: it walks rows in id order in batches, skips rows already current,
 * and `after` restarts past a given id. Safe beside running instances: each row is replaced with a
 * compare-and-set on the key id and index it was read with, so a concurrent write is never
 * overwritten (the row is read again instead), and lookups accept every ring key meanwhile.
 */
export async function rekeyConnections(
  db: Db,
  box: SecretBox,
  logger: Pick<Logger, 'info' | 'warn'>,
  options: { batchSize?: number; after?: string } = {},
): Promise<RekeyReport> {
  const batchSize = options.batchSize ?? 500;
  const report: RekeyReport = { rekeyed: 0, current: 0, busy: 0, failed: 0 };
  let cursor = options.after ?? '';
  for (;;) {
    const batch = await listRekeyRows(db, cursor, batchSize);
    if (batch.length === 0) break;
    for (const row of batch) report[await rekeyConnection(db, box, logger, row)] += 1;
    cursor = batch[batch.length - 1]!.id;
    logger.info({ event: 'rekey_progress', after: cursor, ...report }, 'rekey: batch done (resume with --after <id>)');
  }
  return report;
}

/** One row (as read earlier, possibly stale): re-sealed with a compare-and-set, re-read and retried when it changed. */
export async function rekeyConnection(db: Db, box: SecretBox, logger: Pick<Logger, 'warn'>, first: RekeyRow): Promise<keyof RekeyReport> {
  let row: RekeyRow | undefined = first;
  for (let attempt = 0; attempt < 3 && row; attempt += 1) {
    let connectionId: string;
    let userId: string | null;
    try {
      connectionId = box.open(row.aggregator_connection_id, row.encryption_key_id);
      userId = row.aggregator_user_id === null ? null : box.open(row.aggregator_user_id, row.encryption_key_id);
    } catch {
      logger.warn({ event: 'rekey_failed', connection: row.id, keyId: row.encryption_key_id }, 'rekey: the row cannot be opened with the configured keys');
      return 'failed';
    }
    let lookupKey: string;
    try {
      lookupKey = box.lookupKey(row.aggregator, connectionId);
    } catch {
      logger.warn({ event: 'rekey_failed', connection: row.id }, 'rekey: the row has an aggregator that is not normalized');
      return 'failed';
    }
    if (row.encryption_key_id === box.currentKeyId && row.lookup_key === lookupKey) return 'current';
    const holder = await findLookupKeyHolder(db, lookupKey, row.id);
    if (holder) {
      logger.warn({ security: true, event: 'rekey_conflict', connection: row.id, conflictsWith: holder.id }, 'rekey: another row already holds this connection under the current key; both kept');
      return 'failed';
    }
    const sealed = box.seal(connectionId);
    const resealed = {
      aggregator_connection_id: sealed.value,
      aggregator_user_id: userId === null ? null : box.seal(userId).value,
      encryption_key_id: sealed.keyId,
      lookup_key: lookupKey,
    };
    if (await resealConnection(db, row, resealed)) return 'rekeyed';
    // Someone wrote the row meanwhile: read it again and retry.
    row = await findRekeyRow(db, first.id);
  }
  return row ? 'busy' : 'current';
}
