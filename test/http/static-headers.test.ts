import express, { type RequestHandler } from 'express';
import helmet from 'helmet';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { staticHeaders } from '../../src/http/static-headers.js';

const policy = () =>
  helmet({
    contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
    crossOriginOpenerPolicy: false,
    referrerPolicy: { policy: 'no-referrer' },
  });

function appWith(middleware: RequestHandler) {
  const app = express();
  app.use((_req, res, next) => {
    res.setHeader('X-Powered-By', 'something');
    next();
  });
  app.use(middleware);
  app.get('/x', (_req, res) => {
    res.json({ ok: true });
  });
  return app;
}

describe('staticHeaders', () => {
  it('when helmet is precomputed, then responses carry exactly the headers helmet sets itself', async () => {
    const live = await request(appWith(policy())).get('/x');
    const precomputed = await request(appWith(staticHeaders(policy()))).get('/x');
    const strip = (headers: Record<string, unknown>) => {
      const { date: _d, etag: _e, ...rest } = headers;
      return rest;
    };
    expect(strip(precomputed.headers)).toEqual(strip(live.headers));
    expect(precomputed.headers['content-security-policy']).toBe("default-src 'none';frame-ancestors 'none'");
    expect(precomputed.headers['x-powered-by']).toBeUndefined();
  });

  it('when a middleware does not pass the request on at once, then it is refused at start-up', () => {
    const waits: RequestHandler = () => undefined;
    expect(() => staticHeaders(waits)).toThrow(/did not pass the request on/);
  });
});
