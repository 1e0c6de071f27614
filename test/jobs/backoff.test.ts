import { describe, expect, it } from 'vitest';
import { backoffDelayMs } from '../../src/jobs/backoff.js';
import { retryAfterMs } from '../../src/lib/retry-after.js';

describe('backoff with full jitter', () => {
  const policy = (random: number) => ({ baseDelayMs: 1_000, maxDelayMs: 10_000, random: () => random });

  it('when retries accumulate, then the window doubles from the base up to the cap', () => {
    expect([1, 2, 3, 4, 5, 6, 40].map((attempt) => backoffDelayMs(attempt, policy(0.999_999)))).toEqual([999, 1_999, 3_999, 7_999, 9_999, 9_999, 9_999]);
  });

  it('when the random draw is low or middling, then the delay is that fraction of the window', () => {
    expect(backoffDelayMs(3, policy(0))).toBe(0);
    expect(backoffDelayMs(3, policy(0.5))).toBe(2_000);
  });
});

describe('Retry-After', () => {
  const now = new Date('2026-11-26T06:00:00.000Z');
  it('when given seconds, an HTTP date, a past date, garbage or nothing, then it parses accordingly', () => {
    expect(retryAfterMs('120', now)).toBe(120_000);
    expect(retryAfterMs(' 0 ', now)).toBe(0);
    expect(retryAfterMs(new Date(now.getTime() + 90_000).toUTCString(), now)).toBe(90_000);
    expect(retryAfterMs(new Date(now.getTime() - 90_000).toUTCString(), now)).toBe(0);
    expect(retryAfterMs('soon', now)).toBeUndefined();
    expect(retryAfterMs('-5', now)).toBeUndefined();
    expect(retryAfterMs(undefined, now)).toBeUndefined();
  });
});
