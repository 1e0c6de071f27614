import express from 'express';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { requestContext } from '../../src/http/request-context.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { captureLogs } from '../helpers/logs.js';

function build() {
  const logs = captureLogs('info');
  const metrics = createMetrics();
  const app = express();
  app.use(requestContext({ logger: logs.logger, metrics }));
  app.get('/things/:id', (_req, res) => {
    res.json({ ok: true });
  });
  app.get('/healthz', (_req, res) => {
    res.send('ok');
  });
  app.get('/boom', (_req, res) => {
    res.status(503).end();
  });
  return { app, logs, metrics };
}

const entries = (lines: string[]) => lines.map((line) => JSON.parse(line) as Record<string, any>);

describe('requestContext', () => {
  it('when a request finishes, then one line logs its id, method, path (no query) and status, and the id is echoed', async () => {
    const { app, logs } = build();
    const res = await request(app).get('/things/42?sig=SECRET&exp=1').set('X-Request-Id', 'caller-id-1');
    expect(res.headers['x-request-id']).toBe('caller-id-1');
    const [line, ...more] = entries(logs.lines());
    expect(more).toEqual([]);
    expect(line).toMatchObject({ level: 30, msg: 'request completed', req: { id: 'caller-id-1', method: 'GET', path: '/things/42' }, res: { statusCode: 200 } });
    expect(typeof line!.responseTime).toBe('number');
    expect(logs.text()).not.toContain('SECRET');
  });

  it('when the caller id is unfit for logs, then a fresh one replaces it', async () => {
    const { app } = build();
    const res = await request(app).get('/things/1').set('X-Request-Id', 'bad id\twith space');
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('when probes are polled, then they are timed but not logged; a 5xx logs at error', async () => {
    const { app, logs, metrics } = build();
    await request(app).get('/healthz');
    await request(app).get('/boom');
    expect(entries(logs.lines()).map((l) => [l.level, l.req.path])).toEqual([[50, '/boom']]);
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/ucw_bff_http_request_duration_seconds_count\{method="GET",route="\/healthz",status="200"\} 1/);
    expect(text).toMatch(/ucw_bff_http_request_duration_seconds_count\{method="GET",route="\/boom",status="503"\} 1/);
  });

  it('when a route has an id, then the metric is labelled with its template', async () => {
    const { app, metrics } = build();
    await request(app).get('/things/abc');
    expect(await metrics.registry.metrics()).toMatch(/route="\/things\/:id",status="200"\} 1/);
  });
});
