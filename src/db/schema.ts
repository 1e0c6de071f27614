import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';

/**
 * Table shapes shared by both dialects. Timestamps are ISO-8601 UTC strings with milliseconds
 * (`2026-11-26T06:00:00.000Z`) in both SQLite and PostgreSQL, so they compare as text and map
 * to API fields without conversion. Booleans are 0/1 integers for the same reason.
 */
type Timestamp = string;
type Flag = 0 | 1;

export interface ConnectSessionTable {
  id: string;
  user_id: string;
  mode: 'new' | 'refresh';
  /** JSON array of job types. */
  job_types: string;
  institution_id: string | null;
  /** The BFF connection being refreshed, or the one this session produced. */
  connection_id: string | null;
  target_origin: string | null;
  embed: 'host' | 'direct';
  presentation: 'auto' | 'iframe' | 'popup';
  redirect_uri: string | null;
  single_account_select: Flag | null;
  status: 'created' | 'opened' | 'connected' | 'failed' | 'cancelled' | 'expired';
  failure_reason: string | null;
  /** The latest `memberError` (its status code, null when it carried none) while the session was open. */
  last_error_code: ColumnType<number | null, number | null | undefined, number | null>;
  last_error_at: ColumnType<Timestamp | null, Timestamp | null | undefined, Timestamp | null>;
  load_count: ColumnType<number, number | undefined, number>;
  expires_at: Timestamp;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface ConnectionTable {
  id: string;
  user_id: string;
  aggregator: string;
  /** Secret: the aggregator's connection id (for plaid, an access token). Encrypted when a key is set. */
  aggregator_connection_id: string;
  /** Secret: the aggregator's user id, same treatment. */
  aggregator_user_id: string | null;
  /** Id of the key that encrypted the two columns above; null when stored in plain text. */
  encryption_key_id: string | null;
  /** Blind index: HMAC of (aggregator, aggregator connection id); unique, so one aggregator connection has one owner. */
  lookup_key: string;
  institution_id: string | null;
  job_types: string;
  status: 'pending' | 'connected' | 'needs_attention' | 'error' | 'disconnected' | 'deleted';
  status_code: number | null;
  verified: ColumnType<Flag, Flag | undefined, Flag>;
  data_ready: ColumnType<Flag, Flag | undefined, Flag>;
  verification_error: string | null;
  duplicate_of: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
  last_connected_at: Timestamp | null;
}

export interface ConnectionEventTable {
  /** Monotonic: doubles as the SSE event id. */
  seq: Generated<number>;
  dedupe_key: string;
  user_id: string;
  session_id: string | null;
  connection_id: string | null;
  type: string;
  source: 'relay' | 'direct' | 'webhook' | 'system';
  status_code: number | null;
  /** JSON of the sanitized metadata: never an aggregator connection id or user id. */
  metadata: string;
  created_at: Timestamp;
}

export interface InboundWebhookTable {
  webhook_id: string;
  received_at: Timestamp;
}

export interface OutboxTable {
  id: string;
  type: string;
  payload: string;
  status: 'pending' | 'delivered' | 'dead';
  attempts: ColumnType<number, number | undefined, number>;
  next_attempt_at: Timestamp;
  claimed_until: Timestamp | null;
  last_error: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface JobTable {
  id: string;
  kind: 'verify_connection';
  subject_id: string;
  status: 'pending' | 'done' | 'failed';
  attempts: ColumnType<number, number | undefined, number>;
  run_at: Timestamp;
  deadline_at: Timestamp;
  claimed_until: Timestamp | null;
  last_error: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface Database {
  connect_sessions: ConnectSessionTable;
  connections: ConnectionTable;
  connection_events: ConnectionEventTable;
  inbound_webhooks: InboundWebhookTable;
  outbox: OutboxTable;
  jobs: JobTable;
  rate_limit_buckets: RateLimitBucketTable;
}

/** A shared fixed-window counter (PostgreSQL deployments; see src/http/rate-limit-store.postgres.ts). */
export interface RateLimitBucketTable {
  key: string;
  window_start: number;
  expires_at: number;
  count: number;
}

export type ConnectSessionRow = Selectable<ConnectSessionTable>;
export type NewConnectSession = Insertable<ConnectSessionTable>;
export type ConnectSessionUpdate = Updateable<ConnectSessionTable>;
export type ConnectionRow = Selectable<ConnectionTable>;
export type NewConnection = Insertable<ConnectionTable>;
export type ConnectionUpdate = Updateable<ConnectionTable>;
export type ConnectionEventRow = Selectable<ConnectionEventTable>;
export type OutboxRow = Selectable<OutboxTable>;
export type JobRow = Selectable<JobTable>;
