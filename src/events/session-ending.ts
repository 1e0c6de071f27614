import type { ConnectionRow } from '../db/schema.js';
import type { Db } from '../db/executor.js';

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
