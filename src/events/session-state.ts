import type { ConnectSessionRow } from '../db/schema.js';

/**
 * The connect session's state machine (SPEC §7), as a pure function: what one input does to a
 * session, and what must be announced about it. The event service applies the result inside the
 * transaction that records the input.
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

/** The state of a session row. */
export function sessionStateOf(row: Pick<ConnectSessionRow, 'status' | 'connection_id' | 'last_error_code' | 'last_error_at'>): SessionState {
  return {
    status: row.status,
    connectionId: row.connection_id,
    lastError: row.last_error_at === null ? null : { statusCode: row.last_error_code, at: row.last_error_at },
  };
}
