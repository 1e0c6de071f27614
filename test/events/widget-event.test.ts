import { describe, expect, it } from 'vitest';
import { normalizeAggregator, normalizeEvent } from '../../src/events/widget-event.js';

describe('normalizeEvent', () => {
  it('when a v1 payload arrives, then its fields map to the common names and secrets leave the safe metadata', () => {
    const event = normalizeEvent('connect/memberStatusUpdate', {
      aggregator: 'sophtron', member_guid: 'MBR-1', user_guid: 'USR-1', connection_status: 6, ucpInstitutionId: 'inst', rawStatus: 'SUCCESS', jobId: 'JOB-secret',
    });
    expect(event).toEqual({
      type: 'connect/memberStatusUpdate', aggregator: 'sophtron', aggregatorConnectionId: 'MBR-1', aggregatorUserId: 'USR-1', statusCode: 6, institutionId: 'inst',
      safeMetadata: { aggregator: 'sophtron', ucpInstitutionId: 'inst', rawStatus: 'SUCCESS', statusCode: 6 },
    });
  });

  it('when a v2 payload or the older provider name arrives, then it maps the same way', () => {
    expect(normalizeEvent('connect/memberConnected', { provider: 'mx', connectionId: 'C-2', aggregatorUserId: 'U-2', connectionStatus: '8' })).toMatchObject({
      aggregator: 'mx', aggregatorConnectionId: 'C-2', aggregatorUserId: 'U-2', statusCode: 8,
    });
  });

  it('when memberError nests the member, then its guid and status are read', () => {
    expect(normalizeEvent('connect/memberError', { member: { guid: 'MBR-3', connection_status: 2 } })).toMatchObject({ aggregatorConnectionId: 'MBR-3', statusCode: 2 });
  });

  it('when identifiers carry whitespace or control characters, then they are not taken', () => {
    const event = normalizeEvent('connect/memberConnected', { aggregator: 'mx', connectionId: 'C-1\r\nX-Injected: 1', aggregatorUserId: 'a b', ucpInstitutionId: 'i\u0000' });
    expect([event.aggregatorConnectionId, event.aggregatorUserId, event.institutionId]).toEqual([undefined, undefined, undefined]);
  });

  it('when a status code is out of range or not a number, then there is none', () => {
    expect(normalizeEvent('connect/memberStatusUpdate', { connectionStatus: 'CONNECTED' }).statusCode).toBeUndefined();
    expect(normalizeEvent('connect/memberStatusUpdate', { connection_status: 1000 }).statusCode).toBeUndefined();
  });
});

describe('normalizeAggregator', () => {
  it.each([
    ['mx', 'mx'],
    ['MX', 'mx'],
    [' Mx\t', 'mx'],
    ['mx_int', 'mx_int'],
    ['Plaid-Sandbox', 'plaid-sandbox'],
    ['0', '0'],
    ['a'.repeat(64), 'a'.repeat(64)],
  ])('when the aggregator is %j, then it normalizes to %j', (raw, expected) => {
    expect(normalizeAggregator(raw)).toBe(expected);
  });

  it.each([[''], ['   '], ['m x'], ['mx!'], ['mx.'], ['a'.repeat(65)], ['ＭＸ'], ['\u212Aakoya'], ['mx\u0000'], ['İ'], [42], [null], [{}], [['mx']]])(
    'when the aggregator is %j, then it is not an aggregator',
    (raw) => {
      expect(normalizeAggregator(raw)).toBeUndefined();
    },
  );

  it('when an event names an unusable aggregator (or provider), then normalizeEvent refuses it with a 400 naming the field', () => {
    expect(() => normalizeEvent('connect/memberConnected', { aggregator: 'm x', connectionId: 'C' })).toThrow(expect.objectContaining({ code: 'validation_failed', fields: [expect.objectContaining({ field: 'metadata.aggregator' })] }));
    expect(() => normalizeEvent('connect/memberConnected', { provider: 7, connectionId: 'C' })).toThrow(expect.objectContaining({ fields: [expect.objectContaining({ field: 'metadata.provider' })] }));
    expect(normalizeEvent('connect/loaded', { aggregator: null, provider: ' SOPHTRON ' }).aggregator).toBe('sophtron');
    expect(normalizeEvent('connect/loaded', {}).aggregator).toBeUndefined();
  });
});
