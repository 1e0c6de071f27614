import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { onceEvery } from '../../src/http/cors.js';
import { testDialects } from '../helpers/databases.js';
import { buildTestApp, FRONTEND_ORIGIN, type TestApp } from '../helpers/test-app.js';

describe.each(testDialects)('on %s', (dialect) => {
  describe('onceEvery', () => {
    it('when a key repeats inside the window, then only its first sighting counts; after the window it counts again', () => {
      let now = 0;
      const first = onceEvery(60_000, () => now);
      expect([first('a'), first('a'), first('b')]).toEqual([true, false, true]);
      now = 59_999;
      expect(first('a')).toBe(false);
      now = 60_000;
      expect([first('a'), first('a'), first('b')]).toEqual([true, false, true]);
    });

    it('when more keys arrive than it keeps, then the oldest is forgotten and memory stays bounded', () => {
      const first = onceEvery(60_000, () => 0, 2);
      expect([first('a'), first('b'), first('c')]).toEqual([true, true, true]);
      expect([first('c'), first('b'), first('a')]).toEqual([false, false, true]);
    });
  });

  describe('CORS with an origin outside ALLOWED_ORIGINS', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await buildTestApp({ dialect });
    });
    afterAll(() => t.close());

    const warnings = () =>
      t.logs
        .lines()
        .map((line) => JSON.parse(line) as { level: number; msg: string; origin?: string; path?: string })
        .filter((line) => line.msg.startsWith('cross-origin request from an origin not in ALLOWED_ORIGINS'));

    const preflight = (origin: string) =>
      request(t.app).options('/connect-url').set('Origin', origin).set('Access-Control-Request-Method', 'POST').set('Access-Control-Request-Headers', 'authorization,content-type');

    it('when a frontend origin is not allowed, then the browser gets no CORS headers and the log names the origin once per minute', async () => {
      const refused = await preflight('http://localhost:5173');
      expect(refused.headers['access-control-allow-origin']).toBeUndefined();
      await preflight('http://localhost:5173');
      await request(t.app).post('/connect-url').set('Origin', 'http://localhost:5173').send({});
      await preflight('https://other.example');
      expect(warnings().map(({ level, origin, path }) => ({ level, origin, path }))).toEqual([
        { level: 40, origin: 'http://localhost:5173', path: '/connect-url' },
        { level: 40, origin: 'https://other.example', path: '/connect-url' },
      ]);
    });

    it('when the origin is allowed, or is the BFF itself, then nothing is logged', async () => {
      const before = warnings().length;
      const allowed = await preflight(FRONTEND_ORIGIN);
      expect(allowed.headers['access-control-allow-origin']).toBe(FRONTEND_ORIGIN);
      await request(t.app).get('/healthz').set('Origin', new URL(t.config.publicUrl).origin);
      expect(warnings().length).toBe(before);
    });
  });
});
