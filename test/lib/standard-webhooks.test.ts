import { describe, expect, it } from 'vitest';
import { signWebhook, verifyWebhook, WebhookVerificationError, type WebhookVerificationFailure } from '../../src/lib/standard-webhooks.js';

// The Standard Webhooks specification's published test vector.
const vector = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestamp: 1614265330,
  body: '{"test": 2432232314}',
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
};

const secret = 'whsec_' + Buffer.from('current-secret-bytes-0123456789ab').toString('base64');
const oldSecret = 'whsec_' + Buffer.from('previous-secret-bytes-0123456789').toString('base64');
const now = new Date('2026-11-26T06:00:00.000Z');
const nowSeconds = now.getTime() / 1000;
const body = Buffer.from('{"type":"connect/memberConnected","metadata":{},"userId":"u1"}');

const signed = (overrides: { secret?: string; timestamp?: number; body?: Buffer } = {}) =>
  signWebhook({ id: 'msg_1', timestamp: overrides.timestamp ?? nowSeconds, body: overrides.body ?? body, secret: overrides.secret ?? secret });

function failure(action: () => unknown): WebhookVerificationFailure {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(WebhookVerificationError);
    return (error as WebhookVerificationError).reason;
  }
  throw new Error('expected verification to fail');
}

describe('Standard Webhooks signing', () => {
  it('when signing the specification test vector, then the signature matches the published one', () => {
    expect(signWebhook({ id: vector.id, timestamp: vector.timestamp, body: vector.body, secret: vector.secret })).toEqual({
      'webhook-id': vector.id,
      'webhook-timestamp': '1614265330',
      'webhook-signature': vector.signature,
    });
  });

  it('when verifying the specification test vector at its own time, then it is accepted', () => {
    const result = verifyWebhook({
      headers: { 'webhook-id': vector.id, 'webhook-timestamp': String(vector.timestamp), 'webhook-signature': vector.signature },
      rawBody: Buffer.from(vector.body),
      secrets: [vector.secret],
      now: new Date(vector.timestamp * 1000),
    });
    expect(result).toEqual({ id: vector.id, timestamp: vector.timestamp });
  });

  it('when the body is a Buffer or the same string, then the signature is the same', () => {
    expect(signWebhook({ id: vector.id, timestamp: vector.timestamp, body: Buffer.from(vector.body), secret: vector.secret })['webhook-signature']).toBe(
      vector.signature,
    );
  });
});

