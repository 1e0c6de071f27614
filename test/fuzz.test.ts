/**
 * A bounded, seeded fuzz over every route the app documents (taken from its own /openapi.json,
 * so a new route is fuzzed the day it is added): malformed escapes, deep and wide JSON, wrong
 * types, huge strings, odd content types, oversized bodies, bad and foreign credentials.
 * It asserts that nothing answers 5xx and that every error body is a problem+json.
 * Reproduce a failure with FUZZ_SEED=<seed printed in the failure>; FUZZ_REQUESTS scales it.
 */
import { Agent, createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answerClientErrors } from '../src/http/client-error.js';
import { signWebhook } from '../src/lib/standard-webhooks.js';
import { testDialects } from './helpers/databases.js';
import { createConnectUrl, relay, v2Connected } from './helpers/flows.js';
import { userToken } from './helpers/jwt.js';
import { FRONTEND_ORIGIN, buildTestApp, type TestApp } from './helpers/test-app.js';

const SEED = Number(process.env.FUZZ_SEED ?? 20261130);
const REQUESTS = Number(process.env.FUZZ_REQUESTS ?? 1500);
const CONCURRENCY = 8;
const BODY_LIMIT = 16_384;
/** Node's default --max-http-header-size: a larger head is refused (431) by the parser. */
const MAX_HEADER_BYTES = 16_384;
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const USER = 'fuzz-user';

/** mulberry32: small, fast, and the same sequence for the same seed on every machine. */
function prng(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T,>(items: readonly T[]): T => items[int(items.length)]!;
  const chance = (p: number) => next() < p;
  return { next, int, pick, chance };
}
type Rng = ReturnType<typeof prng>;

interface FuzzRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: Buffer | undefined;
  /** The documented route it was built from, for the report. */
  route: string;
}

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

interface Fixtures {
  token: string;
  otherToken: string;
  sessionId: string;
  capability: string;
  connectionId: string;
}

const deepObject = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
const deepArray = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
const randomText = (rng: Rng, length: number) => Array.from({ length }, () => String.fromCharCode(32 + rng.int(95))).join('');

function weirdString(rng: Rng): unknown {
  return rng.pick<unknown>([
    '',
    ' ',
    'x'.repeat(300),
    'x'.repeat(5_000),
    'a\nb',
    '\u0000',
    'é😀',
    '%zz',
    '../../etc/passwd',
    '<script>alert(1)</script>',
    'javascript:alert(1)',
    'MX',
    ' mx ',
    'sandbox-bank',
    'connect/memberConnected',
    'transactions',
  ]);
}

function weirdValue(rng: Rng, fixtures: Fixtures, depth = 0): unknown {
  const kinds = depth > 2 ? 6 : 9;
  switch (rng.int(kinds)) {
    case 0:
      return weirdString(rng);
    case 1:
      return rng.pick([0, -1, 1.5, 1e308, -0, 2 ** 53 + 1, 6, 99, 100]);
    case 2:
      return rng.pick([true, false, null]);
    case 3:
      return rng.pick([fixtures.sessionId, fixtures.connectionId, `CONN-fuzz-${rng.int(20)}`, USER]);
    case 4:
      return randomText(rng, rng.int(40));
    case 5:
      return rng.pick([[], {}]);
    case 6:
      return Array.from({ length: rng.int(4) }, () => weirdValue(rng, fixtures, depth + 1));
    default:
      return Object.fromEntries(Array.from({ length: rng.int(4) }, () => [rng.pick(['a', 'member', 'guid', 'type', 'metadata', '__proto__', 'constructor']), weirdValue(rng, fixtures, depth + 1)]));
  }
}

/** Fields each body-taking route knows, so mutations reach past the first type check. */
function eventMetadata(rng: Rng, fixtures: Fixtures): Record<string, unknown> {
  const fields = ['aggregator', 'provider', 'member_guid', 'connectionId', 'user_guid', 'aggregatorUserId', 'connection_status', 'connectionStatus', 'ucpInstitutionId', 'member'];
  const metadata: Record<string, unknown> = {};
  for (const field of fields) {
    if (!rng.chance(0.5)) continue;
    metadata[field] = rng.chance(0.5)
      ? weirdValue(rng, fixtures)
      : field === 'member'
        ? { guid: `CONN-fuzz-${rng.int(20)}`, connection_status: rng.pick([6, '6', 'x']) }
        : field.includes('status')
          ? rng.pick([6, '6', 8, 14, 99, '0x6', -1])
          : field.includes('aggregator') || field === 'provider'
            ? rng.pick(['mx', 'MX', 'sophtron', 'Mx '])
            : `CONN-fuzz-${rng.int(20)}`;
  }
  return metadata;
}

