import { randomBytesFromPool } from './lib/random-bytes.js';

/** Opaque public ids: a readable prefix and 128 random bits. Unguessable, so never enumerable. */
export const newId = (prefix: 'cs' | 'conn' | 'msg' | 'job') => `${prefix}_${randomBytesFromPool(16).toString('base64url')}`;

/** Ids we issued look like this; anything else is answered as unknown without touching the database. */
export const looksLikeId = (prefix: 'cs' | 'conn', value: string) => new RegExp(`^${prefix}_[\\w-]{22}$`).test(value);
