import express from 'express';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../src/http/errors.js';
import { errorHandler, notFoundHandler } from '../../src/http/problem.js';
import { requestId } from '../../src/http/request-id.js';
import { captureLogs } from '../helpers/logs.js';
import { testDialects } from '../helpers/databases.js';
import { buildTestApp, type TestApp } from '../helpers/test-app.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe.each(testDialects)('on %s', (dialect) => {
  describe('problem responses from the app', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await buildTestApp({ dialect, env: { DEV_LOGIN: 'true', BODY_LIMIT_BYTES: '2048' } });
    });
    afterAll(() => t.close());

    it('when a route does not exist, then the answer is a 404 problem with the request id', async () => {
      const res = await request(t.app).get('/no/such/route').set('X-Request-Id', 'req-123');
      expect(res.status).toBe(404);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.headers['x-request-id']).toBe('req-123');
      expect(res.body).toEqual({
        type: 'urn:ucw-bff:problem:not_found',
        title: 'Not found',
        status: 404,
        detail: 'No route for GET /no/such/route.',
        code: 'not_found',
        requestId: 'req-123',
      });
    });

    it('when no request id is sent, then one is generated and echoed', async () => {
      const res = await request(t.app).get('/healthz');
      expect(res.headers['x-request-id']).toMatch(UUID);
    });

    it('when the request id is not a safe token, then it is replaced', async () => {
      const res = await request(t.app).get('/healthz').set('X-Request-Id', 'has spaces and "quotes" <script>');
      expect(res.headers['x-request-id']).toMatch(UUID);
    });

    it('when the JSON is malformed, then 400 malformed_json', async () => {
      const res = await request(t.app).post('/dev/login').set('Content-Type', 'application/json').send('{"userId":');
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ code: 'malformed_json', status: 400, title: 'Malformed JSON body' });
    });

    it('when the content type is not JSON, then 415', async () => {
      const res = await request(t.app).post('/dev/login').set('Content-Type', 'text/plain').send('userId=u1');
      expect(res.status).toBe(415);
      expect(res.body).toMatchObject({ code: 'unsupported_media_type', status: 415 });
    });

    it('when the body is over the limit, then 413', async () => {
      const res = await request(t.app)
        .post('/dev/login')
        .set('Content-Type', 'application/json')
        .send(JSON.stringify({ userId: 'x'.repeat(4096) }));
      expect(res.status).toBe(413);
      expect(res.body).toMatchObject({ code: 'payload_too_large', status: 413 });
    });

    it.each(['/connect/%zz', '/connections/%E0%A4%A', '/connect-sessions/%/stream'])(
      'when a path parameter has a malformed percent-escape (%s), then 400 malformed_request logged below error level',
      async (path) => {
        const res = await request(t.app).get(path).set('X-Request-Id', 'bad-escape-1');
        expect(res.status).toBe(400);
        expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
        expect(res.body).toEqual({
          type: 'urn:ucw-bff:problem:malformed_request',
          title: 'Malformed request',
          status: 400,
          detail: 'The request could not be understood (malformed URL, header or body).',
          code: 'malformed_request',
          requestId: 'bad-escape-1',
        });
        const lines = t.logs.lines().filter((line) => line.includes('bad-escape-1'));
        expect(lines.length).toBeGreaterThan(0);
        for (const line of lines) expect(JSON.parse(line).level).toBeLessThan(50);
      },
    );

    it('when a field is invalid or unknown, then 400 names each field', async () => {
      const res = await request(t.app).post('/dev/login').send({ userId: 'has space', extra: 1 });
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('validation_failed');
      expect(res.body.errors).toEqual([
        { field: 'userId', message: 'letters, digits and _ . @ : - only' },
        { field: 'extra', message: 'unknown field(s): extra' },
      ]);
    });
  });

  describe('errorHandler', () => {
    const build = () => {
      const logs = captureLogs();
      const app = express();
      app.use(requestId());
      app.get('/boom', () => {
        throw new Error('database password is hunter2 at /srv/app/src/x.ts:12');
      });
      app.get('/async-boom', async () => {
        await Promise.resolve();
        throw new TypeError('cannot read properties of undefined');
      });
      app.get('/busy', () => {
        throw new AppError('rate_limited', 'slow down', { headers: { 'Retry-After': '7' } });
      });
      app.get('/status/:n', (req) => {
        throw Object.assign(new Error('internal detail /srv/x'), { status: Number(req.params.n) });
      });
      app.get('/status-code/:n', (req) => {
        throw Object.assign(new Error('internal detail /srv/x'), { statusCode: Number(req.params.n) });
      });
      app.use(notFoundHandler());
      app.use(errorHandler(logs.logger));
      return { app, logs };
    };

    it('when a handler throws an unknown error, then the 500 body says nothing about it but the log has it all', async () => {
      const { app, logs } = build();
      const res = await request(app).get('/boom');
      expect(res.status).toBe(500);
      expect(res.body).toEqual({
        type: 'urn:ucw-bff:problem:internal',
        title: 'Internal server error',
        status: 500,
        detail: 'Something went wrong on our side. Quote the requestId when reporting it.',
        code: 'internal',
        requestId: res.headers['x-request-id'],
      });
      expect(res.text).not.toContain('hunter2');
      expect(logs.text()).toContain('hunter2');
    });

    it('when an async handler rejects, then Express 5 forwards it to the same 500', async () => {
      const { app } = build();
      const res = await request(app).get('/async-boom');
      expect(res.status).toBe(500);
      expect(res.body.code).toBe('internal');
      expect(res.text).not.toContain('undefined');
    });

    it('when an AppError carries headers, then they are sent', async () => {
      const { app } = build();
      const res = await request(app).get('/busy');
      expect(res.status).toBe(429);
      expect(res.headers['retry-after']).toBe('7');
      expect(res.body.detail).toBe('slow down');
    });

    it.each([
      ['/status/400', 400, 'malformed_request'],
      ['/status/405', 400, 'malformed_request'],
      ['/status-code/403', 403, 'forbidden'],
      ['/status/413', 413, 'payload_too_large'],
      ['/status-code/431', 400, 'malformed_request'],
    ])('when a thrown error carries a 4xx status (%s), then its problem, without its message, and no error log', async (path, status, code) => {
      const { app, logs } = build();
      const res = await request(app).get(path);
      expect(res.status).toBe(status);
      expect(res.body.code).toBe(code);
      expect(res.text).not.toContain('/srv/x');
      expect(logs.lines().filter((line) => JSON.parse(line).level >= 50)).toEqual([]);
    });

    it('when a thrown error carries a 5xx status, then it is still a generic 500 logged as an error', async () => {
      const { app, logs } = build();
      const res = await request(app).get('/status/503');
      expect(res.status).toBe(500);
      expect(res.body.code).toBe('internal');
      expect(logs.text()).toContain('/srv/x');
    });
  });
});