function jsonBodyFor(route: string, rng: Rng, fixtures: Fixtures): unknown {
  const mutate = (base: Record<string, unknown>) => {
    const copy: Record<string, unknown> = { ...base };
    for (const key of Object.keys(copy)) if (rng.chance(0.25)) copy[key] = weirdValue(rng, fixtures);
    if (rng.chance(0.1)) copy[rng.pick(['userId', 'extra', '__proto__', 'constructor'])] = weirdValue(rng, fixtures);
    return copy;
  };
  if (route.endsWith('/connect-url')) {
    return mutate({
      jobTypes: rng.pick<unknown>([['transactions'], 'transactions,accountOwner', ['accountNumber', 'accountNumber']]),
      ...(rng.chance(0.5) ? { institutionId: rng.pick(['sandbox-bank', 'mx-bank', 'failure-bank', 'nope']) } : {}),
      ...(rng.chance(0.3) ? { connectionId: rng.pick([fixtures.connectionId, 'conn_x']) } : {}),
      ...(rng.chance(0.5) ? { embed: rng.pick(['host', 'direct']) } : {}),
      ...(rng.chance(0.5) ? { targetOrigin: rng.pick([FRONTEND_ORIGIN, 'https://evil.test']) } : {}),
      ...(rng.chance(0.3) ? { presentation: rng.pick(['auto', 'iframe', 'popup']) } : {}),
      ...(rng.chance(0.2) ? { redirectUri: rng.pick(['https://app.platform.test/done', 'javascript:alert(1)', 'myapp://x']) } : {}),
      ...(rng.chance(0.2) ? { singleAccountSelect: rng.pick([true, 'yes']) } : {}),
    });
  }
  if (route === 'POST /events') {
    return mutate({
      type: rng.pick(['connect/memberConnected', 'connect/memberStatusUpdate', 'connect/memberError', 'connect/loaded']),
      metadata: eventMetadata(rng, fixtures),
      userId: rng.pick([USER, 'fuzz-other', 'a\nb', 'x'.repeat(300)]),
      ...(rng.chance(0.3) ? { sessionId: rng.pick([fixtures.sessionId, 'cs_nope']) } : {}),
    });
  }
  if (route.endsWith('/events')) {
    return mutate({ type: rng.pick(['connect/memberConnected', 'connect/memberStatusUpdate', 'connect/memberError', 'connect/selectedInstitution']), metadata: eventMetadata(rng, fixtures) });
  }
  if (route.endsWith('/dev/login')) return mutate({ userId: rng.pick([USER, 'fuzz-other', 'has space']) });
  return weirdValue(rng, fixtures);
}

function bodyFor(route: string, rng: Rng, fixtures: Fixtures): Buffer | undefined {
  switch (rng.int(12)) {
    case 0:
      return undefined;
    case 1:
      return Buffer.from(rng.pick(['{', '{"a":', 'null', '[]', '"str"', '123', 'true', '', '{"a":1}}', '\ufeff{}', '{"a":1,"a":2}']));
    case 2:
      return Buffer.from(rng.chance(0.5) ? deepObject(rng.pick([33, 500, 5_000])) : deepArray(rng.pick([33, 500, 5_000])));
    case 3:
      return Buffer.from(JSON.stringify({ type: 'connect/memberConnected', metadata: { list: new Array(rng.pick([1_001, 3_000])).fill(0) } }));
    case 4:
      return Buffer.from(JSON.stringify(Object.fromEntries(Array.from({ length: 1_500 }, (_, i) => [`k${i}`, i]))));
    case 5:
      return Buffer.from(JSON.stringify({ jobTypes: ['transactions'], x: 'a'.repeat(BODY_LIMIT + rng.int(10_000)) }));
    case 6:
      return Buffer.from(Array.from({ length: rng.int(200) }, () => rng.int(256)));
    default:
      return Buffer.from(JSON.stringify(jsonBodyFor(route, rng, fixtures)) ?? 'null');
  }
}

