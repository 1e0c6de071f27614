import { describe, expect, it } from 'vitest';
import { buildV1WidgetUrl, buildV2WidgetUrlBody, type WidgetRequest } from '../../src/ucw/ucw-widget-url.js';

const BASE = 'https://ucw.example.com';

const awkward = {
  userId: 'user 1&x=y/é😀',
  targetOrigin: 'https://app.example.com:8443',
  connectionId: 'MBR-1 &?#=/+%',
  aggregator: 'mx_int',
  institutionId: 'inst é&=1',
};

describe('v1 widget URL', () => {
  it('when minting a new connection, then the parameters come in the documented order with the token last', () => {
    const request: WidgetRequest = { userId: 'u-1', jobTypes: ['transactions', 'accountNumber'], targetOrigin: 'https://app.example.com' };
    expect(buildV1WidgetUrl(BASE, request, 'tok-123')).toBe(
      'https://ucw.example.com/widget?jobTypes=transactions,accountNumber&userId=u-1&targetOrigin=https%3A%2F%2Fapp.example.com&token=tok-123',
    );
  });

  it('when the UCW has no authentication, then there is no token parameter', () => {
    const request: WidgetRequest = { userId: 'u-1', jobTypes: ['accountOwner'], targetOrigin: 'http://localhost:3000' };
    expect(buildV1WidgetUrl(BASE, request, undefined)).toBe(
      'https://ucw.example.com/widget?jobTypes=accountOwner&userId=u-1&targetOrigin=http%3A%2F%2Flocalhost%3A3000',
    );
  });

  it('when a new connection names an institution and singleAccountSelect, then both are sent in order', () => {
    const request: WidgetRequest = {
      userId: awkward.userId,
      jobTypes: ['accountNumber'],
      targetOrigin: awkward.targetOrigin,
      institutionId: awkward.institutionId,
      singleAccountSelect: false,
    };
    const url = buildV1WidgetUrl(BASE, request, 'tok');
    expect(url).toBe(
      'https://ucw.example.com/widget?jobTypes=accountNumber&userId=user%201%26x%3Dy%2F%C3%A9%F0%9F%98%80' +
        '&targetOrigin=https%3A%2F%2Fapp.example.com%3A8443&institutionId=inst%20%C3%A9%26%3D1&singleAccountSelect=false&token=tok',
    );
    expect([...new URL(url).searchParams]).toEqual([
      ['jobTypes', 'accountNumber'],
      ['userId', awkward.userId],
      ['targetOrigin', awkward.targetOrigin],
      ['institutionId', awkward.institutionId],
      ['singleAccountSelect', 'false'],
      ['token', 'tok'],
    ]);
  });

  it('when refreshing with awkward values, then every value round-trips through URL parsing and institutionId appears once', () => {
    const request: WidgetRequest = {
      userId: awkward.userId,
      jobTypes: ['accountNumber', 'accountOwner', 'transactions', 'transactionHistory'],
      targetOrigin: awkward.targetOrigin,
      institutionId: 'ignored-when-refreshing',
      refresh: { connectionId: awkward.connectionId, aggregator: awkward.aggregator, institutionId: awkward.institutionId },
      singleAccountSelect: true,
    };
    const url = new URL(buildV1WidgetUrl(BASE, request, 'tok/+='));
    expect(url.origin + url.pathname).toBe('https://ucw.example.com/widget');
    expect([...url.searchParams]).toEqual([
      ['jobTypes', 'accountNumber,accountOwner,transactions,transactionHistory'],
      ['userId', awkward.userId],
      ['targetOrigin', awkward.targetOrigin],
      ['connectionId', awkward.connectionId],
      ['aggregator', awkward.aggregator],
      ['institutionId', awkward.institutionId],
      ['singleAccountSelect', 'true'],
      ['token', 'tok/+='],
    ]);
    // The comma joining job types is literal; values never contain a raw & = # ? + or space.
    expect(url.search).toContain('jobTypes=accountNumber,accountOwner,transactions,transactionHistory&');
    expect(url.search).toContain('connectionId=MBR-1%20%26%3F%23%3D%2F%2B%25&');
  });
});

describe('v2 widgetUrl body', () => {
  it('when minting a new connection, then only jobTypes, userId and targetOrigin are sent', () => {
    const body = buildV2WidgetUrlBody({ userId: 'u-1', jobTypes: ['transactions'], targetOrigin: 'https://app.example.com' });
    expect(JSON.stringify(body)).toBe('{"jobTypes":["transactions"],"userId":"u-1","targetOrigin":"https://app.example.com"}');
  });

  it('when refreshing with every option, then exactly the documented fields are sent and the refresh institution wins', () => {
    const body = buildV2WidgetUrlBody({
      userId: awkward.userId,
      jobTypes: ['accountNumber', 'transactionHistory'],
      targetOrigin: awkward.targetOrigin,
      institutionId: 'ignored-when-refreshing',
      refresh: { connectionId: awkward.connectionId, aggregator: awkward.aggregator, institutionId: awkward.institutionId },
      singleAccountSelect: false,
    });
    expect(body).toStrictEqual({
      jobTypes: ['accountNumber', 'transactionHistory'],
      userId: awkward.userId,
      targetOrigin: awkward.targetOrigin,
      connectionId: awkward.connectionId,
      aggregator: awkward.aggregator,
      institutionId: awkward.institutionId,
      singleAccountSelect: false,
    });
  });

  it('when the request object carries extra properties, then they never reach the body (v2 rejects unknown fields)', () => {
    const request = { userId: 'u', jobTypes: ['accountOwner'], targetOrigin: 'https://a.example', embed: 'host', foo: 1 } as WidgetRequest;
    expect(Object.keys(buildV2WidgetUrlBody(request))).toEqual(['jobTypes', 'userId', 'targetOrigin']);
  });
});
