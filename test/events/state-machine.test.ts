import { describe, expect, it } from 'vitest';
import {
  carriesConnection,
  endingInput,
  ENDED_WITHOUT_CONNECTION,
  FINAL_SESSION_STATUSES,
  isFinalStreamEvent,
  isEndedAt,
  isPastExpiry,
  namesNoConnection,
  reportedStatus,
  sessionStateOf,
  statusesUnmovedBy,
  transitionConnection,
  transitionSession,
  verificationFailed,
  verificationSucceeded,
  type ConnectionEventInput,
  type ConnectionState,
  type SessionInput,
  type SessionState,
  type SessionStatus,
} from '../../src/events/state-machine.js';

const AT = '2026-11-30T10:00:00.000Z';
const ERROR = { statusCode: 2, at: '2026-11-30T09:59:00.000Z' };
const ALL: SessionStatus[] = ['created', 'opened', 'connected', 'failed', 'cancelled', 'expired'];
const OPEN: SessionStatus[] = ['created', 'opened'];
const FINAL: SessionStatus[] = ['connected', 'failed', 'cancelled', 'expired'];

const state = (overrides: Partial<SessionState> = {}): SessionState => ({ status: 'opened', connectionId: null, lastError: null, ...overrides });
const widget = (type: string, extra: Partial<Extract<SessionInput, { kind: 'widget_event' }>> = {}): SessionInput => ({
  kind: 'widget_event',
  type,
  statusCode: undefined,
  connectionId: null,
  at: AT,
  ...extra,
});

