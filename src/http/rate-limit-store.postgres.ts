/**
 * A rate-limit store shared by every instance on one PostgreSQL database: fixed windows aligned
 * on the epoch (so instances agree on them; their clocks must be NTP-synchronised), counted in
 * the `rate_limit_buckets` table.
 *
 * Writing every request would add a database round trip to each limited request. Instead each
 * instance admits a few requests per key on its own (`localAllowance`, 5 % of the limit, at least
 * 1) and counts them in memory; the next request of that key adds them to the shared count in one
 * upsert and is decided on the shared total (as is every request while such an addition is under
 * way), and a timer flushes what is left every `flushMs`.
 * The admitted total in a window is therefore at most `limit + instances × localAllowance`: the
 * documented slack. A key whose shared count already reached the limit is refused without a query.
 *
 * Any database failure fails open: the request is allowed and a warning logged (at most every
 * `warnEveryMs`), because an unreachable limiter must not take the API down with it.
 */
import { sql } from 'kysely';
import type { DatabaseHandle } from '../db/database.js';
import type { Logger } from '../logger.js';
import type { RateLimitDecision, RateLimitStore } from './rate-limit.js';

export interface SharedRateLimitStore extends RateLimitStore {
  /** Writes the counts still held in memory and stops the flush timer. */
  close(): Promise<void>;
}

interface Entry {
  bucket: string;
  windowStart: number;
  windowMs: number;
  /** The shared count as last read (it includes what this instance flushed). */
  shared: number;
  /** Admitted here, not yet added to the shared count. */
  pending: number;
  /** Additions to the shared count under way. While any is, nothing is admitted locally. */
  adding: number;
}

/** Requests of one key an instance admits before it must consult the shared count. */
export const localAllowance = (limit: number): number => Math.max(1, Math.ceil(limit * 0.05));

export function postgresRateLimitStore(options: {
  database: DatabaseHandle;
  logger: Logger;
  now?: () => number;
  flushMs?: number;
  warnEveryMs?: number;
}): SharedRateLimitStore {
  const { database, logger } = options;
  const now = options.now ?? Date.now;
  const warnEveryMs = options.warnEveryMs ?? 30_000;
  const entries = new Map<string, Entry>();
  let lastWarning = -Infinity;

  const warn = (error: unknown) => {
    const t = now();
    if (t - lastWarning < warnEveryMs) return;
    lastWarning = t;
    logger.warn({ error: error instanceof Error ? error.message : String(error) }, 'shared rate-limit store unavailable; allowing requests uncounted (fail open)');
  };

  /** Adds `count` to the shared window and returns the new total (0 when the row belongs to a later window). */
  const add = async (entry: Entry, count: number): Promise<number> => {
    const { rows } = await sql<{ count: number; window_start: number }>`
      insert into rate_limit_buckets as b (key, window_start, expires_at, count)
      values (${entry.bucket}, ${entry.windowStart}, ${entry.windowStart + entry.windowMs}, ${count})
      on conflict (key) do update set
        count = case
          when b.window_start = excluded.window_start then b.count + excluded.count
          when b.window_start < excluded.window_start then excluded.count
          else b.count end,
        window_start = greatest(b.window_start, excluded.window_start),
        expires_at = greatest(b.expires_at, excluded.expires_at)
      returning count, window_start`.execute(database.db);
    const row = rows[0]!;
    return Number(row.window_start) === entry.windowStart ? Number(row.count) : 0;
  };

  const flush = async () => {
    const t = now();
    for (const [key, entry] of entries) {
      if (entry.windowStart + entry.windowMs <= t) {
        entries.delete(key);
        continue;
      }
      if (entry.pending === 0) continue;
      const count = entry.pending;
      entry.pending = 0;
      entry.adding += 1;
      try {
        entry.shared = Math.max(entry.shared, await add(entry, count));
      } catch (error) {
        entry.pending += count;
        warn(error);
        return;
      } finally {
        entry.adding -= 1;
      }
    }
  };

  let sweeps = 0;
  const timer = setInterval(() => {
    void flush();
    // Now and then, forget windows long gone (any instance may do it; it is idempotent).
    if ((sweeps += 1) % 60 === 0) {
      sql`delete from rate_limit_buckets where expires_at < ${now() - 60_000}`.execute(database.db).catch(warn);
    }
  }, options.flushMs ?? 1000);
  timer.unref();

  const decision = (allowed: boolean, total: number, limit: number, entry: Entry, t: number): RateLimitDecision => ({
    allowed,
    remaining: limit - total,
    resetMs: entry.windowStart + entry.windowMs - t,
  });

  return {
    hit(key, limit, windowMs) {
      const t = now();
      const windowStart = Math.floor(t / windowMs) * windowMs;
      const bucket = `${key}|${limit}/${windowMs}`;
      let entry = entries.get(bucket);
      if (!entry || entry.windowStart !== windowStart) {
        entry = { bucket, windowStart, windowMs, shared: 0, pending: 0, adding: 0 };
        entries.set(bucket, entry);
      }
      const known = entry.shared + entry.pending;
      if (known >= limit) return decision(false, known + 1, limit, entry, t);
      // Locally admitted requests the shared count does not hold yet stay at most `localAllowance`:
      // none are admitted while an addition (which may carry earlier ones) is under way.
      if (entry.adding === 0 && entry.pending < localAllowance(limit)) {
        entry.pending += 1;
        return decision(true, known + 1, limit, entry, t);
      }
      // This instance used its allowance: add it and this request to the shared count, decide on the total.
      const counted = entry;
      const count = counted.pending + 1;
      counted.pending = 0;
      counted.adding += 1;
      return add(counted, count)
        .then(
          (total) => {
            counted.shared = Math.max(counted.shared, total);
            return decision(total <= limit, total, limit, counted, t);
          },
          (error: unknown) => {
            warn(error);
            return decision(true, known + 1, limit, counted, t);
          },
        )
        .finally(() => (counted.adding -= 1));
    },
    async close() {
      clearInterval(timer);
      await flush();
    },
  };
}
