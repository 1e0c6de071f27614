import { describe, expect, it } from 'vitest';
import { FINAL_SESSION_STATUSES, sessionStateOf, transitionSession, type SessionInput, type SessionState, type SessionStatus } from '../../src/events/state-machine.js';

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

describe('sessionStateOf', () => {
  it('when a row has no error time, then lastError is null; with one, it carries the code', () => {
    expect(sessionStateOf({ status: 'opened', connection_id: null, last_error_code: null, last_error_at: null })).toEqual(state());
    expect(sessionStateOf({ status: 'opened', connection_id: 'c', last_error_code: 2, last_error_at: AT })).toEqual(state({ connectionId: 'c', lastError: { statusCode: 2, at: AT } }));
  });
});