describe('transitionSession', () => {
  it('when the statuses are listed, then the four endings are final and the rest open', () => {
    expect([...FINAL_SESSION_STATUSES].sort()).toEqual([...FINAL].sort());
  });

  describe.each(OPEN)('from %s', (status) => {
    it('when any widget event other than memberConnected arrives, then the session is opened', () => {
      for (const type of ['connect/loaded', 'connect/stepChange', 'connect/memberStatusUpdate', 'connect/selectedInstitution']) {
        const t = transitionSession(state({ status }), widget(type));
        expect(t.next).toEqual({ status: 'opened', connectionId: null, lastError: null });
        expect(t.announcements).toEqual(status === 'opened' ? [] : [{ type: 'status', status: 'opened' }]);
        expect(t.changed).toBe(status !== 'opened');
      }
    });

    it('when memberError arrives, then the session stays open and remembers the error with its code', () => {
      const t = transitionSession(state({ status }), widget('connect/memberError', { statusCode: 2, connectionId: 'conn_1' }));
      expect(t.next).toEqual({ status: 'opened', connectionId: 'conn_1', lastError: { statusCode: 2, at: AT } });
      expect(t.changed).toBe(true);
      expect(t.announcements).toEqual(status === 'opened' ? [] : [{ type: 'status', status: 'opened' }]);
    });

    it('when memberError carries no code, then the error is remembered with a null code', () => {
      expect(transitionSession(state({ status }), widget('connect/memberError')).next.lastError).toEqual({ statusCode: null, at: AT });
    });

    it('when memberConnected arrives, then it wins (even after an error) and names the connection', () => {
      const t = transitionSession(state({ status, connectionId: 'conn_old', lastError: ERROR }), widget('connect/memberConnected', { connectionId: 'conn_new' }));
      expect(t.next).toEqual({ status: 'connected', connectionId: 'conn_new', lastError: ERROR });
      expect(t.announcements).toEqual([{ type: 'status', status: 'connected' }, { type: 'connected' }]);
    });

    it('when a non-connecting event names a connection, then it fills a gap but never replaces one', () => {
      expect(transitionSession(state({ status }), widget('connect/memberStatusUpdate', { connectionId: 'conn_1' })).next.connectionId).toBe('conn_1');
      expect(transitionSession(state({ status, connectionId: 'conn_0' }), widget('connect/memberStatusUpdate', { connectionId: 'conn_1' })).next.connectionId).toBe('conn_0');
    });

    it('when the person cancels, then the session is cancelled', () => {
      const t = transitionSession(state({ status, lastError: ERROR }), { kind: 'cancel' });
      expect(t.next.status).toBe('cancelled');
      expect(t.announcements).toEqual([{ type: 'status', status: 'cancelled' }]);
    });

    it('when it expires with nothing recorded, then it is expired', () => {
      const t = transitionSession(state({ status }), { kind: 'expire' });
      expect(t.next.status).toBe('expired');
      expect(t.announcements).toEqual([{ type: 'status', status: 'expired' }]);
    });

    it('when it expires after an error, then it failed, with the reason', () => {
      const t = transitionSession(state({ status, connectionId: 'conn_1', lastError: ERROR }), { kind: 'expire' });
      expect(t.next).toEqual({ status: 'failed', connectionId: 'conn_1', lastError: ERROR });
      expect(t.announcements).toEqual([{ type: 'status', status: 'failed' }, { type: 'failed', reason: 'expired after memberError (status 2)' }]);
    });

    it('when it expires after an error without a code, then the reason says so without one', () => {
      const t = transitionSession(state({ status, lastError: { statusCode: null, at: AT } }), { kind: 'expire' });
      expect(t.announcements[1]).toEqual({ type: 'failed', reason: 'expired after memberError' });
    });
  });

  describe.each(FINAL)('from %s (final)', (status) => {
    const before = state({ status, connectionId: 'conn_1', lastError: status === 'failed' ? ERROR : null });
    const inputs: SessionInput[] = [
      widget('connect/loaded'),
      widget('connect/memberStatusUpdate', { connectionId: 'conn_2', statusCode: 6 }),
      widget('connect/memberError', { connectionId: 'conn_2', statusCode: 2 }),
      widget('connect/memberConnected', { connectionId: 'conn_2' }),
      { kind: 'cancel' },
      { kind: 'expire' },
    ];
    it.each(inputs.map((input) => [input.kind === 'widget_event' ? input.type : input.kind, input] as const))('when %s arrives, then nothing changes', (_name, input) => {
      expect(transitionSession(before, input)).toEqual({ next: before, changed: false, announcements: [] });
    });
  });

  it('when every status meets every input, then only open sessions ever move', () => {
    const inputs: SessionInput[] = [widget('connect/loaded'), widget('connect/memberError'), widget('connect/memberConnected', { connectionId: 'c' }), { kind: 'cancel' }, { kind: 'expire' }];
    for (const status of ALL) {
      for (const input of inputs) {
        const t = transitionSession(state({ status }), input);
        if (FINAL.includes(status)) expect(t.next.status).toBe(status);
        else expect(t.next.status).not.toBe('created');
      }
    }
  });
});

describe('statusesUnmovedBy', () => {
  const TYPES = ['connect/loaded', 'connect/stepChange', 'connect/selectedInstitution', 'connect/memberStatusUpdate', 'connect/memberError', 'connect/memberConnected', 'connect/cancelled'];
  const STATES: SessionState[] = ALL.flatMap((status) => [
    state({ status }),
    state({ status, connectionId: 'conn_1' }),
    state({ status, lastError: ERROR }),
    state({ status, lastError: { statusCode: null, at: AT } }),
    state({ status, connectionId: 'conn_1', lastError: { statusCode: 7, at: AT } }),
  ]);

  it('when a status is listed, then the event (naming no connection) changes nothing from any state with it, whatever its code', () => {
    for (const type of TYPES) {
      const unmoved = statusesUnmovedBy(type);
      for (const current of STATES.filter((s) => unmoved.includes(s.status))) {
        for (const statusCode of [undefined, 7]) {
          expect(transitionSession(current, widget(type, { statusCode })), `${type} from ${JSON.stringify(current)}`).toMatchObject({ changed: false, announcements: [] });
        }
      }
    }
  });

  it('when the type is a step, then opened and the endings are unmoved; memberError and memberConnected move every open session', () => {
    expect(statusesUnmovedBy('connect/stepChange')).toEqual(['opened', ...FINAL]);
    expect(statusesUnmovedBy('connect/memberError')).toEqual(FINAL);
    expect(statusesUnmovedBy('connect/memberConnected')).toEqual(FINAL);
  });

  it('when a session moves by any input, then it never leaves the unmoved statuses of a type', () => {
    const inputs: SessionInput[] = [...TYPES.map((type) => widget(type)), widget(CONNECTED, { connectionId: 'conn_2' }), { kind: 'cancel' }, { kind: 'expire' }];
    for (const type of TYPES) {
      const unmoved = statusesUnmovedBy(type);
      for (const current of STATES.filter((s) => unmoved.includes(s.status))) {
        for (const input of inputs) expect(unmoved).toContain(transitionSession(current, input).next.status);
      }
    }
  });
});

