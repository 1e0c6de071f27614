/**
 * "Something about session X changed": the signal behind `GET /connect-sessions/:id/stream`.
 * Listeners get no payload on purpose: they re-read the session's events from the database
 * (which also makes a missed or duplicated signal harmless).
 *
 * SQLite: one process, so in-process delivery. PostgreSQL: `pg_notify` reaches every BFF
 * process on the database, each of which LISTENs on one dedicated connection.
 */
import type { DatabaseHandle } from '../db/database.js';
import type { Logger } from '../logger.js';
import { LocalSubscribers } from './local-subscribers.js';

export interface SessionNotifier {
  /** Signals every subscriber of the session, in this process and (PostgreSQL) in the others. */
  publish(sessionId: string): Promise<void>;
  /** Returns the unsubscribe function. Listeners may be called spuriously (e.g. after a reconnect). */
  subscribe(sessionId: string, listener: () => void): () => void;
  /** Resolves once signals from other processes are being received (at once on SQLite). */
  ready(): Promise<void>;
  /** Drops every subscriber and ends the LISTEN connection. */
  close(): Promise<void>;
}

const BASE_CHANNEL = 'ucw_bff_sessions';

/** The channel; per schema, so deployments or test schemas sharing one server never cross-talk. */
export function sessionChannel(pgSchema: string | undefined): string {
  return pgSchema ? `${BASE_CHANNEL}_${pgSchema}` : BASE_CHANNEL;
}

export function createSessionNotifier(database: DatabaseHandle, logger: Logger): SessionNotifier {
  const subscribers = new LocalSubscribers(logger);
  const subscribe = (sessionId: string, listener: () => void) => subscribers.add(sessionId, listener);

  if (database.dialect === 'sqlite') {
    return {
      publish: async (sessionId) => subscribers.notify(sessionId),
      subscribe,
      ready: async () => undefined,
      close: async () => subscribers.clear(),
    };
  }

  const pool = database.pgPool;
  if (!pool) throw new Error('A PostgreSQL database handle without its pool cannot LISTEN');
  const channel = sessionChannel(database.pgSchema);
  // The pool's own settings (URL, search_path options, TLS), for one connection outside it.
  // Imported here, not at the top: a SQLite deployment never loads pg (see db/postgres-pool.ts).
  const listener = import('./pg-listener.js').then(({ startPgListener }) =>
    startPgListener({
      connection: pool.options,
      channel,
      logger,
      onNotification: (sessionId) => subscribers.notify(sessionId),
      onReconnect: () => subscribers.notifyAll(),
    }),
  );

  return {
    async publish(sessionId) {
      // Parameters, not string building: the session id never becomes SQL. Our own LISTEN
      // delivers it back to local subscribers, so there is exactly one delivery path.
      await pool.query('select pg_notify($1, $2)', [channel, sessionId]);
    },
    subscribe,
    ready: async () => (await listener).ready(),
    async close() {
      subscribers.clear();
      await (await listener).close();
    },
  };
}
