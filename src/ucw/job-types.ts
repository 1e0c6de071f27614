/**
 * The four UCW job types, in the order the UCW documents them. Both API versions accept
 * exactly these strings; anything else is rejected by the UCW with a Joi message.
 */
export const JOB_TYPES = ['accountNumber', 'accountOwner', 'transactions', 'transactionHistory'] as const;

export type JobType = (typeof JOB_TYPES)[number];

export const isJobType = (value: unknown): value is JobType =>
  typeof value === 'string' && (JOB_TYPES as readonly string[]).includes(value);
