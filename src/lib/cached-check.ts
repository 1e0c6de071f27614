/**
 * One dependency probe shared by every caller: while a probe runs, callers wait for it (single
 * flight); its answer is reused for `ttlMs`. So an anonymous `/readyz` flood costs the UCW at
 * most one call per interval, each with the BFF's M2M bearer.
 */
export function cachedCheck<T>(probe: () => Promise<T>, options: { ttlMs: number; now?: () => number }): () => Promise<T> {
  // Monotonic: a wall clock stepping back must not pin a stale answer.
  const now = options.now ?? (() => performance.now());
  let cached: { value: T; at: number } | undefined;
  let inflight: Promise<T> | undefined;
  return () => {
    if (cached && now() - cached.at < options.ttlMs) return Promise.resolve(cached.value);
    inflight ??= probe()
      .then((value) => {
        cached = { value, at: now() };
        return value;
      })
      .finally(() => {
        inflight = undefined;
      });
    return inflight;
  };
}