const PARAMS = ['%zz', '%', '%E0%A4%A', '%C0%AF', '..', '%2e%2e%2f', '%00', '%0d%0a', 'cs_', 'conn_', '%F0%9F%98%80', 'x'.repeat(3_000), "'%20OR%201=1"];

function paramFor(name: string, rng: Rng, fixtures: Fixtures): string {
  if (rng.chance(0.4)) return name === 'id' ? rng.pick([fixtures.sessionId, fixtures.connectionId]) : fixtures.sessionId;
  if (rng.chance(0.2)) return rng.pick(['cs_', 'conn_']) + randomText(rng, 22).replace(/[^\w-]/g, 'a');
  return rng.pick(PARAMS);
}

function queryFor(route: string, rng: Rng, fixtures: Fixtures): string {
  const options = [
    '',
    `?${fixtures.capability}`,
    `?${fixtures.capability.replace(/sig=./, 'sig=A')}`,
    `?${fixtures.capability}&sig=second`,
    '?exp=abc&sig=%zz',
    '?exp=99999999999999999999&sig=x',
    '?a=%',
    '?%zz=%zz',
    `?q=${'x'.repeat(6_000)}`,
    '?accountId=acct-1&startDate=2020-13-45',
    '?accountId=acct-1&startDate=2024-01-01&endDate=2024-02-01',
    '?accountId=&accountId=x',
    '?accountId[]=x',
    `?accountId=${'x'.repeat(300)}`,
    '?__proto__=x&constructor=y',
  ];
  return route.includes('/transactions') && rng.chance(0.5) ? rng.pick(options.slice(9)) : rng.pick(options);
}

const CONTENT_TYPES = [
  'application/json',
  'application/json',
  'application/json; charset=utf-8',
  'application/json; charset=utf-16',
  'application/json; charset=koi8-r',
  'application/json; charset="',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/problem+json',
  'application/vnd.fuzz+json',
  ';;;',
  'application/octet-stream',
];

function headersFor(route: string, body: Buffer | undefined, rng: Rng, fixtures: Fixtures): Record<string, string> {
  const headers: Record<string, string> = {};
  const auth = rng.int(9);
  if (auth === 0 || auth === 1) headers['authorization'] = `Bearer ${fixtures.token}`;
  else if (auth === 2) headers['authorization'] = `Bearer ${fixtures.otherToken}`;
  else if (auth === 3) headers['authorization'] = rng.pick(['Bearer abc', 'Bearer ', 'Basic Zm9vOmJhcg==', 'Bearer a.b.c', `Bearer ${'x'.repeat(8_000)}`, 'bearer  x y']);
  else if (auth === 4) headers['cookie'] = `ucw_bff_auth=${fixtures.token}`;
  else if (auth === 5) headers['cookie'] = rng.pick(['%zz=%zz; ucw_bff_auth=%E0', 'ucw_bff_auth=', `ucw_bff_auth=${'x'.repeat(5_000)}`, 'a=b;;;=']);
  if (rng.chance(0.3)) headers['origin'] = rng.pick([FRONTEND_ORIGIN, 'https://evil.test', 'null', 'http://127.0.0.1:3999']);
  if (rng.chance(0.1)) headers['x-request-id'] = rng.pick(['has space', 'x'.repeat(500), 'ok-id']);
  if (body !== undefined || rng.chance(0.2)) {
    if (rng.chance(0.9)) headers['content-type'] = rng.pick(CONTENT_TYPES);
  }
  if (route === 'POST /events' && rng.chance(0.7)) {
    const id = rng.pick(['msg_fuzz', `msg_${rng.int(1e9)}`, `msg_${'x'.repeat(300)}`, 'msg_\u00e9', '']);
    const signed = signWebhook({ id: id || 'msg_x', timestamp: Math.floor(Date.now() / 1000), body: body ?? Buffer.alloc(0), secret: SECRET });
    Object.assign(headers, signed, { 'webhook-id': id });
    if (rng.chance(0.2)) headers['webhook-timestamp'] = rng.pick(['abc', '0', '99999999999999999', '']);
    if (rng.chance(0.2)) headers['webhook-signature'] = rng.pick(['v1,AAAA', 'v2,x', '', 'v1,', `v1,${'A'.repeat(5_000)}`]);
  }
  // Framed explicitly: Node's client sends a GET/DELETE body unframed, which a server must read
  // as the start of a second request (the parser-level answers have a test of their own).
  if (body !== undefined) {
    if (rng.chance(0.1)) headers['transfer-encoding'] = 'chunked';
    else headers['content-length'] = String(body.length);
  }
  return headers;
}

