/**
 * Standard Webhooks (https://www.standardwebhooks.com) signing and verification, as pure
 * functions: the caller supplies the clock, the secrets and the raw request bytes.
 *
 * Signature: `v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<body>")>`, where the key is the
 * base64 part of a `whsec_…` secret. A header may carry several space-separated signatures
 * (the sender signs with every secret during a rotation); one match is enough.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export interface WebhookHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

export type WebhookVerificationFailure =
  | 'missing_headers'
  | 'invalid_timestamp'
  | 'timestamp_too_old'
  | 'timestamp_too_new'
  | 'no_matching_signature';

/** Why a delivery was refused. The message never contains a secret or a signature. */
export class WebhookVerificationError extends Error {
  override readonly name = 'WebhookVerificationError';
  readonly reason: WebhookVerificationFailure;

  constructor(reason: WebhookVerificationFailure, message: string) {
    super(message);
    this.reason = reason;
  }
}

export const DEFAULT_TOLERANCE_SECONDS = 300;
const SECRET_PREFIX = 'whsec_';

/** Signs one delivery attempt. The same `id` must be reused for every retry of one message. */
export function signWebhook(input: {
  id: string;
  /** Unix seconds. */
  timestamp: number;
  body: string | Buffer;
  /** `whsec_<base64>`. */
  secret: string;
}): WebhookHeaders {
  const timestamp = String(Math.floor(input.timestamp));
  const body = typeof input.body === 'string' ? Buffer.from(input.body, 'utf8') : input.body;
  return {
    'webhook-id': input.id,
    'webhook-timestamp': timestamp,
    'webhook-signature': `v1,${signature(secretKey(input.secret), input.id, timestamp, body)}`,
  };
}

/**
 * Verifies a delivery over its raw bytes (re-serialised JSON would not match). Tries every
 * `v1` signature in the header against every secret (rotation); other versions are ignored.
 * Throws `WebhookVerificationError`; returns the message id (the idempotency key) and timestamp.
 */
export function verifyWebhook(input: {
  headers: Record<string, string | string[] | undefined>;
  rawBody: Buffer;
  secrets: readonly string[];
  now: Date;
  /** Allowed clock skew, past and future; default 300 seconds. */
  toleranceSeconds?: number;
}): { id: string; timestamp: number } {
  const id = header(input.headers, 'webhook-id');
  const timestampText = header(input.headers, 'webhook-timestamp');
  const signatureHeader = header(input.headers, 'webhook-signature');
  if (!id || !timestampText || !signatureHeader) {
    throw new WebhookVerificationError('missing_headers', 'webhook-id, webhook-timestamp and webhook-signature are required');
  }

  if (!/^\d{1,15}$/.test(timestampText)) {
    throw new WebhookVerificationError('invalid_timestamp', 'webhook-timestamp is not a number of seconds');
  }
  const timestamp = Number(timestampText);
  const tolerance = input.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  const nowSeconds = Math.floor(input.now.getTime() / 1000);
  // Checked before any HMAC work, so replayed old deliveries cost almost nothing.
  if (timestamp < nowSeconds - tolerance) {
    throw new WebhookVerificationError('timestamp_too_old', 'webhook-timestamp is too far in the past');
  }
  if (timestamp > nowSeconds + tolerance) {
    throw new WebhookVerificationError('timestamp_too_new', 'webhook-timestamp is too far in the future');
  }

  const candidates = signatureHeader
    .split(' ')
    .map((entry) => entry.split(','))
    .filter((parts): parts is [string, string] => parts.length === 2 && parts[0] === 'v1' && parts[1] !== '')
    .map(([, value]) => Buffer.from(value, 'utf8'));

  for (const secret of input.secrets) {
    // Compared as base64 text, like the reference library: decoding first would let several
    // spellings of one signature match.
    const expected = Buffer.from(signature(secretKey(secret), id, timestampText, input.rawBody), 'utf8');
    for (const candidate of candidates) {
      if (candidate.length === expected.length && timingSafeEqual(candidate, expected)) return { id, timestamp };
    }
  }
  throw new WebhookVerificationError('no_matching_signature', 'No signature matches any configured secret');
}

function signature(key: Buffer, id: string, timestamp: string, body: Buffer): string {
  return createHmac('sha256', key).update(`${id}.${timestamp}.`, 'utf8').update(body).digest('base64');
}

/** The HMAC key of a `whsec_<base64>` secret (the prefix is optional, as in the reference library). */
function secretKey(secret: string): Buffer {
  const encoded = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
  const key = Buffer.from(encoded, 'base64');
  if (key.length === 0) throw new Error('A webhook secret must be whsec_ followed by base64 key bytes');
  return key;
}

/** Header lookup tolerant of case (Node lowercases, plain objects may not) and of repeated headers. */
function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  let value = headers[name];
  if (value === undefined) {
    const key = Object.keys(headers).find((candidate) => candidate.toLowerCase() === name);
    value = key === undefined ? undefined : headers[key];
  }
  // A repeated signature header is several signature lists; any other repeated header, its first value.
  if (Array.isArray(value)) value = name === 'webhook-signature' ? value.join(' ') : value[0];
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}
