import type { Kysely } from 'kysely';

/** The tables of SPEC §7 and the delivery machinery around them. */
export async function up(db: Kysely<unknown>, dialect: 'sqlite' | 'postgres'): Promise<void> {
  await db.schema
    .createTable('connect_sessions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('mode', 'text', (c) => c.notNull())
    .addColumn('job_types', 'text', (c) => c.notNull())
    .addColumn('institution_id', 'text')
    .addColumn('connection_id', 'text')
    .addColumn('target_origin', 'text')
    .addColumn('embed', 'text', (c) => c.notNull())
    .addColumn('presentation', 'text', (c) => c.notNull())
    .addColumn('redirect_uri', 'text')
    .addColumn('single_account_select', 'integer')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('failure_reason', 'text')
    .addColumn('load_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('connect_sessions_user_idx').on('connect_sessions').columns(['user_id', 'created_at']).execute();
  await db.schema.createIndex('connect_sessions_expiry_idx').on('connect_sessions').columns(['status', 'expires_at']).execute();

  await db.schema
    .createTable('connections')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('aggregator', 'text', (c) => c.notNull())
    .addColumn('aggregator_connection_id', 'text', (c) => c.notNull())
    .addColumn('aggregator_user_id', 'text')
    .addColumn('encryption_key_id', 'text')
    .addColumn('lookup_key', 'text', (c) => c.notNull().unique())
    .addColumn('institution_id', 'text')
    .addColumn('job_types', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('status_code', 'integer')
    .addColumn('verified', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('data_ready', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('verification_error', 'text')
    .addColumn('duplicate_of', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addColumn('last_connected_at', 'text')
    .execute();
  await db.schema.createIndex('connections_user_idx').on('connections').columns(['user_id', 'created_at']).execute();

  await db.schema
    .createTable('connection_events')
    .addColumn('seq', dialect === 'postgres' ? 'bigserial' : 'integer', (c) =>
      dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement(),
    )
    .addColumn('dedupe_key', 'text', (c) => c.notNull().unique())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('session_id', 'text')
    .addColumn('connection_id', 'text')
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('status_code', 'integer')
    .addColumn('metadata', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('connection_events_session_idx').on('connection_events').columns(['session_id', 'seq']).execute();

  await db.schema
    .createTable('inbound_webhooks')
    .addColumn('webhook_id', 'text', (c) => c.primaryKey())
    .addColumn('received_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('outbox')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', 'text', (c) => c.notNull())
    .addColumn('claimed_until', 'text')
    .addColumn('last_error', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('outbox_due_idx').on('outbox').columns(['status', 'next_attempt_at']).execute();

  await db.schema
    .createTable('jobs')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('subject_id', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('run_at', 'text', (c) => c.notNull())
    .addColumn('deadline_at', 'text', (c) => c.notNull())
    .addColumn('claimed_until', 'text')
    .addColumn('last_error', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('jobs_due_idx').on('jobs').columns(['status', 'run_at']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['jobs', 'outbox', 'inbound_webhooks', 'connection_events', 'connections', 'connect_sessions']) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}
