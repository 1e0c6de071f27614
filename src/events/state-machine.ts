import { CONNECTED_CODE, statusFromCode } from '../connections/connection-status.js';
import type { ConnectionChangeKind } from '../connections/connection-change.js';
import type { ConnectionRow, ConnectSessionRow } from '../db/schema.js';
import { iso } from '../db/executor.js';

/**
 * The state machines of SPEC §7 as pure functions: what one input does to a connect session and
 * to a connection, and what must be announced about it. No I/O: the event service (and the
 * verification job) read the rows, call these, and apply the result inside the transaction that
 * records the input.
 *
 * ## The session
 *
 *   created ─(any widget event)→ opened ─memberConnected→ connected
 *   created|opened ─cancel→ cancelled
 *   created|opened ─expiry→ failed   (a memberError was recorded)
 *                          expired  (nothing was)
 *
 * `connect/memberError` is not an end: the real widget keeps its form live and the person may
 * correct their credentials, so it is only remembered (`lastError`). The four endings are final:
 * nothing moves a session out of one.
 */
export type SessionStatus = ConnectSessionRow['status'];

export interface SessionState {
  status: SessionStatus;
  /** The BFF connection the session refreshes or produced. */
  connectionId: string | null;
  lastError: { statusCode: number | null; at: string } | null;
}

export type SessionInput =
  /** A widget event recorded for this session; `connectionId` is the connection it named, if any. */
  | { kind: 'widget_event'; type: string; statusCode: number | undefined; connectionId: string | null; at: string }
  /** The person pressed Cancel (on the host page, or closed connect.js's modal or popup). */
  | { kind: 'cancel' }
  /** The session's expiry has passed. */
  | { kind: 'expire' };

/** What to tell SSE streams (and the event log) about the transition. */
export type SessionAnnouncement = { type: 'status'; status: SessionStatus } | { type: 'connected' } | { type: 'failed'; reason: string };

export interface SessionTransition {
  next: SessionState;
  /** The row needs writing (status, connection or last error changed). */
  changed: boolean;
  announcements: SessionAnnouncement[];
}

export const FINAL_SESSION_STATUSES: ReadonlySet<SessionStatus> = new Set<SessionStatus>(['connected', 'failed', 'cancelled', 'expired']);

export const isOpenSession = (status: SessionStatus): boolean => !FINAL_SESSION_STATUSES.has(status);

/** Why a session failed, for logs and the `failed` announcement. */
export const failureReason = (lastError: SessionState['lastError']): string =>
  `expired after memberError${lastError?.statusCode === null || lastError?.statusCode === undefined ? '' : ` (status ${lastError.statusCode})`}`;

function nextStatus(current: SessionState, input: SessionInput): SessionStatus {
  if (!isOpenSession(current.status)) return current.status;
  switch (input.kind) {
    case 'widget_event':
      return input.type === 'connect/memberConnected' ? 'connected' : 'opened';
    case 'cancel':
      return 'cancelled';
    case 'expire':
      return current.lastError ? 'failed' : 'expired';
  }
}

function nextConnectionId(current: SessionState, input: SessionInput): string | null {
  if (input.kind !== 'widget_event' || input.connectionId === null || !isOpenSession(current.status)) return current.connectionId;
  // memberConnected names the connection the session produced; other events only fill a gap.
  return input.type === 'connect/memberConnected' ? input.connectionId : (current.connectionId ?? input.connectionId);
}

function nextLastError(current: SessionState, input: SessionInput): SessionState['lastError'] {
  if (input.kind !== 'widget_event' || input.type !== 'connect/memberError' || !isOpenSession(current.status)) return current.lastError;
  return { statusCode: input.statusCode ?? null, at: input.at };
}

export function transitionSession(current: SessionState, input: SessionInput): SessionTransition {
  const next: SessionState = {
    status: nextStatus(current, input),
    connectionId: nextConnectionId(current, input),
    lastError: nextLastError(current, input),
  };
  const announcements: SessionAnnouncement[] = [];
  if (next.status !== current.status) {
    announcements.push({ type: 'status', status: next.status });
    if (next.status === 'connected') announcements.push({ type: 'connected' });
    if (next.status === 'failed') announcements.push({ type: 'failed', reason: failureReason(next.lastError) });
  }
  const changed =
    next.status !== current.status ||
    next.connectionId !== current.connectionId ||
    next.lastError?.at !== current.lastError?.at ||
    next.lastError?.statusCode !== current.lastError?.statusCode;
  return { next, changed, announcements };
}

const SESSION_STATUSES: readonly SessionStatus[] = ['created', 'opened', 'connected', 'failed', 'cancelled', 'expired'];