describe('sessionStateOf', () => {
  it('when a row has no error time, then lastError is null; with one, it carries the code', () => {
    expect(sessionStateOf({ status: 'opened', connection_id: null, last_error_code: null, last_error_at: null })).toEqual(state());
    expect(sessionStateOf({ status: 'opened', connection_id: 'c', last_error_code: 2, last_error_at: AT })).toEqual(state({ connectionId: 'c', lastError: { statusCode: 2, at: AT } }));
  });
});

describe('the end of a session stream', () => {
  it('when a session ends without a connection, then its status is one of the three endings', () => {
    expect([...ENDED_WITHOUT_CONNECTION].sort()).toEqual(['cancelled', 'expired', 'failed']);
  });

  it.each(ALL)('when the stream announces status %s, then it ends there only for an ending without a connection', (status) => {
    for (const verification of [true, false]) {
      expect(isFinalStreamEvent('status', { status }, verification)).toBe(['failed', 'cancelled', 'expired'].includes(status));
    }
  });

  it('when verification is on, then connected is not the end, dataReady or verificationFailed is', () => {
    expect(isFinalStreamEvent('connected', {}, true)).toBe(false);
    expect(isFinalStreamEvent('verified', {}, true)).toBe(false);
    for (const type of ['dataReady', 'verificationFailed', 'failed']) expect(isFinalStreamEvent(type, {}, true)).toBe(true);
  });

  it('when verification is off, then connected ends the stream', () => {
    expect(isFinalStreamEvent('connected', {}, false)).toBe(true);
  });
});

describe('session expiry', () => {
  const now = new Date('2026-11-30T10:00:00.000Z');
  const session = (status: SessionStatus, expiresAt: string) => ({ status, expires_at: expiresAt });

  it('when the expiry is now or earlier, then the session is past it; later, it is not', () => {
    expect(isPastExpiry(session('opened', '2026-11-30T10:00:00.000Z'), now)).toBe(true);
    expect(isPastExpiry(session('opened', '2026-11-30T09:59:59.999Z'), now)).toBe(true);
    expect(isPastExpiry(session('opened', '2026-11-30T10:00:00.001Z'), now)).toBe(false);
  });

  it.each(ALL)('when a %s session is past or before its expiry, then it is ended unless open and in time', (status) => {
    expect(isEndedAt(session(status, '2026-11-30T09:00:00.000Z'), now)).toBe(true);
    expect(isEndedAt(session(status, '2026-11-30T11:00:00.000Z'), now)).toBe(FINAL.includes(status));
  });

  it('when the person cancels after the expiry, then expiry decides the ending', () => {
    expect(endingInput(session('opened', '2026-11-30T09:00:00.000Z'), now, 'cancel')).toEqual({ kind: 'expire' });
    expect(endingInput(session('opened', '2026-11-30T11:00:00.000Z'), now, 'cancel')).toEqual({ kind: 'cancel' });
    expect(endingInput(session('opened', '2026-11-30T11:00:00.000Z'), now, 'expire')).toEqual({ kind: 'expire' });
  });
});

