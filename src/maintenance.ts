import { createPollingLoop, type PollingLoop } from './jobs/polling-loop.js';
import type { Logger } from './logger.js';

/**
 * Housekeeping every minute: open sessions past their expiry end, `failed` or `expired` (readers
 * also end them on sight), and remembered webhook ids older than the retention window are pruned.
 */
export function createMaintenance(options: {
  logger: Logger;
  clock: () => Date;
  webhookIdRetentionHours: number;
  /** Ends open sessions past expiry, each recorded and announced (SSE streams hear it and close). */
  expireDueSessions: () => Promise<number>;
  /** Forgets inbound webhook ids received before the cutoff; returns how many. */
  pruneWebhookIds: (cutoff: Date) => Promise<number>;
  intervalMs?: number;
}): PollingLoop {
  const tick = async () => {
    const now = options.clock();
    const expired = await options.expireDueSessions();
    const pruned = await options.pruneWebhookIds(new Date(now.getTime() - options.webhookIdRetentionHours * 3600_000));
    if (expired > 0 || pruned > 0) {
      options.logger.info({ expiredSessions: expired, prunedWebhookIds: pruned }, 'maintenance');
    }
    // Never "found work": this loop only ever runs on its interval.
    return 0;
  };
  return createPollingLoop({ name: 'maintenance', intervalMs: options.intervalMs ?? 60_000, tick, logger: options.logger });
}