/**
 * The statuses of a session that a widget event of `type` naming no connection leaves exactly as
 * it is (status, connection and last error alike), whatever its connection and last error: into
 * a session in one of them, recording the event is only an append. Derived from transitionSession
 * from a state without connection or error: naming no connection, the event cannot change the
 * connection, and a memberError changes the last error of every open session, so a status found
 * unmoved from that state is unmoved from every state. No transition leaves this set, so a
 * status read a moment ago that is in it still is.
 */
export function statusesUnmovedBy(type: string): SessionStatus[] {
  const input: SessionInput = { kind: 'widget_event', type, statusCode: undefined, connectionId: null, at: '' };
  return SESSION_STATUSES.filter((status) => !transitionSession({ status, connectionId: null, lastError: null }, input).changed);
}

/** The state of a session row. */
export function sessionStateOf(row: Pick<ConnectSessionRow, 'status' | 'connection_id' | 'last_error_code' | 'last_error_at'>): SessionState {
  return {
    status: row.status,
    connectionId: row.connection_id,
    lastError: row.last_error_at === null ? null : { statusCode: row.last_error_code, at: row.last_error_at },
  };
}

/** The endings without a connection: after one, nothing more will happen to the session. */
export const ENDED_WITHOUT_CONNECTION: ReadonlySet<SessionStatus> = new Set<SessionStatus>(['failed', 'cancelled', 'expired']);

/**
 * The last event a session's SSE stream sends. `connected` is the last only without verification;
 * with it, `dataReady` or `verificationFailed` is.
 */
export function isFinalStreamEvent(type: string, data: Record<string, unknown>, verificationEnabled: boolean): boolean {
  if (type === 'failed' || type === 'verificationFailed' || type === 'dataReady') return true;
  if (type === 'status' && ENDED_WITHOUT_CONNECTION.has(String(data.status) as SessionStatus)) return true;
  return !verificationEnabled && type === 'connected';
}

/** A session whose expiry has passed (it may still be open until someone ends it). */
export const isPastExpiry = (session: Pick<ConnectSessionRow, 'expires_at'>, now: Date): boolean => session.expires_at <= iso(now);

/** Ended, or as good as ended: no page may open it and no event may move it. */
export const isEndedAt = (session: Pick<ConnectSessionRow, 'status' | 'expires_at'>, now: Date): boolean =>
  !isOpenSession(session.status) || isPastExpiry(session, now);

/**
 * What ending a session now means: past its expiry it ends as expiry decides (`failed` or
 * `expired`), even when the person pressed Cancel; otherwise a cancel is a cancel.
 */
export const endingInput = (session: Pick<ConnectSessionRow, 'expires_at'>, now: Date, wanted: 'cancel' | 'expire'): Extract<SessionInput, { kind: 'cancel' | 'expire' }> =>
  isPastExpiry(session, now) ? { kind: 'expire' } : { kind: wanted };

/*
 * ## The connection
 *
 * A widget event names a connection when it is `memberConnected`, `memberError` or
 * `memberStatusUpdate` and carries both an aggregator and the aggregator's connection id.
 *
 *   (none) ─any such event→ the status its code maps to (pending without one; error for a bare memberError)
 *   any ─memberConnected→ connected (verified and dataReady reset until the verification job confirms)
 *   any ─status update→ the status its code maps to, unless that would demote a connection:
 *        the session already connected, or the event is no later than the last connect
 *   unconfirmed ─accounts read→ verified + data_ready
 *   unverified ─deadline passed→ needs_attention (verification_error says why)
 *   deleted: the verification job leaves it alone
 *
 * The platform hears `connected` (`refreshed` for a refresh session) on every memberConnected,
 * and `needs_attention` when a status change lands on needs_attention or error.
 */

/** The columns the connection state machine decides. */
export type ConnectionState = Pick<ConnectionRow, 'status' | 'status_code' | 'last_connected_at' | 'verified' | 'data_ready' | 'verification_error'>;

export interface ConnectionEventInput {
  /** The widget event type (`connect/memberConnected`, …). */
  type: string;
  statusCode: number | undefined;
  /** When the event happened (ISO); compared with the last connect to refuse stale demotions. */
  occurredAt: string;
  /** When it is recorded (ISO). */
  now: string;
  /** The session the event was recorded into, as it stood before this event. */
  session: Pick<ConnectSessionRow, 'status' | 'mode'> | undefined;
}

export interface ConnectionTransition {
  next: ConnectionState;
  /** The status moved (a memberConnected always counts: it starts a new aggregation). */
  statusChanged: boolean;
  /** What the platform hears about it, if anything. */
  change: ConnectionChangeKind | undefined;
}

