import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answerClientErrors } from '../../src/http/client-error.js';
import { rawExchange, type RawAnswer } from '../helpers/raw-http.js';
import { testDialects } from '../helpers/databases.js';
import { buildTestApp, type TestApp } from '../helpers/test-app.js';

describe.each(testDialects)('on %s', (dialect) => {
  describe("Node's own HTTP parser errors", () => {
    let t: TestApp;
    let server: Server;
    let port: number;
    beforeAll(async () => {
      t = await buildTestApp({ dialect });
      // Short timeouts so the 408 arrives quickly; the hook is what main.ts attaches.
      server = createServer({ headersTimeout: 300, requestTimeout: 600, connectionsCheckingInterval: 50 }, t.app);
      answerClientErrors(server, t.logs.logger);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      port = (server.address() as AddressInfo).port;
    });
    afterAll(async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await t.close();
    });

    const expectProblem = (answer: RawAnswer, status: number, code: string, detail: string) => {
      expect(answer.statusLine).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
      expect(answer.headers['content-type']).toBe('application/problem+json');
      expect(answer.headers['connection']).toBe('close');
      expect(Number(answer.headers['content-length'])).toBe(Buffer.byteLength(answer.body));
      const body = JSON.parse(answer.body);
      expect(body).toEqual({ type: `urn:ucw-bff:problem:${code}`, title: expect.any(String), status, detail, code, requestId: answer.headers['x-request-id'] });
      expect(body.requestId).toMatch(/^[0-9a-f-]{36}$/);
    };

    it('when the request line is not HTTP, then 400 malformed_request as problem+json', async () => {
      expectProblem(await rawExchange(port, 'THIS IS NOT HTTP\r\n\r\n'), 400, 'malformed_request', 'The request is not valid HTTP.');
    });

    it('when a header holds a forbidden character, then 400 malformed_request', async () => {
      expectProblem(await rawExchange(port, 'GET /healthz HTTP/1.1\r\nHost: x\r\nX-Bad: a\u0001b\r\n\r\n'), 400, 'malformed_request', 'The request is not valid HTTP.');
    });

    it('when the headers are larger than the server accepts, then 431 headers_too_large and the secret-bearing raw bytes are not logged', async () => {
      const answer = await rawExchange(port, `GET /healthz HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer RAW-SECRET\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
      expectProblem(answer, 431, 'headers_too_large', 'The request headers are larger than this server accepts.');
      expect(t.logs.text()).not.toContain('RAW-SECRET');
    });

    it('when the headers do not arrive in time, then 408 request_timeout', async () => {
      expectProblem(await rawExchange(port, 'GET /healthz HTTP/1.1\r\nHost: x\r\n'), 408, 'request_timeout', 'The request was not received in time.');
    });

    it('when such errors are answered, then they are logged below error level', async () => {
      // Its own refusals (it does not rely on the tests above having run first).
      const logged = t.logs.lines().length;
      await rawExchange(port, 'THIS IS NOT HTTP\r\n\r\n');
      await rawExchange(port, 'GET /healthz HTTP/1.1\r\nHost: x\r\n');
      await rawExchange(port, `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
      const lines = t.logs
        .lines()
        .slice(logged)
        .map((line) => JSON.parse(line) as { level: number; msg: string; status?: number });
      const answered = lines.filter((line) => line.msg === 'HTTP parser refused a request');
      expect(answered.map((line) => line.status).sort()).toEqual([400, 408, 431]);
      expect(lines.filter((line) => line.level >= 50)).toEqual([]);
    });
  });
});
