import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** One registry per app instance (no global default registry), so tests and instances stay apart. */
export interface Metrics {
  registry: Registry;
  httpDuration: Histogram<'method' | 'route' | 'status'>;
  ucwCalls: Counter<'operation' | 'outcome'>;
  eventsRecorded: Counter<'type' | 'source'>;
  outboxDeliveries: Counter<'outcome'>;
  outboxDead: Gauge;
  outboxFirstAttemptLag: Histogram;
}

export function createMetrics(options: { defaultMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (options.defaultMetrics) collectDefaultMetrics({ register: registry, prefix: 'ucw_bff_' });
  return {
    registry,
    httpDuration: new Histogram({
      name: 'ucw_bff_http_request_duration_seconds',
      help: 'HTTP request duration by route template and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    ucwCalls: new Counter({
      name: 'ucw_bff_ucw_calls_total',
      help: 'Upstream calls to the UCW and its token endpoint by operation and outcome (ok, 3xx, 4xx, 5xx, timeout, network_error, bad_response)',
      labelNames: ['operation', 'outcome'],
      registers: [registry],
    }),
    eventsRecorded: new Counter({
      name: 'ucw_bff_events_recorded_total',
      help: 'Widget events recorded by type and source',
      labelNames: ['type', 'source'],
      registers: [registry],
    }),
    outboxDeliveries: new Counter({
      name: 'ucw_bff_outbox_deliveries_total',
      help: 'Outbound platform webhook delivery attempts by outcome',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    outboxDead: new Gauge({
      name: 'ucw_bff_outbox_dead_letters',
      help: 'Outbound platform webhooks that exhausted their attempts',
      registers: [registry],
    }),
    outboxFirstAttemptLag: new Histogram({
      name: 'ucw_bff_outbox_first_attempt_lag_seconds',
      help: 'Time from a state change committing to the first delivery attempt of its platform webhook',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers: [registry],
    }),
  };
}
