import type { ConnectionRow } from '../db/schema.js';
import type { Db } from '../db/executor.js';

/** The state changes the platform hears about (SPEC §8), named as its webhooks are. */
export type ConnectionChangeKind = 'connected' | 'refreshed' | 'verified' | 'data_ready' | 'needs_attention' | 'deleted';

export interface ConnectionChange {
  kind: ConnectionChangeKind;
  userId: string;
  sessionId: string | null;
  connection: ConnectionRow;
}

/**
 * Called inside the transaction that made the change, so whatever it writes (the outbox row,
 * a verification job) commits or rolls back with it. The default does nothing.
 */
export type ConnectionChangeHook = (trx: Db, change: ConnectionChange) => Promise<void>;