const CONNECTION_EVENTS: ReadonlySet<string> = new Set(['connect/memberConnected', 'connect/memberError', 'connect/memberStatusUpdate']);

/** Whether an event speaks for a connection at all (it must also name one). */
export const carriesConnection = (event: { type: string; aggregator: string | undefined; aggregatorConnectionId: string | undefined }): boolean =>
  CONNECTION_EVENTS.has(event.type) && Boolean(event.aggregatorConnectionId) && Boolean(event.aggregator);

/**
 * Whether an event cannot speak for any connection, whatever session it is recorded into (a
 * memberError naming its member without an aggregator may borrow the session connection's).
 */
export const namesNoConnection = (event: { type: string; aggregatorConnectionId: string | undefined }): boolean =>
  !CONNECTION_EVENTS.has(event.type) || !event.aggregatorConnectionId;

/** The status an event asks for; undefined when it says nothing (an unknown code on a status update). */
export function reportedStatus(type: string, statusCode: number | undefined): ConnectionRow['status'] | undefined {
  if (type === 'connect/memberConnected') return 'connected';
  return statusFromCode(statusCode) ?? (type === 'connect/memberError' ? 'error' : undefined);
}

function changeKind(input: ConnectionEventInput, next: ConnectionState, statusChanged: boolean): ConnectionChangeKind | undefined {
  if (input.type === 'connect/memberConnected') return input.session?.mode === 'refresh' ? 'refreshed' : 'connected';
  return statusChanged && (next.status === 'needs_attention' || next.status === 'error') ? 'needs_attention' : undefined;
}

/** What one connection-carrying event does to the connection (`current` undefined: a new one). */
export function transitionConnection(current: ConnectionState | undefined, input: ConnectionEventInput): ConnectionTransition {
  const connected = input.type === 'connect/memberConnected';
  const status = reportedStatus(input.type, input.statusCode);
  if (!current) {
    const next: ConnectionState = {
      status: status ?? 'pending',
      status_code: input.statusCode ?? (connected ? CONNECTED_CODE : null),
      last_connected_at: connected ? input.now : null,
      verified: 0,
      data_ready: 0,
      verification_error: null,
    };
    return { next, statusChanged: true, change: changeKind(input, next, true) };
  }
  // Out of order: a status from a session that already connected, or older than the last
  // connect, must not demote what memberConnected established.
  const demotionBlocked =
    !connected && (input.session?.status === 'connected' || (current.last_connected_at !== null && input.occurredAt <= current.last_connected_at));
  const next: ConnectionState = {
    status: demotionBlocked ? current.status : (status ?? current.status),
    status_code: demotionBlocked ? current.status_code : (input.statusCode ?? (connected ? CONNECTED_CODE : current.status_code)),
    last_connected_at: connected ? input.now : current.last_connected_at,
    // A new aggregation makes earlier confirmation stale until it is verified again.
    verified: connected ? 0 : current.verified,
    data_ready: connected ? 0 : current.data_ready,
    verification_error: connected ? null : current.verification_error,
  };
  const statusChanged = next.status !== current.status || connected;
  return { next, statusChanged, change: changeKind(input, next, statusChanged) };
}

/** A verification outcome: the row's new state, what the platform and the session's stream hear. */
export interface VerificationTransition {
  next: ConnectionState;
  changes: ConnectionChangeKind[];
  sessionEvents: Array<{ type: 'verified' | 'dataReady' } | { type: 'verificationFailed'; reason: string }>;
  /** The condition the row must still meet when written (another run may have got there first). */
  still: 'unconfirmed' | 'unverified-and-not-failed';
}

/** The verification job read the connection's accounts; undefined when there is nothing to confirm. */
export function verificationSucceeded(current: ConnectionState): VerificationTransition | undefined {
  // Deleted, or already confirmed since its latest aggregation (a new one resets the flags).
  if (current.status === 'deleted' || (current.verified === 1 && current.data_ready === 1)) return undefined;
  return {
    next: { ...current, verified: 1, data_ready: 1, verification_error: null },
    changes: ['verified', 'data_ready'],
    sessionEvents: [{ type: 'verified' }, { type: 'dataReady' }],
    still: 'unconfirmed',
  };
}

/** The verification job's deadline passed without the UCW confirming; undefined when that no longer matters. */
export function verificationFailed(current: ConnectionState, lastReason: string): VerificationTransition | undefined {
  if (current.status === 'deleted' || current.verified === 1) return undefined;
  const reason = `not confirmed by the UCW: ${lastReason}`.slice(0, 500);
  return {
    next: { ...current, status: 'needs_attention', verification_error: reason },
    changes: ['needs_attention'],
    sessionEvents: [{ type: 'verificationFailed', reason }],
    still: 'unverified-and-not-failed',
  };
}
