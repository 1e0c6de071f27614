/**
 * Exponential backoff with full jitter (AWS architecture blog, "Exponential Backoff And
 * Jitter"): a uniformly random delay in [0, min(max, base * 2^(attempt-1))). Spreading retries
 * over the whole window keeps many failed deliveries from hitting a recovering receiver at once.
 */
export interface BackoffPolicy {
  baseDelayMs: number;
  maxDelayMs: number;
  /** [0, 1): injectable so tests pick the point in the window. */
  random: () => number;
}

/** Delay before retry number `attempt` (1 = the first retry after one failure). */
export function backoffDelayMs(attempt: number, policy: BackoffPolicy): number {
  const exponent = Math.min(Math.max(attempt - 1, 0), 30);
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** exponent);
  return Math.floor(policy.random() * ceiling);
}