function buildRequest(routes: readonly string[], rng: Rng, fixtures: Fixtures): FuzzRequest {
  const route = rng.pick(routes);
  const [documentedMethod, template] = route.split(' ') as [string, string];
  const method = rng.chance(0.85) ? documentedMethod : rng.pick(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD']);
  let path = template.replace(/\{(\w+)\}/g, (_m, name: string) => paramFor(name, rng, fixtures));
  if (rng.chance(0.05)) path += rng.pick(['/', '//', '/%zz', '/x']);
  path += queryFor(route, rng, fixtures);
  const body = method === 'GET' || method === 'HEAD' ? (rng.chance(0.1) ? bodyFor(route, rng, fixtures) : undefined) : bodyFor(route, rng, fixtures);
  const headers = headersFor(route, body, rng, fixtures);
  // An authenticated stream of a real session stays open by design: fuzz it with a foreign id.
  if (path.includes('/stream') && method === 'GET') path = path.replace(fixtures.sessionId, 'cs_aaaaaaaaaaaaaaaaaaaaaa');
  return { method, path, headers, body, route };
}

function send(port: number, agent: Agent, fuzz: FuzzRequest): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method: fuzz.method, path: fuzz.path, headers: fuzz.headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.setTimeout(15_000, () => req.destroy(new Error('no answer within 15 s')));
    req.on('error', reject);
    if (fuzz.body && fuzz.headers['transfer-encoding'] === 'chunked') {
      req.write(fuzz.body.subarray(0, 7));
      req.end(fuzz.body.subarray(7));
    } else {
      req.end(fuzz.body);
    }
  });
}

/** What is wrong with one answer, or undefined when it is acceptable. */
function judge(fuzz: FuzzRequest, answer: Answer): string | undefined {
  if (answer.status >= 500) return `answered ${answer.status}: ${answer.body.slice(0, 300)}`;
  if (answer.status < 400 || fuzz.method === 'HEAD') return undefined;
  const type = String(answer.headers['content-type'] ?? '');
  // The host page is a page: its errors are HTML pages for a person (SPEC §5).
  if (fuzz.method === 'GET' && /^\/connect\/[^/?]+\/?(\?|$)/.test(fuzz.path) && type.startsWith('text/html')) return undefined;
  if (!type.startsWith('application/problem+json')) return `error ${answer.status} as ${type || 'no content type'}: ${answer.body.slice(0, 200)}`;
  let problem: Record<string, unknown>;
  try {
    problem = JSON.parse(answer.body) as Record<string, unknown>;
  } catch {
    return `error ${answer.status} with a body that is not JSON`;
  }
  const missing = ['type', 'title', 'status', 'detail', 'code', 'requestId'].filter((field) => problem[field] === undefined);
  if (missing.length > 0) return `problem without ${missing.join(', ')}`;
  if (problem.status !== answer.status) return `problem status ${String(problem.status)} on an HTTP ${answer.status}`;
  if (problem.type !== `urn:ucw-bff:problem:${String(problem.code)}`) return `problem type ${String(problem.type)} does not match code ${String(problem.code)}`;
  return undefined;
}

const describeLabel = (fuzz: FuzzRequest) => {
  const body = fuzz.body ? ` body ${fuzz.body.length} B ${JSON.stringify(fuzz.body.subarray(0, 80).toString('utf8'))}` : '';
  return `${fuzz.method} ${fuzz.path.slice(0, 160)} (${fuzz.route}) ct=${fuzz.headers['content-type'] ?? '-'}${body}`;
};

