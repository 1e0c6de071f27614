import { z } from 'zod';

const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be YYYY-MM-DD');

/** `GET /connections/:id/transactions` query (SPEC §9). */
export const transactionsQuery = z.strictObject({
  accountId: z.string().min(1).max(256),
  startDate: isoDate.optional(),
  endDate: isoDate.optional(),
});
