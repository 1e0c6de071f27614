import type { Kysely, Transaction } from 'kysely';
import type { Database } from './schema.js';

/** What repositories take first: the database, or the transaction a service opened. */
export type Db = Kysely<Database> | Transaction<Database>;

/** ISO-8601 with milliseconds, the one timestamp format stored. */
export const iso = (date: Date) => date.toISOString();