/** The status each UCW code maps to, by code (SPEC §7), written out independently of the module. */
const EXPECTED_BY_CODE: Array<[number, string, ConnectionState['status']]> = [
  [0, 'CREATED', 'pending'],
  [1, 'PREVENTED', 'needs_attention'],
  [2, 'DENIED', 'needs_attention'],
  [3, 'CHALLENGED', 'needs_attention'],
  [4, 'REJECTED', 'needs_attention'],
  [5, 'LOCKED', 'needs_attention'],
  [6, 'CONNECTED', 'connected'],
  [7, 'IMPEDED', 'needs_attention'],
  [8, 'RECONNECTED', 'connected'],
  [9, 'DEGRADED', 'needs_attention'],
  [10, 'DISCONNECTED', 'disconnected'],
  [11, 'DISCONTINUE', 'disconnected'],
  [12, 'CLOSED', 'disconnected'],
  [13, 'DELAYED', 'pending'],
  [14, 'FAILED', 'error'],
  [15, 'UPDATED', 'connected'],
  [16, 'DISABLED', 'disconnected'],
  [17, 'IMPORTED', 'connected'],
  [18, 'RESUMED', 'connected'],
  [19, 'EXPIRED', 'needs_attention'],
  [20, 'IMPAIRED', 'needs_attention'],
  [21, 'PENDING', 'pending'],
];

const CONNECTED = 'connect/memberConnected';
const MEMBER_ERROR = 'connect/memberError';
const STATUS_UPDATE = 'connect/memberStatusUpdate';
const LAST_CONNECT = '2026-11-30T09:00:00.000Z';
const NOW = '2026-11-30T10:00:00.000Z';

const connectionState = (overrides: Partial<ConnectionState> = {}): ConnectionState => ({
  status: 'connected',
  status_code: 6,
  last_connected_at: LAST_CONNECT,
  verified: 1,
  data_ready: 1,
  verification_error: null,
  ...overrides,
});
const connectionEvent = (type: string, overrides: Partial<ConnectionEventInput> = {}): ConnectionEventInput => ({
  type,
  statusCode: undefined,
  occurredAt: NOW,
  now: NOW,
  session: { status: 'opened', mode: 'new' },
  ...overrides,
});

describe('which events speak for a connection', () => {
  it('when an event is memberConnected, memberError or memberStatusUpdate and names aggregator and connection, then it carries one', () => {
    for (const type of [CONNECTED, MEMBER_ERROR, STATUS_UPDATE]) {
      expect(carriesConnection({ type, aggregator: 'mx', aggregatorConnectionId: 'MBR-1' })).toBe(true);
      expect(carriesConnection({ type, aggregator: undefined, aggregatorConnectionId: 'MBR-1' })).toBe(false);
      expect(carriesConnection({ type, aggregator: 'mx', aggregatorConnectionId: undefined })).toBe(false);
    }
  });

  it('when an event could speak for a connection in some session, then it does not name "no connection"', () => {
    for (const type of [CONNECTED, MEMBER_ERROR, STATUS_UPDATE]) {
      // A memberError may name its member without an aggregator and borrow the session connection's.
      expect(namesNoConnection({ type, aggregatorConnectionId: 'MBR-1' })).toBe(false);
      expect(namesNoConnection({ type, aggregatorConnectionId: undefined })).toBe(true);
    }
    expect(namesNoConnection({ type: 'connect/stepChange', aggregatorConnectionId: 'MBR-1' })).toBe(true);
  });

  it('when any other event names a connection, then it does not carry one', () => {
    for (const type of ['connect/loaded', 'connect/stepChange', 'connect/selectedInstitution', 'connect/cancelled']) {
      expect(carriesConnection({ type, aggregator: 'mx', aggregatorConnectionId: 'MBR-1' })).toBe(false);
    }
  });
});

