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

/** A session ended without connecting: the platform hears `session.cancelled|failed|expired`. */
export interface SessionEnding {
  kind: 'cancelled' | 'failed' | 'expired';
  userId: string;
  sessionId: string;
  lastError: { statusCode: number | null; at: string } | null;
  /** The session's connection (a refresh target, or one that reported an error), if any. */
  connection: ConnectionRow | undefined;
}

/** Like ConnectionChangeHook: runs inside the transaction that ended the session. */
export type SessionEndingHook = (trx: Db, ending: SessionEnding) => Promise<void>;
