import { afterEach, describe, expect, it, vi } from 'vitest';
import { deadline } from '../../src/lib/deadline.js';

describe('deadline', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('when the time passes, then the signal aborts with a TimeoutError, as AbortSignal.timeout does', () => {
    vi.useFakeTimers();
    const { signal } = deadline(1_000);
    vi.advanceTimersByTime(999);
    expect(signal.aborted).toBe(false);
    vi.advanceTimersByTime(1);
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toMatchObject({ name: 'TimeoutError' });
    expect(() => signal.throwIfAborted()).toThrow(/timed out after 1000 ms/);
  });

  it('when cleared before the time passes, then the signal never aborts and no timer is left', () => {
    vi.useFakeTimers();
    const { signal, clear } = deadline(1_000);
    clear();
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(5_000);
    expect(signal.aborted).toBe(false);
  });
});
