import { afterEach, describe, expect, it, vi } from 'vitest';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { deadline } from '../../src/lib/deadline.js';
import { Agent, request } from '../../src/lib/undici.js';

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
    expect(signal.reason).toMatchObject({ name: 'TimeoutError', message: 'The operation timed out after 1000 ms' });
  });

  it('when the time passes during a request, then undici aborts it with the TimeoutError', async () => {
    const server = createServer(() => undefined); // never answers
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const dispatcher = new Agent();
    try {
      const { signal, clear } = deadline(50);
      const started = performance.now();
      await expect(request(`http://127.0.0.1:${port}/`, { dispatcher, method: 'GET', signal })).rejects.toMatchObject({ name: 'TimeoutError' });
      expect(performance.now() - started).toBeLessThan(5_000);
      clear();
    } finally {
      await dispatcher.destroy();
      server.closeAllConnections();
      server.close();
    }
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