describe('transitionConnection: every status code', () => {
  it.each(EXPECTED_BY_CODE)('when a status update carries code %i (%s) for a new connection, then it starts %s', (code, _name, status) => {
    const t = transitionConnection(undefined, connectionEvent(STATUS_UPDATE, { statusCode: code }));
    expect(t.next).toEqual({ status, status_code: code, last_connected_at: null, verified: 0, data_ready: 0, verification_error: null });
    expect(t.statusChanged).toBe(true);
    expect(t.change).toBe(status === 'needs_attention' || status === 'error' ? 'needs_attention' : undefined);
  });

  it.each(EXPECTED_BY_CODE)('when memberError carries code %i (%s), then the status is %s (the code decides, not the event)', (code, _name, status) => {
    expect(transitionConnection(undefined, connectionEvent(MEMBER_ERROR, { statusCode: code })).next.status).toBe(status);
    expect(reportedStatus(MEMBER_ERROR, code)).toBe(status);
  });

  it.each(EXPECTED_BY_CODE)('when memberConnected carries code %i (%s), then the connection is connected with that code', (code) => {
    const t = transitionConnection(undefined, connectionEvent(CONNECTED, { statusCode: code }));
    expect(t.next).toEqual({ status: 'connected', status_code: code, last_connected_at: NOW, verified: 0, data_ready: 0, verification_error: null });
    expect(t.change).toBe('connected');
  });

  it.each(EXPECTED_BY_CODE)('when a status update carries code %i (%s) for an existing, never-connected connection, then it moves to %s', (code, _name, status) => {
    const current = connectionState({ status: 'pending', status_code: 0, last_connected_at: null, verified: 0, data_ready: 0 });
    const t = transitionConnection(current, connectionEvent(STATUS_UPDATE, { statusCode: code }));
    expect(t.next).toEqual({ ...current, status, status_code: code });
    expect(t.statusChanged).toBe(status !== 'pending');
    expect(t.change).toBe(t.statusChanged && (status === 'needs_attention' || status === 'error') ? 'needs_attention' : undefined);
  });

  it('when a code is unknown or absent, then a status update says nothing and memberError means error', () => {
    for (const code of [22, 99, undefined]) {
      expect(transitionConnection(undefined, connectionEvent(STATUS_UPDATE, { statusCode: code })).next.status).toBe('pending');
      expect(transitionConnection(undefined, connectionEvent(MEMBER_ERROR, { statusCode: code })).next.status).toBe('error');
      const current = connectionState({ status: 'needs_attention', status_code: 2, last_connected_at: null });
      const t = transitionConnection(current, connectionEvent(STATUS_UPDATE, { statusCode: code }));
      expect(t.next.status).toBe('needs_attention');
      expect(t.next.status_code).toBe(code ?? 2);
      expect(t.change).toBeUndefined();
    }
  });

  it('when memberConnected carries no code, then CONNECTED (6) is recorded; a new status update without one records none', () => {
    expect(transitionConnection(undefined, connectionEvent(CONNECTED)).next.status_code).toBe(6);
    expect(transitionConnection(undefined, connectionEvent(STATUS_UPDATE)).next.status_code).toBeNull();
  });
});

