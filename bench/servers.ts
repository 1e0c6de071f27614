/**
 * The bench's helper servers, one per process (`node --import tsx bench/servers.ts <kind>`):
 *
 * - `fake-ucw`: a fast fake UCW v1 on a real socket (GET /api/token, POST /widgetUrl, anything else 404).
 * - `express-passthrough`: Express 5 doing what POST /connect-url does at the edges and nothing else:
 *   the same jose HS256 verify, the same undici call to the UCW, a JSON answer.
 * - `http-passthrough`: the same on bare node:http (the physical limit of this machine).
 * - `express-static`: bare Express 5 answering GET /connect/:id with the bytes and headers it is given.
 * - `express-hello`: bare Express 5 answering a hello-world POST.
 *
 * Each listens on 127.0.0.1 on a free port and tells its parent the port over IPC.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { jwtVerify } from 'jose';
import { Agent, request } from 'undici';

const kind = process.argv[2];
const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};

function listen(server: Server): void {
  server.keepAliveTimeout = 65_000;
  server.listen(0, '127.0.0.1', () => process.send?.({ port: (server.address() as AddressInfo).port }));
  process.on('disconnect', () => process.exit(0));
}

/** The edge work both pass-throughs share with POST /connect-url (direct, v1 with authentication). */
function passthrough() {
  const key = new TextEncoder().encode(env('BENCH_JWT_SECRET'));
  const issuer = env('BENCH_JWT_ISSUER');
  const audience = env('BENCH_JWT_AUDIENCE');
  const ucw = env('BENCH_UCW_URL');
  const ucwToken = env('BENCH_UCW_TOKEN');
  const agent = new Agent({ connections: 32, keepAliveTimeout: 10_000 });
  return async (authorization: string | undefined): Promise<{ status: number; body: string }> => {
    const token = /^Bearer (.+)$/.exec(authorization ?? '')?.[1];
    if (!token) return { status: 401, body: '{"error":"unauthorized"}' };
    let userId: string;
    try {
      const { payload } = await jwtVerify(token, key, { issuer, audience, algorithms: ['HS256'], clockTolerance: 5 });
      userId = String(payload.sub);
    } catch {
      return { status: 401, body: '{"error":"unauthorized"}' };
    }
    const url = new URL('/api/token', ucw);
    url.searchParams.set('userId', userId);
    const res = await request(url, { method: 'GET', headers: { authorization: `Bearer ${ucwToken}` }, dispatcher: agent });
    const { token: widgetToken } = (await res.body.json()) as { token: string };
    const widgetUrl = `${ucw}/?jobTypes=transactions&userId=${encodeURIComponent(userId)}&token=${encodeURIComponent(widgetToken)}`;
    return { status: 201, body: JSON.stringify({ sessionId: 'cs_x', url: widgetUrl, expiresAt: new Date().toISOString(), mode: 'new' }) };
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

switch (kind) {
  case 'fake-ucw': {
    let n = 0;
    const server = createServer((req: IncomingMessage, res: ServerResponse) => {
      if (req.method === 'GET' && req.url?.startsWith('/api/token')) {
        n += 1;
        res.writeHead(200, { 'content-type': 'application/json' }).end(`{"token":"tok-${n}-${Date.now()}"}`);
      } else if (req.method === 'POST' && req.url === '/widgetUrl') {
        req.resume();
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"message":"not found"}');
      } else {
        req.resume();
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      }
    });
    listen(server);
    break;
  }
  case 'express-passthrough': {
    const handle = passthrough();
    const app = express();
    app.use(express.json());
    app.post('/connect-url', async (req, res) => {
      const answer = await handle(req.get('authorization'));
      res.status(answer.status).type('json').send(answer.body);
    });
    listen(app.listen(0, '127.0.0.1'));
    break;
  }
  case 'http-passthrough': {
    const handle = passthrough();
    const server = createServer((req, res) => {
      void readBody(req)
        .then((text) => {
          JSON.parse(text || '{}');
          return handle(req.headers.authorization);
        })
        .then(
          (answer) => res.writeHead(answer.status, { 'content-type': 'application/json; charset=utf-8' }).end(answer.body),
          () => res.writeHead(500).end(),
        );
    });
    listen(server);
    break;
  }
  case 'express-static': {
    // The host page as the product served it (body and headers), captured by the bench.
    const page = JSON.parse(readFileSync(env('BENCH_PAGE_FILE'), 'utf8')) as { headers: Record<string, string>; body: string };
    const app = express();
    app.disable('x-powered-by');
    app.get('/connect/:id', (_req, res) => {
      res.set(page.headers).status(200).send(page.body);
    });
    listen(app.listen(0, '127.0.0.1'));
    break;
  }
  case 'express-hello': {
    const app = express();
    app.post('/hello', (_req, res) => {
      res.send('hello');
    });
    listen(app.listen(0, '127.0.0.1'));
    break;
  }
  default:
    throw new Error(`unknown server kind ${kind}`);
}
