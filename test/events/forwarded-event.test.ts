import { describe, expect, it } from 'vitest';
import { toForwardedEvent } from '../../src/events/forwarded-event.js';

const session = { id: 'cs_1', status: 'opened' as const, institution_id: 'inst-s', connection_id: 'conn_1' };
const connection = { id: 'conn_1', aggregator: 'mx', institution_id: 'inst-c' };

describe('toForwardedEvent', () => {
  it("when the session has its connection, then the connection's aggregator and institution speak for it", () => {
    expect(toForwardedEvent('connect/stepChange', session, connection)).toEqual({
      type: 'connect/stepChange',
      metadata: { sessionId: 'cs_1', connectionId: 'conn_1', aggregator: 'mx', institutionId: 'inst-c', status: 'opened' },
    });
  });

  it('when the connection is not the session\'s own, then it is ignored and the session\'s institution stands', () => {
    expect(toForwardedEvent('connect/loaded', session, { ...connection, id: 'conn_other' }).metadata).toEqual({
      sessionId: 'cs_1', connectionId: 'conn_1', aggregator: null, institutionId: 'inst-s', status: 'opened',
    });
  });

  it('when the session has no connection, then aggregator is null and the institution is the requested one', () => {
    expect(toForwardedEvent('connect/loaded', { ...session, connection_id: null, institution_id: null }, undefined).metadata).toEqual({
      sessionId: 'cs_1', connectionId: null, aggregator: null, institutionId: null, status: 'opened',
    });
  });

  it('when an error is given, then it is carried; otherwise there is no error field at all', () => {
    expect(toForwardedEvent('connect/memberError', session, connection, { statusCode: 2 }).metadata.error).toEqual({ statusCode: 2 });
    expect('error' in toForwardedEvent('connect/memberConnected', session, connection).metadata).toBe(false);
  });

  it('when the connection has no institution, then the session\'s is used', () => {
    expect(toForwardedEvent('connect/x', session, { ...connection, institution_id: null }).metadata.institutionId).toBe('inst-s');
  });
});