describe('transitionConnection: connecting again, duplicates, out of order', () => {
  it('when memberConnected arrives for a verified connection, then a new aggregation resets the confirmation', () => {
    const t = transitionConnection(connectionState({ verification_error: 'old' }), connectionEvent(CONNECTED, { statusCode: 8 }));
    expect(t.next).toEqual({ status: 'connected', status_code: 8, last_connected_at: NOW, verified: 0, data_ready: 0, verification_error: null });
    expect(t.statusChanged).toBe(true);
    expect(t.change).toBe('connected');
  });

  it('when memberConnected arrives in a refresh session, then the platform hears refreshed', () => {
    expect(transitionConnection(connectionState(), connectionEvent(CONNECTED, { session: { status: 'opened', mode: 'refresh' } })).change).toBe('refreshed');
    expect(transitionConnection(undefined, connectionEvent(CONNECTED, { session: { status: 'opened', mode: 'refresh' } })).change).toBe('refreshed');
    expect(transitionConnection(undefined, connectionEvent(CONNECTED, { session: undefined })).change).toBe('connected');
  });

  it('when the same status update arrives twice, then the second changes nothing and announces nothing', () => {
    const input = connectionEvent(STATUS_UPDATE, { statusCode: 2 });
    const first = transitionConnection(connectionState({ status: 'pending', status_code: 0, last_connected_at: null }), input);
    expect(first.change).toBe('needs_attention');
    const second = transitionConnection(first.next, input);
    expect(second.next).toEqual(first.next);
    expect(second.statusChanged).toBe(false);
    expect(second.change).toBeUndefined();
  });

  it('when a status update is older than the last connect, then it does not demote the connection', () => {
    for (const occurredAt of ['2026-11-30T08:00:00.000Z', LAST_CONNECT]) {
      const current = connectionState();
      const t = transitionConnection(current, connectionEvent(MEMBER_ERROR, { statusCode: 2, occurredAt }));
      expect(t.next).toEqual(current);
      expect(t.statusChanged).toBe(false);
      expect(t.change).toBeUndefined();
    }
  });

  it('when a status update is newer than the last connect, then it applies', () => {
    const t = transitionConnection(connectionState(), connectionEvent(STATUS_UPDATE, { statusCode: 10, occurredAt: '2026-11-30T09:00:00.001Z' }));
    expect(t.next.status).toBe('disconnected');
    expect(t.next.status_code).toBe(10);
    expect(t.change).toBeUndefined();
  });

  it('when the session already connected, then a later status update from it does not demote the connection', () => {
    const current = connectionState({ last_connected_at: null });
    const t = transitionConnection(current, connectionEvent(STATUS_UPDATE, { statusCode: 14, session: { status: 'connected', mode: 'new' } }));
    expect(t.next).toEqual(current);
    expect(t.change).toBeUndefined();
  });

  it('when the session connected and memberConnected arrives again, then it still counts as a new aggregation', () => {
    const t = transitionConnection(connectionState(), connectionEvent(CONNECTED, { session: { status: 'connected', mode: 'new' } }));
    expect(t.change).toBe('connected');
    expect(t.next.verified).toBe(0);
  });

  it('when a connection moves to error, then the platform hears needs_attention; to a healthy status, nothing', () => {
    const pending = connectionState({ status: 'pending', status_code: 0, last_connected_at: null });
    expect(transitionConnection(pending, connectionEvent(MEMBER_ERROR, { statusCode: 14 })).change).toBe('needs_attention');
    expect(transitionConnection(pending, connectionEvent(STATUS_UPDATE, { statusCode: 8 })).change).toBeUndefined();
  });
});

describe('verification outcomes', () => {
  const unconfirmed = connectionState({ verified: 0, data_ready: 0 });

  it('when the accounts are read for an unconfirmed connection, then it is verified with data ready', () => {
    expect(verificationSucceeded(unconfirmed)).toEqual({
      next: { ...unconfirmed, verified: 1, data_ready: 1, verification_error: null },
      changes: ['verified', 'data_ready'],
      sessionEvents: [{ type: 'verified' }, { type: 'dataReady' }],
      still: 'unconfirmed',
    });
    expect(verificationSucceeded({ ...unconfirmed, verified: 1 })?.next.data_ready).toBe(1);
  });

  it('when the connection is already confirmed or deleted, then success changes nothing (a rerun)', () => {
    expect(verificationSucceeded(connectionState())).toBeUndefined();
    expect(verificationSucceeded({ ...unconfirmed, status: 'deleted' })).toBeUndefined();
  });

  it('when the deadline passes unconfirmed, then the connection needs attention, with the reason bounded to 500 characters', () => {
    expect(verificationFailed(unconfirmed, 'ucw_unavailable: down')).toEqual({
      next: { ...unconfirmed, status: 'needs_attention', verification_error: 'not confirmed by the UCW: ucw_unavailable: down' },
      changes: ['needs_attention'],
      sessionEvents: [{ type: 'verificationFailed', reason: 'not confirmed by the UCW: ucw_unavailable: down' }],
      still: 'unverified-and-not-failed',
    });
    expect(verificationFailed(unconfirmed, 'x'.repeat(1000))!.next.verification_error).toHaveLength(500);
  });

  it('when the deadline passes for a verified or deleted connection, then nothing changes', () => {
    expect(verificationFailed({ ...unconfirmed, verified: 1 }, 'late')).toBeUndefined();
    expect(verificationFailed({ ...unconfirmed, status: 'deleted' }, 'late')).toBeUndefined();
  });
});
