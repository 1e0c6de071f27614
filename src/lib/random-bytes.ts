import { randomFillSync } from 'node:crypto';

const POOL_BYTES = 4096;
const pool = Buffer.allocUnsafe(POOL_BYTES);
let offset = POOL_BYTES;

/**
 * Fresh cryptographically random bytes, served from a pool refilled 4 KiB at a time. Each
 * `crypto.randomBytes` call costs a few microseconds of OpenSSL overhead whatever its size, and
 * every request needs a few (ids, CSP nonces); `crypto.randomUUID` caches the same way. Each pool
 * byte is handed out once and copied out, so no two callers ever share or alias random bytes.
 */
export function randomBytesFromPool(size: number): Buffer {
  if (size > POOL_BYTES) throw new RangeError(`at most ${POOL_BYTES} bytes at a time`);
  if (offset + size > POOL_BYTES) {
    randomFillSync(pool);
    offset = 0;
  }
  const bytes = Buffer.from(pool.subarray(offset, offset + size));
  offset += size;
  return bytes;
}