describe.each(testDialects)('fuzzing every documented route on %s', (dialect) => {
  let t: TestApp;
  let server: Server;
  let port: number;
  let agent: Agent;
  let fixtures: Fixtures;
  let routes: string[];

  beforeAll(async () => {
    t = await buildTestApp({
      dialect,
      sandbox: { version: 2 },
      env: {
        DEV_LOGIN: 'true',
        WEBHOOK_SECRETS: SECRET,
        BODY_LIMIT_BYTES: String(BODY_LIMIT),
        UCW_DATA_ENDPOINTS: 'true',
        UCW_DELETE_ENABLED: 'true',
        ALLOWED_REDIRECT_URIS: 'https://app.platform.test/done',
        // The fuzz is about shapes, not about the limiter stopping it early.
        RATE_LIMIT_IP_PER_MIN: '100000',
        RATE_LIMIT_CONNECT_URL_PER_MIN: '100000',
        SESSION_MAX_LOADS: '100',
      },
    });
    server = createServer(t.app);
    answerClientErrors(server, t.logs.logger);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
    // A fresh connection per request: a reused socket the server is closing would fail the next request.
    agent = new Agent({ keepAlive: false, maxSockets: CONCURRENCY });

    const host = await createConnectUrl(t.app, USER, { jobTypes: ['transactions'] });
    const connecting = await createConnectUrl(t.app, USER, { jobTypes: ['transactions'] });
    const relayed = await relay(t.app, connecting.body.url, v2Connected('CONN-fuzz-base', { ucpInstitutionId: 'sandbox-bank' }));
    fixtures = {
      token: await userToken(USER, { expiresIn: '1h' }),
      otherToken: await userToken('fuzz-other', { expiresIn: '1h' }),
      sessionId: host.body.sessionId,
      capability: new URL(host.body.url).search.slice(1),
      connectionId: relayed.body.forward.metadata.connectionId,
    };
    const doc = JSON.parse((await send(port, agent, { method: 'GET', path: '/openapi.json', headers: {}, body: undefined, route: '' })).body) as {
      paths: Record<string, Record<string, unknown>>;
    };
    routes = Object.entries(doc.paths).flatMap(([path, operations]) => Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`));
  });

  afterAll(async () => {
    agent?.destroy();
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    await t?.close();
  });

  it(`when ${REQUESTS} seeded odd requests hit every route, then none answers 5xx and every error is problem+json`, async () => {
    expect(routes.length).toBeGreaterThan(15);
    const rng = prng(SEED + (dialect === 'postgres' ? 1 : 0));
    const requests = Array.from({ length: REQUESTS }, () => buildRequest(routes, rng, fixtures));
    const failures: string[] = [];
    const statuses = new Map<number, number>();
    const hit = new Set<string>();
    let next = 0;
    const worker = async () => {
      while (next < requests.length) {
        const fuzz = requests[next++]!;
        hit.add(fuzz.route);
        let verdict: string | undefined;
        try {
          const answer = await send(port, agent, fuzz);
          statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
          verdict = judge(fuzz, answer);
        } catch (error) {
          // The server may close a socket right after a 413 (body) or 431 (head) while the rest
          // is still being sent; the client then sees a reset instead of the answer.
          const code = (error as NodeJS.ErrnoException).code;
          const headBytes = fuzz.path.length + Object.entries(fuzz.headers).reduce((sum, [name, value]) => sum + name.length + value.length + 4, 0);
          const oversized = (fuzz.body?.length ?? 0) > BODY_LIMIT || headBytes > MAX_HEADER_BYTES;
          verdict = oversized && (code === 'EPIPE' || code === 'ECONNRESET') ? undefined : `transport error ${String(code ?? error)}`;
        }
        if (verdict) failures.push(`${describeLabel(fuzz)} → ${verdict}`);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));

    expect([...hit].sort()).toEqual([...routes].sort());
    expect(failures, `seed ${SEED}; statuses ${JSON.stringify(Object.fromEntries(statuses))}`).toEqual([]);
    // Nothing the fuzz did is an error on our side: no error-level log line at all.
    const errorLines = t.logs.lines().filter((line) => (JSON.parse(line) as { level: number }).level >= 50);
    expect(errorLines.map((line) => line.slice(0, 400))).toEqual([]);
  }, 120_000);
});
