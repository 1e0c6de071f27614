import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';

/**
 * Protects the aggregator's identifiers at rest (for plaid the "connection id" is an access token).
 * With a key ring (DATA_ENCRYPTION_KEYS, or the single DATA_ENCRYPTION_KEY) values are sealed
 * with AES-256-GCM under the first key and the key id is stored beside them; every key of the
 * ring opens what it sealed, so keys rotate without downtime (`npm run rekey` moves rows to the
 * first key). Without keys values are stored as given (keyId null). Either way uniqueness uses a
 * blind index, an HMAC of the value, so lookups never need the plaintext in a WHERE clause.
 */
export interface SecretBox {
  /** Seals under the current key; `keyId` picks a ring key (or null: plain) to match a row's other column. */
  seal(plaintext: string, keyId?: string | null): { value: string; keyId: string | null };
  open(value: string, keyId: string | null): string;
  /** The id new values are sealed under (null without keys). */
  readonly currentKeyId: string | null;
  /** Deterministic, one-way key for (aggregator, aggregator connection id) uniqueness, under the current key. */
  lookupKey(aggregator: string, aggregatorConnectionId: string): string;
  /**
   * Every index key a stored row may still carry: the current key's first, then older ring keys'
   * and the unkeyed one (rows written before encryption was on). Lookups match any of them, so
   * a connection is found, and its owner kept, during a rotation.
   */
  lookupKeys(aggregator: string, aggregatorConnectionId: string): string[];
}

const UNKEYED_INDEX_KEY = Buffer.from('ucw-bff blind index (no DATA_ENCRYPTION_KEY set)');
const RING_ENTRY = /^([\w-]+):([A-Za-z0-9+/]{43}=)$/;
// The blind index covers the normalized spelling only (see normalizeAggregator): a caller that
// skipped normalization would split one connection into two owners.
const CANONICAL_AGGREGATOR = /^[a-z0-9_-]{1,64}$/;

interface RingKey {
  id: string;
  encKey: Buffer;
  indexKey: Buffer;
}

/** `kid:base64` entries, or a single legacy `[kid:]base64` key (its id defaults to `k1`). */
export function parseKeyRing(entries: readonly string[]): RingKey[] {
  const ring = entries.map((entry) => {
    const match = RING_ENTRY.exec(entry.includes(':') ? entry : `k1:${entry}`);
    if (!match) throw new Error('a data encryption key must be <keyId>:<32 bytes base64>');
    const master = Buffer.from(match[2]!, 'base64');
    if (master.length !== 32) throw new Error('a data encryption key must hold 32 bytes');
    // Separate subkeys: the encryption key never doubles as the index key.
    return {
      id: match[1]!,
      encKey: Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), 'ucw-bff aes-256-gcm', 32)),
      indexKey: Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), 'ucw-bff blind index', 32)),
    };
  });
  if (new Set(ring.map((key) => key.id)).size !== ring.length) throw new Error('data encryption key ids must be distinct');
  return ring;
}

export function createSecretBox(keys: string | readonly string[] | undefined): SecretBox {
  const ring = parseKeyRing(keys === undefined ? [] : typeof keys === 'string' ? [keys] : keys);
  const current = ring[0];
  const byId = new Map(ring.map((key) => [key.id, key]));
  const ringKey = (keyId: string) => {
    const key = byId.get(keyId);
    if (!key) throw new Error(`value was sealed with key "${keyId}", which is not configured`);
    return key;
  };
  const index = (key: Buffer, aggregator: string, id: string) => {
    if (!CANONICAL_AGGREGATOR.test(aggregator)) throw new Error('the blind index takes a normalized aggregator');
    return createHmac('sha256', key).update(`${aggregator}\u0000${id}`).digest('base64url');
  };

  return {
    currentKeyId: current?.id ?? null,
    seal(plaintext, keyId) {
      const key = keyId === undefined ? current : keyId === null ? undefined : ringKey(keyId);
      if (!key) return { value: plaintext, keyId: null };
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key.encKey, iv);
      cipher.setAAD(Buffer.from(key.id));
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return { value: Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url'), keyId: key.id };
    },
    open(value, storedKeyId) {
      if (storedKeyId === null) return value; // written before encryption was turned on
      const key = ringKey(storedKeyId);
      const raw = Buffer.from(value, 'base64url');
      const decipher = createDecipheriv('aes-256-gcm', key.encKey, raw.subarray(0, 12));
      decipher.setAAD(Buffer.from(key.id));
      decipher.setAuthTag(raw.subarray(12, 28));
      return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
    },
    lookupKey: (aggregator, id) => index(current?.indexKey ?? UNKEYED_INDEX_KEY, aggregator, id),
    lookupKeys: (aggregator, id) => [...ring.map((key) => index(key.indexKey, aggregator, id)), index(UNKEYED_INDEX_KEY, aggregator, id)],
  };
}
