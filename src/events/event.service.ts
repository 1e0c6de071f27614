import type { Kysely } from 'kysely';
import type { ConnectionChange, ConnectionChangeHook } from '../connections/connection-change.js';
import type { ConnectionService } from '../connections/connection.service.js';
import { toConnection } from '../connections/connection.view.js';
import type { SecretBox } from '../connections/secret-box.js';
import type { ConnectSessionService } from '../connect-sessions/connect-session.service.js';
import type { Dialect } from '../db/database.js';
import { iso, type Db } from '../db/executor.js';
import type { ConnectionRow, ConnectSessionRow, Database } from '../db/schema.js';
import { AppError } from '../http/errors.js';
import { newId } from '../ids.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../observability/metrics.js';
import { appendEvents, eventDedupeKey, type EventLogRow } from './event-log.repository.js';
import { toForwardedEvent, type ForwardedEvent } from './forwarded-event.js';
import { pruneWebhookIds, rememberWebhookId } from './inbound-webhook.repository.js';
import { appendQuietEvent } from './quiet-event.repository.js';
import type { SessionEndingHook } from './session-ending.js';
import {
  carriesConnection,
  endingInput,
  isOpenSession,
  isPastExpiry,
  namesNoConnection,
  sessionStateOf,
  statusesUnmovedBy,
  transitionConnection,
  transitionSession,
  type SessionInput,
  type SessionTransition,
} from './state-machine.js';
import { normalizeEvent, type NormalizedEvent } from './widget-event.js';

export interface IncomingEvent {
  userId: string;
  sessionId: string | null;
  source: 'relay' | 'direct' | 'webhook';
  type: string;
  metadata: Record<string, unknown>;
  /** When the event happened, if the sender says (a webhook timestamp); defaults to now. */
  occurredAt?: Date;
  /** Standard Webhooks `webhook-id`: a redelivery of the same id changes nothing. */
  webhookId?: string;
}

export interface RecordResult {
  /** False when this exact event had been recorded before: nothing changed. */
  recorded: boolean;
  session: ConnectSessionRow | undefined;
  connection: ConnectionRow | undefined;
  normalized: NormalizedEvent;
  /** The frontend's copy, for events recorded into a session. */
  forward: ForwardedEvent | undefined;
}

export interface EventServiceDeps {
  db: Kysely<Database>;
  /** PostgreSQL records most events in one statement (see recordQuietly). */
  dialect: Dialect;
  sessions: ConnectSessionService;
  connections: ConnectionService;
  secretBox: SecretBox;
  clock: () => Date;
  logger: Logger;
  metrics: Metrics;
  onChange: ConnectionChangeHook;
  /** Inside the transaction that ended a session without a connection (cancel, expiry). */
  onSessionEnded?: SessionEndingHook;
  /** After commit: wake the SSE streams of these sessions (in this and other instances). */
  publish: (sessionId: string) => Promise<void>;
}

class Duplicate extends Error {}

const errorOf = (event: NormalizedEvent) => (event.type === 'connect/memberError' ? { statusCode: event.statusCode ?? null } : undefined);

export type EventService = ReturnType<typeof createEventService>;

/** A state change to append to a session's log. */
type SystemEvent = { sessionId: string; userId: string; type: string; data: unknown };

