import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cachedCheck } from '../../src/lib/cached-check.js';
import { testDialects } from '../helpers/databases.js';
import { buildTestApp, type TestApp } from '../helpers/test-app.js';

/** A stand-in UCW on loopback that counts probes and answers as v2 does (400), or fails (500). */
async function countingUcw() {
  const state = { calls: 0, status: 400 };
  const server: Server = createServer((req, res) => {
    state.calls += 1;
    req.resume();
    req.on('end', () => {
      res.writeHead(state.status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ message: 'internal secret-looking detail 42' }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { state, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise((r) => server.close(r)) };
}

describe.each(testDialects)('on %s', (dialect) => {
  describe('/readyz and the UCW probe', () => {
    let ucw: Awaited<ReturnType<typeof countingUcw>>;
    let t: TestApp;
    beforeAll(async () => {
      ucw = await countingUcw();
      t = await buildTestApp({ dialect, env: { UCW_URL: ucw.url, UCW_API_VERSION: '2', READINESS_UCW_CACHE_SECONDS: '3600' } });
    });
    afterAll(async () => {
      await t.close();
      await ucw.close();
    });

    it('when 25 callers ask at once and again after, then the UCW is called once', async () => {
      const answers = await Promise.all(Array.from({ length: 25 }, () => request(t.app).get('/readyz')));
      expect(answers.map((a) => a.status)).toEqual(Array(25).fill(200));
      expect(answers[0]!.body).toEqual({ status: 'ready', dependencies: { database: { status: 'up', critical: true }, ucw: { status: 'up', critical: false } } });
      await request(t.app).get('/readyz').expect(200);
      expect(ucw.state.calls).toBe(1);
    });
  });

  describe('/readyz when the UCW fails', () => {
    it('when the UCW answers 500, then anonymous callers see only "down" and the detail goes to the log', async () => {
      const ucw = await countingUcw();
      ucw.state.status = 500;
      const t = await buildTestApp({ dialect, env: { UCW_URL: ucw.url, UCW_API_VERSION: '2' } });
      try {
        const res = await request(t.app).get('/readyz');
        expect(res.status).toBe(200);
        expect(res.body.dependencies.ucw).toEqual({ status: 'down', critical: false });
        expect(res.text).not.toContain('500');
        const logged = t.logs.lines().map((line) => JSON.parse(line) as { msg?: string; detail?: unknown });
        expect(logged.some((line) => line.msg === 'readiness: the UCW check failed' && typeof line.detail === 'string')).toBe(true);
      } finally {
        await t.close();
        await ucw.close();
      }
    });
  });

  describe('cachedCheck', () => {
    it('when called within the interval, then the answer is reused; after it, probed again; concurrent calls share one probe', async () => {
      let clock = 0;
      let probes = 0;
      let release: (value: number) => void = () => undefined;
      const check = cachedCheck(() => new Promise<number>((resolve) => { probes += 1; release = resolve; }), { ttlMs: 10_000, now: () => clock });
      const first = [check(), check(), check()];
      expect(probes).toBe(1);
      release(7);
      expect(await Promise.all(first)).toEqual([7, 7, 7]);
      clock = 9_999;
      expect(await check()).toBe(7);
      expect(probes).toBe(1);
      clock = 10_000;
      const again = check();
      expect(probes).toBe(2);
      release(8);
      expect(await again).toBe(8);
    });

    it('when a probe rejects, then nothing is cached and the next call probes again', async () => {
      let probes = 0;
      const check = cachedCheck(async () => {
        probes += 1;
        if (probes === 1) throw new Error('boom');
        return 'ok';
      }, { ttlMs: 10_000, now: () => 0 });
      await expect(check()).rejects.toThrow('boom');
      expect(await check()).toBe('ok');
      expect(probes).toBe(2);
    });
  });
});
