import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';

/**
 * Protects the aggregator's identifiers at rest (for plaid the "connection id" is an access token).
 * With DATA_ENCRYPTION_KEY set, values are sealed with AES-256-GCM and the key id is stored
 * beside them; without it they are stored as given (keyId null). Either way uniqueness uses a
 * blind index, an HMAC of the value, so lookups never need the plaintext in a WHERE clause.
 */
export interface SecretBox {
  seal(plaintext: string): { value: string; keyId: string | null };
  open(value: string, keyId: string | null): string;
  /** Deterministic, one-way key for (aggregator, aggregator connection id) uniqueness. */
  lookupKey(aggregator: string, aggregatorConnectionId: string): string;
}

const UNKEYED_INDEX_KEY = Buffer.from('ucw-bff blind index (no DATA_ENCRYPTION_KEY set)');

export function createSecretBox(encryptionKey: string | undefined): SecretBox {
  if (!encryptionKey) {
    return {
      seal: (plaintext) => ({ value: plaintext, keyId: null }),
      open: (value, keyId) => {
        if (keyId !== null) throw new Error(`value was sealed with key "${keyId}" but DATA_ENCRYPTION_KEY is not set`);
        return value;
      },
      lookupKey: (aggregator, id) => blindIndex(UNKEYED_INDEX_KEY, aggregator, id),
    };
  }
  const separator = encryptionKey.indexOf(':');
  const keyId = separator > 0 ? encryptionKey.slice(0, separator) : 'k1';
  const master = Buffer.from(separator > 0 ? encryptionKey.slice(separator + 1) : encryptionKey, 'base64');
  if (master.length !== 32) throw new Error('DATA_ENCRYPTION_KEY must hold 32 bytes');
  // Separate subkeys: the encryption key never doubles as the index key.
  const encKey = Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), 'ucw-bff aes-256-gcm', 32));
  const indexKey = Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), 'ucw-bff blind index', 32));

  return {
    seal(plaintext) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', encKey, iv);
      cipher.setAAD(Buffer.from(keyId));
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return { value: Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url'), keyId };
    },
    open(value, storedKeyId) {
      if (storedKeyId === null) return value; // written before encryption was turned on
      if (storedKeyId !== keyId) throw new Error(`value was sealed with key "${storedKeyId}", which is not configured`);
      const raw = Buffer.from(value, 'base64url');
      const decipher = createDecipheriv('aes-256-gcm', encKey, raw.subarray(0, 12));
      decipher.setAAD(Buffer.from(keyId));
      decipher.setAuthTag(raw.subarray(12, 28));
      return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
    },
    lookupKey: (aggregator, id) => blindIndex(indexKey, aggregator, id),
  };
}

function blindIndex(key: Buffer, aggregator: string, id: string): string {
  return createHmac('sha256', key).update(`${aggregator}\u0000${id}`).digest('base64url');
}