export function createEventService(deps: EventServiceDeps) {
  // The sessions' and connections' queries this service runs inside its own transactions.
  const { findConnectSession, listDueSessions, updateOpenConnectSession } = deps.sessions;
  const { findConnectionByLookupKey, findLiveConnectionAt, findOwnedConnection, insertConnectionUnlessTaken, updateConnection } = deps.connections;

  /** The log rows of state changes: what SSE streams. */
  const systemRowsOf = (systemEvents: SystemEvent[], now: Date): EventLogRow[] =>
    systemEvents.map((event) => ({
      dedupe_key: `sys:${newId('msg')}`,
      user_id: event.userId,
      session_id: event.sessionId,
      connection_id: null,
      type: event.type,
      source: 'system' as const,
      status_code: null,
      metadata: JSON.stringify(event.data),
      created_at: iso(now),
    }));

  /** Appends state-change records to the session's log (what SSE streams) and runs the hook. */
  async function announce(trx: Db, changes: ConnectionChange[], systemEvents: SystemEvent[], now: Date) {
    await appendEvents(trx, systemRowsOf(systemEvents, now));
    for (const change of changes) await deps.onChange(trx, change);
  }

  /**
   * Creates or updates the connection an event names. A connection belongs to the first user
   * who connected it: another user presenting the same aggregator connection is refused (409).
   */
  async function upsertConnection(
    trx: Db,
    input: { userId: string; session: ConnectSessionRow | undefined; event: NormalizedEvent; now: Date; occurredAt: Date },
  ): Promise<{ row: ConnectionRow; change: ConnectionChange['kind'] | undefined }> {
    const { event, session, now } = input;
    const stateInput = { type: event.type, statusCode: event.statusCode, occurredAt: iso(input.occurredAt), now: iso(now), session };
    const aggregator = event.aggregator!;
    const lookupKey = deps.secretBox.lookupKey(aggregator, event.aggregatorConnectionId!);
    // Rows not yet moved to the current key (a rotation in progress) still count as taken.
    const lookupKeys = deps.secretBox.lookupKeys(aggregator, event.aggregatorConnectionId!);
    let existing = await findConnectionByLookupKey(trx, lookupKeys);

    if (!existing) {
      const jobTypes = session?.job_types ?? '[]';
      const institutionId = event.institutionId ?? session?.institution_id ?? null;
      const duplicate = institutionId ? await findLiveConnectionAt(trx, input.userId, { aggregator, institutionId }) : undefined;
      const sealedConnection = deps.secretBox.seal(event.aggregatorConnectionId!);
      const created = transitionConnection(undefined, stateInput);
      const row: ConnectionRow = {
        id: newId('conn'),
        user_id: input.userId,
        aggregator,
        aggregator_connection_id: sealedConnection.value,
        aggregator_user_id: event.aggregatorUserId ? deps.secretBox.seal(event.aggregatorUserId).value : null,
        encryption_key_id: sealedConnection.keyId,
        lookup_key: lookupKey,
        institution_id: institutionId,
        job_types: jobTypes,
        ...created.next,
        duplicate_of: duplicate?.id ?? null,
        created_at: iso(now),
        updated_at: iso(now),
      };
      if (await insertConnectionUnlessTaken(trx, row)) return { row, change: created.change };
      // A concurrent first delivery of the same connection committed between our read and our
      // insert: continue as the second delivery it now is (same owner) or a claim (another user).
      existing = await findConnectionByLookupKey(trx, lookupKeys);
      if (!existing) throw new Error('connection insert conflicted but no row holds its lookup key');
    }

    if (existing.user_id !== input.userId) {
      deps.logger.warn(
        { security: true, event: 'connection_claim_refused', connection: existing.id, sessionId: session?.id ?? null, aggregator },
        'a user presented an aggregator connection owned by another user',
      );
      throw new AppError('conflict', 'This connection belongs to another user.');
    }
    const jobTypes = session?.job_types ?? existing.job_types;
    const institutionId = event.institutionId ?? existing.institution_id ?? session?.institution_id ?? null;

    const transition = transitionConnection(existing, stateInput);
    const next: ConnectionRow = {
      ...existing,
      ...transition.next,
      institution_id: institutionId,
      job_types: jobTypes,
      aggregator_user_id:
        // Sealed under the row's own key: one encryption_key_id must open both columns.
        event.aggregatorUserId && !existing.aggregator_user_id ? deps.secretBox.seal(event.aggregatorUserId, existing.encryption_key_id).value : existing.aggregator_user_id,
      updated_at: iso(now),
    };
    await updateConnection(trx, existing.id, {
      status: next.status,
      status_code: next.status_code,
      institution_id: next.institution_id,
      job_types: next.job_types,
      aggregator_user_id: next.aggregator_user_id,
      last_connected_at: next.last_connected_at,
      verified: next.verified,
      data_ready: next.data_ready,
      verification_error: next.verification_error,
      updated_at: next.updated_at,
    });
    return { row: next, change: transition.change };
  }

  /**
   * Writes a session transition (only while the row is still open, so a concurrent ending is
   * never overwritten) and queues what SSE streams must hear. Returns the session as it now is.
   */
  async function applySessionTransition(
    trx: Db,
    session: ConnectSessionRow,
    transition: SessionTransition,
    connection: ConnectionRow | undefined,
    systemEvents: SystemEvent[],
    now: Date,
  ): Promise<ConnectSessionRow> {
    if (!transition.changed) return session;
    const { next } = transition;
    const changes = {
      status: next.status,
      connection_id: next.connectionId,
      last_error_code: next.lastError?.statusCode ?? null,
      last_error_at: next.lastError?.at ?? null,
      failure_reason: transition.announcements.find((a) => a.type === 'failed')?.reason ?? session.failure_reason,
      updated_at: iso(now),
    };
    if (!(await updateOpenConnectSession(trx, session.id, session.status, changes))) {
      // Another writer moved the session first; what it wrote stands.
      return (await findConnectSession(trx, session.id)) ?? session;
    }
    for (const announcement of transition.announcements) {
      const data =
        announcement.type === 'status'
          ? { status: announcement.status }
          : announcement.type === 'failed'
            ? { reason: announcement.reason }
            : { connection: connection ? toConnection(connection) : null };
      systemEvents.push({ sessionId: session.id, userId: session.user_id, type: announcement.type, data });
    }
    return { ...session, ...changes };
  }

  /** Cancel or expiry: one transaction for the row and its log entries, then the streams hear it. */
  async function endSession(session: ConnectSessionRow, input: Extract<SessionInput, { kind: 'cancel' | 'expire' }>): Promise<ConnectSessionRow> {
    const transition = transitionSession(sessionStateOf(session), input);
    if (!transition.changed) return session;
    const now = deps.clock();
    const systemEvents: SystemEvent[] = [];
    const ended = await deps.db.transaction().execute(async (trx) => {
      const current = await applySessionTransition(trx, session, transition, undefined, systemEvents, now);
      await announce(trx, [], systemEvents, now);
      const kind = current.status;
      if (systemEvents.length > 0 && deps.onSessionEnded && (kind === 'cancelled' || kind === 'failed' || kind === 'expired')) {
        const connection = current.connection_id ? await findOwnedConnection(trx, current.user_id, current.connection_id) : undefined;
        const lastError = current.last_error_at === null ? null : { statusCode: current.last_error_code, at: current.last_error_at };
        await deps.onSessionEnded(trx, { kind, userId: current.user_id, sessionId: current.id, lastError, connection });
      }
      return current;
    });
    if (systemEvents.length > 0) await deps.publish(session.id).catch(() => undefined);
    return ended;
  }

  /**
   * `connect/memberError` names its member without an aggregator (`{ member: { guid } }`). When
   * that member is the session's own connection, the error is about it: borrow its aggregator.
   */
  async function attributeToSessionConnection(trx: Db, session: ConnectSessionRow | undefined, event: NormalizedEvent): Promise<NormalizedEvent> {
    if (event.aggregator || !event.aggregatorConnectionId || !session?.connection_id) return event;
    const own = await findOwnedConnection(trx, session.user_id, session.connection_id);
    if (!own || own.lookup_key !== deps.secretBox.lookupKey(own.aggregator, event.aggregatorConnectionId)) return event;
    return { ...event, aggregator: own.aggregator };
  }

  /** The frontend's copy of an event: the session and its own connection as they now stand. */
  async function forwardFor(type: string, session: ConnectSessionRow, known: ConnectionRow | undefined, error?: { statusCode: number | null }): Promise<ForwardedEvent> {
    const connection =
      session.connection_id === null
        ? undefined
        : known?.id === session.connection_id
          ? known
          : await findOwnedConnection(deps.db, session.user_id, session.connection_id);
    return toForwardedEvent(type, session, connection, error);
  }

  /** `known`: the session as already read (undefined when missing or not the user's), to save reading it again. */
  async function apply(trx: Db, incoming: IncomingEvent, event: NormalizedEvent, now: Date, known?: { session: ConnectSessionRow | undefined }) {
    let session = known ? known.session : incoming.sessionId ? await findConnectSession(trx, incoming.sessionId) : undefined;
    // Callers check ownership already; this keeps a slip there from crossing users here.
    if (incoming.sessionId && session?.user_id !== incoming.userId) throw new AppError('not_found', 'No such connect session.');
    const changes: ConnectionChange[] = [];
    const systemEvents: SystemEvent[] = [];
    let connection: ConnectionRow | undefined;
    const occurredAt = incoming.occurredAt ?? now;
    event = await attributeToSessionConnection(trx, session, event);

    const connected = event.type === 'connect/memberConnected';

    if (carriesConnection(event)) {
      const result = await upsertConnection(trx, { userId: incoming.userId, session, event, now, occurredAt });
      connection = result.row;
      if (result.change) changes.push({ kind: result.change, userId: incoming.userId, sessionId: session?.id ?? null, connection });
    }

    if (session) {
      const transition = transitionSession(sessionStateOf(session), {
        kind: 'widget_event',
        type: event.type,
        statusCode: event.statusCode,
        connectionId: connection?.id ?? null,
        at: iso(occurredAt),
      });
      session = await applySessionTransition(trx, session, transition, connected ? connection : undefined, systemEvents, now);
    }
    return { session, connection, changes, systemEvents };
  }

  /** An open session past its expiry ends `failed` (after a memberError) or `expired`, recorded like any change. */
  async function expireIfDue(session: ConnectSessionRow): Promise<ConnectSessionRow> {
    if (!isPastExpiry(session, deps.clock())) return session;
    return endSession(session, { kind: 'expire' });
  }

  /** The event's own log row. */
  const logRowOf = (incoming: IncomingEvent, event: NormalizedEvent, connectionId: string | null, now: Date): EventLogRow => ({
    dedupe_key: eventDedupeKey(incoming.userId, incoming.sessionId, incoming.type, incoming.metadata),
    user_id: incoming.userId,
    session_id: incoming.sessionId,
    connection_id: connectionId,
    type: incoming.type,
    source: incoming.source,
    status_code: event.statusCode ?? null,
    metadata: JSON.stringify(event.safeMetadata),
    created_at: iso(now),
  });

  /**
   * A redelivery, or an event recorded before: nothing changed; the answer shows how things stand.
   * `known` is the session as just read, when the caller has it.
   */
  async function unchanged(incoming: IncomingEvent, event: NormalizedEvent, known?: { session: ConnectSessionRow | undefined }): Promise<RecordResult> {
    const session = known ? known.session : incoming.sessionId ? await findConnectSession(deps.db, incoming.sessionId) : undefined;
    const connection =
      event.aggregator && event.aggregatorConnectionId
        ? await findConnectionByLookupKey(deps.db, deps.secretBox.lookupKeys(event.aggregator, event.aggregatorConnectionId))
        : undefined;
    const own = connection?.user_id === incoming.userId ? connection : undefined;
    const forward = session ? await forwardFor(incoming.type, session, own, errorOf(event)) : undefined;
    return { recorded: false, session, connection: own, normalized: event, forward };
  }

  /**
   * Most events (steps, selections, anything after the session opened) name no connection and
   * leave their session as it is: recording one is remembering its webhook id and appending it
   * to the log. On PostgreSQL that is one statement instead of a five-round-trip transaction.
   * When the event turns out to move its session (or the session is not the user's), nothing
   * was written: the answer is the session as read, for the general path to apply it from. Read
   * a moment before that transaction rather than inside it, it is no staler than READ COMMITTED
   * allows anyway: the session's write is guarded by the status it was read with.
   */
  async function recordQuietly(incoming: IncomingEvent, event: NormalizedEvent, now: Date): Promise<RecordResult | { session: ConnectSessionRow | undefined }> {
    const outcome = await appendQuietEvent(deps.db, {
      row: { ...logRowOf(incoming, event, null, now), connection_id: null },
      webhookId: incoming.webhookId,
      receivedAt: iso(now),
      session: incoming.sessionId ? { id: incoming.sessionId, userId: incoming.userId, unmovedStatuses: statusesUnmovedBy(incoming.type) } : undefined,
    });
    if (outcome.kind === 'not_quiet') return { session: outcome.session };
    if (outcome.kind !== 'appended') return unchanged(incoming, event, { session: outcome.session });
    deps.metrics.eventsRecorded.inc({ type: incoming.type, source: incoming.source });
    const forward = outcome.session ? await forwardFor(incoming.type, outcome.session, undefined, errorOf(event)) : undefined;
    return { recorded: true, session: outcome.session, connection: undefined, normalized: event, forward };
  }

  return {
    /**
     * Records one widget event and applies its state change, all in one transaction: the event
     * log, the session, the connection, the outbox row. A duplicate changes nothing.
     */
    async record(incoming: IncomingEvent): Promise<RecordResult> {
      const event = normalizeEvent(incoming.type, incoming.metadata);
      const now = deps.clock();
      let known: { session: ConnectSessionRow | undefined } | undefined;
      if (deps.dialect === 'postgres' && namesNoConnection(event)) {
        const quiet = await recordQuietly(incoming, event, now);
        if ('normalized' in quiet) return quiet;
        known = quiet;
      }
      try {
        const result = await deps.db.transaction().execute(async (trx) => {
          if (incoming.webhookId !== undefined && !(await rememberWebhookId(trx, incoming.webhookId, iso(now)))) throw new Duplicate();
          const applied = await apply(trx, incoming, event, now, known);
          // The event and the state changes it caused, in one statement and that order.
          const own = logRowOf(incoming, event, applied.connection?.id ?? null, now);
          const appended = await appendEvents(trx, [own, ...systemRowsOf(applied.systemEvents, now)]);
          // Roll back the state change too: a redelivery must change nothing.
          if (!appended.has(own.dedupe_key)) throw new Duplicate();
          for (const change of applied.changes) await deps.onChange(trx, change);
          return applied;
        });
        deps.metrics.eventsRecorded.inc({ type: incoming.type, source: incoming.source });
        if (result.systemEvents.length > 0 && incoming.sessionId) await deps.publish(incoming.sessionId).catch(() => undefined);
        const forward = result.session ? await forwardFor(incoming.type, result.session, result.connection, errorOf(event)) : undefined;
        return { recorded: true, session: result.session, connection: result.connection, normalized: event, forward };
      } catch (error) {
        if (!(error instanceof Duplicate)) throw error;
        return unchanged(incoming, event);
      }
    },

    announce,

    /**
     * Events into a session that ended by time (or was never going to accept more) are refused.
     * A session past its expiry is ended first, so the ending is recorded and announced.
     * Late events after `connected` or `cancelled` are still recorded (the widget may finish
     * posting after the page moved on), and never change the session's status.
     */
    async refuseEnded(session: ConnectSessionRow): Promise<ConnectSessionRow> {
      const current = isOpenSession(session.status) ? await expireIfDue(session) : session;
      if (current.status === 'expired' || current.status === 'failed') throw new AppError('capability_expired', 'This connect session has expired.');
      return current;
    },

    /**
     * The person cancelled (host page Cancel): an open session becomes `cancelled`, one past its
     * expiry ends as expiry decides, an ended one stays. Returns the `connect/cancelled` copy.
     */
    async cancelSession(session: ConnectSessionRow): Promise<{ session: ConnectSessionRow; forward: ForwardedEvent }> {
      const ended = await endSession(session, endingInput(session, deps.clock(), 'cancel'));
      return { session: ended, forward: await forwardFor('connect/cancelled', ended, undefined) };
    },

    expireIfDue,

    /** The maintenance sweep: ends every open session past its expiry, a batch at a time. */
    async expireDueSessions(batchSize = 100): Promise<number> {
      let ended = 0;
      for (;;) {
        const due = await listDueSessions(deps.db, iso(deps.clock()), batchSize);
        let endedNow = 0;
        for (const session of due) {
          const after = await endSession(session, { kind: 'expire' });
          if (after.status !== session.status) endedNow += 1;
        }
        ended += endedNow;
        // A full batch that ended nothing (all raced by other writers) would repeat forever.
        if (due.length < batchSize || endedNow === 0) return ended;
      }
    },

    /** The maintenance sweep: forgets inbound webhook ids received before `cutoff`; returns how many. */
    pruneWebhookIds: (cutoff: Date): Promise<number> => pruneWebhookIds(deps.db, iso(cutoff)),
  };
}