describe('Standard Webhooks verification', () => {
  it('when the delivery is signed with the configured secret, then it verifies and returns id and timestamp', () => {
    expect(verifyWebhook({ headers: { ...signed() }, rawBody: body, secrets: [secret], now })).toEqual({ id: 'msg_1', timestamp: nowSeconds });
  });

  it('when one byte of the body changed, then no signature matches', () => {
    const tampered = Buffer.from(body.toString().replace('u1', 'u2'));
    expect(failure(() => verifyWebhook({ headers: { ...signed() }, rawBody: tampered, secrets: [secret], now }))).toBe('no_matching_signature');
  });

  it('when the body was re-serialised (whitespace differs), then no signature matches', () => {
    const reserialised = Buffer.from(JSON.stringify(JSON.parse(body.toString()), null, 1));
    expect(failure(() => verifyWebhook({ headers: { ...signed() }, rawBody: reserialised, secrets: [secret], now }))).toBe('no_matching_signature');
  });

  it('when the id was swapped (replay under another id), then no signature matches', () => {
    const headers = { ...signed(), 'webhook-id': 'msg_2' };
    expect(failure(() => verifyWebhook({ headers, rawBody: body, secrets: [secret], now }))).toBe('no_matching_signature');
  });

  it('when signed with a secret that is not configured, then no signature matches', () => {
    expect(failure(() => verifyWebhook({ headers: { ...signed({ secret: oldSecret }) }, rawBody: body, secrets: [secret], now }))).toBe(
      'no_matching_signature',
    );
  });

  it('when signed with the second of two configured secrets (rotation), then it verifies', () => {
    const result = verifyWebhook({ headers: { ...signed({ secret: oldSecret }) }, rawBody: body, secrets: [secret, oldSecret], now });
    expect(result.id).toBe('msg_1');
  });

  it('when no secrets are configured, then nothing verifies', () => {
    expect(failure(() => verifyWebhook({ headers: { ...signed() }, rawBody: body, secrets: [], now }))).toBe('no_matching_signature');
  });

  it('when the timestamp is just inside the tolerance either way, then it verifies', () => {
    for (const timestamp of [nowSeconds - 300, nowSeconds + 300]) {
      expect(verifyWebhook({ headers: { ...signed({ timestamp }) }, rawBody: body, secrets: [secret], now }).timestamp).toBe(timestamp);
    }
  });

  it('when the timestamp is more than 5 minutes old, then it is refused as too old', () => {
    const headers = { ...signed({ timestamp: nowSeconds - 301 }) };
    expect(failure(() => verifyWebhook({ headers, rawBody: body, secrets: [secret], now }))).toBe('timestamp_too_old');
  });

  it('when the timestamp is more than 5 minutes ahead, then it is refused as too new', () => {
    const headers = { ...signed({ timestamp: nowSeconds + 301 }) };
    expect(failure(() => verifyWebhook({ headers, rawBody: body, secrets: [secret], now }))).toBe('timestamp_too_new');
  });

  it('when a custom tolerance is given, then it replaces the 5 minutes', () => {
    const headers = { ...signed({ timestamp: nowSeconds - 31 }) };
    expect(failure(() => verifyWebhook({ headers, rawBody: body, secrets: [secret], now, toleranceSeconds: 30 }))).toBe('timestamp_too_old');
  });

  it.each(['abc', '1.5', '-10', '1e9', ''.padEnd(16, '9')])('when the timestamp is %j, then it is invalid', (timestamp) => {
    const headers = { ...signed(), 'webhook-timestamp': timestamp };
    expect(failure(() => verifyWebhook({ headers, rawBody: body, secrets: [secret], now }))).toBe('invalid_timestamp');
  });

  it.each(['webhook-id', 'webhook-timestamp', 'webhook-signature'] as const)('when %s is missing, then headers are missing', (name) => {
    const headers: Record<string, string | undefined> = { ...signed() };
    delete headers[name];
    expect(failure(() => verifyWebhook({ headers, rawBody: body, secrets: [secret], now }))).toBe('missing_headers');
    expect(failure(() => verifyWebhook({ headers: { ...headers, [name]: '  ' }, rawBody: body, secrets: [secret], now }))).toBe('missing_headers');
  });

  it('when the header holds several signatures, then one valid v1 among them is enough and v1a entries are ignored', () => {
    const valid = signed()['webhook-signature'];
    const validValue = valid.slice('v1,'.length);
    const otherValid = signed({ secret: oldSecret })['webhook-signature'];
    const header = `v1,Zm9yZ2Vk v1a,${validValue} ${otherValid} ${valid} v2,abc`;
    expect(verifyWebhook({ headers: { ...signed(), 'webhook-signature': header }, rawBody: body, secrets: [secret], now }).id).toBe('msg_1');
  });

  it('when the only correct value is under a non-v1 version, then it is not accepted', () => {
    const validValue = signed()['webhook-signature'].slice('v1,'.length);
    const headers = { ...signed(), 'webhook-signature': `v1a,${validValue} v2,${validValue}` };
    expect(failure(() => verifyWebhook({ headers, rawBody: body, secrets: [secret], now }))).toBe('no_matching_signature');
  });

  it('when headers arrive with other casing or repeated, then they are still read', () => {
    const { 'webhook-id': id, 'webhook-timestamp': timestamp, 'webhook-signature': signature } = signed();
    const headers = { 'Webhook-Id': id, 'WEBHOOK-TIMESTAMP': [timestamp], 'webhook-signature': ['v1,Zm9yZ2Vk', signature] };
    expect(verifyWebhook({ headers, rawBody: body, secrets: [secret], now }).id).toBe('msg_1');
  });

  it('when verification fails, then the error message carries neither the secret nor a signature', () => {
    const headers = { ...signed({ secret: oldSecret }) };
    let caught: unknown;
    try {
      verifyWebhook({ headers, rawBody: body, secrets: [secret], now });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(WebhookVerificationError);
    const text = `${(caught as Error).message} ${JSON.stringify(caught)}`;
    expect(text).not.toContain(secret.slice(6));
    expect(text).not.toContain(headers['webhook-signature'].slice(3));
    expect(text).not.toContain(signed()['webhook-signature'].slice(3));
  });
});
