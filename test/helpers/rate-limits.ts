import { expect } from 'vitest';
import type { Dialect } from '../../src/db/database.js';
import { localAllowance } from '../../src/http/rate-limit-store.postgres.js';

/**
 * Sends `send` until the limiter refuses it, and asserts the admitted count is the limit, or on
 * PostgreSQL within the shared store's documented slack (each instance may admit `localAllowance`
 * past the limit before it consults the shared count; src/http/rate-limit-store.postgres.ts).
 * Resolves with the refusal and what was admitted.
 */
export async function untilRefused<T extends { status: number }>(
  dialect: Dialect,
  limit: number,
  send: () => Promise<T>,
): Promise<{ admitted: T[]; refused: T }> {
  const most = limit + (dialect === 'postgres' ? localAllowance(limit) : 0);
  const admitted: T[] = [];
  for (let sent = 0; sent <= most; sent += 1) {
    const answer = await send();
    if (answer.status === 429) {
      expect(admitted.length).toBeGreaterThanOrEqual(limit);
      return { admitted, refused: answer };
    }
    admitted.push(answer);
  }
  throw new Error(`${admitted.length} requests admitted, more than the limit of ${limit} (at most ${most} on ${dialect})`);
}
