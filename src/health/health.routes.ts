import { timingSafeEqual } from 'node:crypto';
import { Router } from 'express';
import type { Logger } from '../logger.js';
import type { Metrics } from '../observability/metrics.js';
import { AppError } from '../http/errors.js';

export interface DependencyCheck {
  name: string;
  /** Whether a failure takes the BFF out of rotation (the database) or only shows (the UCW). */
  critical: boolean;
  /** `detail` goes to the log, never to the (anonymous) response. */
  check(): Promise<{ ok: boolean; detail?: string }>;
}

const withTimeout = async (check: DependencyCheck, ms: number) => {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      check.check(),
      new Promise<{ ok: boolean; detail: string }>((resolve) => {
        timer = setTimeout(() => resolve({ ok: false, detail: `no answer within ${ms} ms` }), ms);
      }),
    ]);
  } catch {
    return { ok: false, detail: 'check failed' };
  } finally {
    clearTimeout(timer);
  }
};

export function healthRoutes(options: {
  checks: readonly DependencyCheck[];
  metrics: Metrics;
  metricsToken: string | undefined;
  checkTimeoutMs: number;
  logger: Logger;
}): Router {
  const router = Router();

  router.get('/healthz', (_req, res) => {
    res.status(200).json({ status: 'ok' });
  });

  router.get('/readyz', async (_req, res) => {
    const results = await Promise.all(
      options.checks.map(async (check) => ({ check, result: await withTimeout(check, options.checkTimeoutMs) })),
    );
    const ready = results.every(({ check, result }) => result.ok || !check.critical);
    // Non-critical checks (the cached UCW probe) log their failures once per probe, not per request.
    for (const { check, result } of results) {
      if (!result.ok && check.critical) options.logger.warn({ dependency: check.name, detail: result.detail }, 'readiness: dependency down');
    }
    res
      .status(ready ? 200 : 503)
      .setHeader('Cache-Control', 'no-store')
      .json({
        status: ready ? 'ready' : 'not_ready',
        dependencies: Object.fromEntries(
          results.map(({ check, result }) => [
            check.name,
            // Only up or down: UCW error texts and versions are for the logs, not for anyone who asks.
            { status: result.ok ? 'up' : 'down', critical: check.critical },
          ]),
        ),
      });
  });

  router.get('/metrics', async (req, res) => {
    if (options.metricsToken) {
      const given = Buffer.from(req.get('authorization') ?? '');
      const expected = Buffer.from(`Bearer ${options.metricsToken}`);
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
        throw new AppError('unauthenticated', 'Metrics need the METRICS_TOKEN bearer.', {
          headers: { 'WWW-Authenticate': 'Bearer realm="ucw-bff-metrics"' },
        });
      }
    }
    res.setHeader('Content-Type', options.metrics.registry.contentType);
    res.send(await options.metrics.registry.metrics());
  });

  return router;
}
