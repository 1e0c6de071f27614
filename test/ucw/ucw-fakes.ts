/**
 * Test doubles for the UCW client: a scripted UCW on undici's MockAgent (no network at all),
 * small real servers on 127.0.0.1:0 for socket-level faults and the OAuth token endpoint,
 * and a logger whose output the tests can search for secrets.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { MockAgent } from 'undici';
import type { Config } from '../../src/config.js';
import { createLogger, type Logger } from '../../src/logger.js';
import { createUcwClient, type UcwClient, type UcwClientOptions } from '../../src/ucw/ucw-client.js';
import { createCredentialProvider } from '../../src/ucw/ucw-credentials.js';

export const UCW_BASE = 'http://ucw.test';
export const IDP_BASE = 'http://idp.test';

export interface RecordedCall {
  method: string;
  /** Path and query exactly as sent. */
  path: string;
  url: URL;
  /** Lower-cased names. */
  headers: Record<string, string>;
  body: string | undefined;
}

export interface FakeReply {
  status: number;
  /** A string is sent as is; anything else as JSON. */
  body?: unknown;
  headers?: Record<string, string>;
}

export const html = (status: number, text: string): FakeReply => ({
  status,
  body: text,
  headers: { 'content-type': 'text/html; charset=utf-8' },
});

export const json = (status: number, body: unknown): FakeReply => ({
  status,
  body: JSON.stringify(body),
  headers: { 'content-type': 'application/json' },
});

/**
 * A MockAgent that answers every request to `origin` through `handler` and records it.
 * Several origins (the UCW and an IdP) can share one agent.
 */
export function scriptedAgent(routes: Record<string, (call: RecordedCall) => FakeReply>) {
  const agent = new MockAgent();
  agent.disableNetConnect();
  const calls: RecordedCall[] = [];
  for (const [origin, handler] of Object.entries(routes)) {
    agent
      .get(origin)
      .intercept({ path: () => true, method: () => true })
      .reply((options) => {
        const headers = Object.fromEntries(
          Object.entries((options.headers ?? {}) as Record<string, string>).map(([name, value]) => [name.toLowerCase(), String(value)]),
        );
        const call: RecordedCall = {
          method: options.method,
          path: options.path,
          url: new URL(options.path, origin),
          headers,
          body: typeof options.body === 'string' ? options.body : undefined,
        };
        calls.push(call);
        const reply = handler(call);
        return {
          statusCode: reply.status,
          data: reply.body === undefined ? '' : typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body),
          responseOptions: { headers: reply.headers ?? {} },
        };
      })
      .persist();
  }
  return { agent, calls };
}

export function captureLogger(): { logger: Logger; text: () => string } {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(chunk.toString('utf8'));
      callback();
    },
  });
  return { logger: createLogger({ level: 'debug', destination }), text: () => lines.join('') };
}

export const STATIC_BEARER = 'static-bearer-7f3a9c2e41';

export function buildClient(
  overrides: Partial<UcwClientOptions> & { auth?: Config['ucw']['auth'] } = {},
): UcwClient {
  const { auth = { mode: 'static', bearerToken: STATIC_BEARER }, ...options } = overrides;
  const logger = options.logger ?? createLogger({ level: 'silent' });
  return createUcwClient({
    baseUrl: UCW_BASE,
    apiVersion: '2',
    timeoutMs: 2_000,
    credentials: options.credentials ?? createCredentialProvider(auth, { timeoutMs: 2_000, logger, dispatcher: options.dispatcher }),
    ...options,
    logger,
  });
}

/** Resolves with the rejection of `promise` (fails the test when it resolves). */
export async function rejectionOf(promise: Promise<unknown>): Promise<any> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

export interface TestServer {
  url: string;
  requests: Array<{ method: string; url: string; headers: http.IncomingHttpHeaders; body: string }>;
  /** TCP connections accepted so far (keep-alive reuse shows as fewer connections than requests). */
  connections(): number;
  close(): Promise<void>;
}

/** A real HTTP server on 127.0.0.1:0; `handler` may write nothing, stall or destroy the socket. */
export async function startServer(
  handler: (req: http.IncomingMessage, res: http.ServerResponse, body: string) => unknown,
): Promise<TestServer> {
  const requests: TestServer['requests'] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      handler(req, res, body);
    });
  });
  let connections = 0;
  server.on('connection', () => {
    connections += 1;
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    connections: () => connections,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A port that was just listening and is now closed: connecting to it is refused. */
export async function closedPortUrl(): Promise<string> {
  const server = await startServer(() => {});
  await server.close();
  return server.url;
}
