import type { RequestHandler } from 'express';

/**
 * Runs a middleware that only ever sets the same response headers (helmet with a fixed policy)
 * once at start-up, and returns one that sets the recorded headers in a single pass. The
 * middleware stays the source of truth for the policy; requests stop paying for its dozen
 * nested calls. Refuses a middleware that does anything but set (or remove) headers.
 */
export function staticHeaders(middleware: RequestHandler): RequestHandler {
  const headers = new Map<string, string>();
  const removed = new Set<string>();
  let nextCalled = false;
  const recorder = {
    setHeader(name: string, value: string | number | readonly string[]) {
      headers.set(name, String(value));
      removed.delete(name.toLowerCase());
      return recorder;
    },
    removeHeader(name: string) {
      headers.delete(name);
      removed.add(name.toLowerCase());
    },
  };
  const request = { method: 'GET', url: '/', headers: {}, get: () => undefined, secure: false };
  void middleware(request as never, recorder as never, ((error?: unknown) => {
    if (error) throw error instanceof Error ? error : new Error(String(error));
    nextCalled = true;
  }) as never);
  if (!nextCalled) throw new Error('staticHeaders: the middleware did not pass the request on synchronously');
  const entries = [...headers];
  const removals = [...removed];
  return (_req, res, next) => {
    for (const [name, value] of entries) res.setHeader(name, value);
    for (const name of removals) res.removeHeader(name);
    next();
  };
}
