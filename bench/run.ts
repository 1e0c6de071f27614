/**
 * `npm run bench [-- --quick]`: the product as built for production (`npm run start:prod`,
 * NODE_ENV=production, default log level) against anchors started by this script and measured
 * in the same run, in alternating rounds. Needs `npm run build` first (it builds nothing).
 * Loopback only; every load is bounded in time or count; everything started here is stopped here.
 * What each printed row means: README.md, "Benchmarks".
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { request } from 'undici';
import {
  DIRECT_BODY,
  JWT_AUDIENCE,
  JWT_ISSUER,
  JWT_SECRET,
  POPUP_BODY,
  UCW_TOKEN,
  WEBHOOK_SECRET,
  cpuMs,
  load,
  rssMiB,
  shutdown,
  sleep,
  startProduct,
  startServer,
  stop,
  until200,
  userTokens,
  work,
} from './harness.js';
import type { CannonResult, RequestSpec } from './load.js';

const quick = process.argv.includes('--quick');
const ROUNDS = quick ? 3 : 5;
const SECONDS = quick ? 2 : 5;
const WARMUP_SECONDS = quick ? 1 : 2;
const CONNECTIONS = 10;
const STREAMS = 5_000;
const FANOUT_EVENTS = quick ? 1_000 : 2_500;
const INGEST_EVENTS = quick ? 1_500 : 2_500;
const STARTS = quick ? 3 : 5;
const PG_ADMIN_URL = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

// ---------------------------------------------------------------- statistics and rows

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
const fmt = (value: number, digits = 0) => value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

const rows: Array<{ line: string; pass: boolean }> = [];
function row(name: string, figures: string, goal: string, pass: boolean): void {
  const line = `${pass ? 'PASS' : 'FAIL'}  ${name.padEnd(58)} ${figures}  goal ${goal}`;
  rows.push({ line, pass });
  console.log(line);
}

interface Target {
  name: string;
  base: string;
  /** The server process, whose CPU time per request is reported beside the throughput. */
  pid: number;
  /** A fresh spec per round (host page sessions are spent by loads). */
  spec: () => Promise<RequestSpec> | RequestSpec;
}

/**
 * Alternating rounds: every round measures every target once, the order reversed each round
 * (ABC CBA ABC…) so that drift on a shared machine falls on all of them alike.
 */
async function rounds(targets: Target[], connections: number): Promise<CannonResult[][]> {
  for (const target of targets) {
    const spec = await target.spec();
    await load<CannonResult>({ op: 'cannon', base: target.base, connections, seconds: WARMUP_SECONDS, spec });
  }
  const results: CannonResult[][] = targets.map(() => []);
  for (let r = 0; r < ROUNDS; r += 1) {
    const order = targets.map((_, i) => i);
    if (r % 2) order.reverse();
    for (const i of order) {
      const spec = await targets[i]!.spec();
      const cpuBefore = cpuMs(targets[i]!.pid);
      const result = await load<CannonResult>({ op: 'cannon', base: targets[i]!.base, connections, seconds: SECONDS, spec });
      result.cpuUsPerRequest = ((cpuMs(targets[i]!.pid) - cpuBefore) * 1000) / Math.max(1, result.total);
      if (result.bad > 0) console.log(`  (${targets[i]!.name}: ${result.bad} non-2xx or errors in a round)`);
      results[i]!.push(result);
    }
  }
  return results;
}

/** Median and range of per-round ratios a/b (pairs measured next to each other). */
function ratio(a: CannonResult[], b: CannonResult[], pick: (r: CannonResult) => number = (r) => r.rps) {
  const ratios = a.map((x, i) => pick(x) / pick(b[i]!));
  return { median: median(ratios), min: Math.min(...ratios), max: Math.max(...ratios) };
}

function throughputRow(name: string, product: CannonResult[], anchorName: string, anchor: CannonResult[], goal: number): void {
  const q = ratio(product, anchor);
  const p = median(product.map((r) => r.rps));
  const a = median(anchor.map((r) => r.rps));
  const pc = median(product.map((r) => r.cpuUsPerRequest ?? Number.NaN));
  const ac = median(anchor.map((r) => r.cpuUsPerRequest ?? Number.NaN));
  row(
    name,
    `${fmt(p)} rps vs ${anchorName} ${fmt(a)} rps: ${fmt(q.median, 2)}× (rounds ${fmt(q.min, 2)}–${fmt(q.max, 2)}); server CPU ${fmt(pc)} vs ${fmt(ac)} µs/req (${fmt(ac / pc, 2)}×)`,
    `≥ ${goal}×`,
    q.median >= goal,
  );
}

// ---------------------------------------------------------------- the run

const benchStarted = performance.now();
const tokens = await userTokens(16);

const ucw = await startServer('fake-ucw');
const passEnv = { BENCH_JWT_SECRET: JWT_SECRET, BENCH_JWT_ISSUER: JWT_ISSUER, BENCH_JWT_AUDIENCE: JWT_AUDIENCE, BENCH_UCW_URL: ucw.base, BENCH_UCW_TOKEN: UCW_TOKEN };
const expressPass = await startServer('express-passthrough', passEnv);
const httpPass = await startServer('http-passthrough', passEnv);
const hello = await startServer('express-hello');

console.log(`ucw-bff bench (${quick ? 'quick' : 'full'}): ${ROUNDS} alternating rounds of ${SECONDS} s, ${CONNECTIONS} keep-alive connections, autocannon in its own process`);

// Cold start and idle RSS: fresh processes on a fresh SQLite file each time, against bare Express.
{
  const productStarts: number[] = [];
  const idle: number[] = [];
  const helloStarts: number[] = [];
  for (let i = 0; i < STARTS; i += 1) {
    const product = await startProduct(ucw.base, `sqlite:${join(work, `cold-${i}.sqlite`)}`);
    productStarts.push(product.coldStartMs);
    await sleep(1_000);
    idle.push(rssMiB(product.child.pid!));
    await stop(product.child);
    const started = performance.now();
    const bare = await startServer('hello.mjs');
    helloStarts.push(await until200(`${bare.base}/hello`, started, bare.child));
    await stop(bare.child);
  }
  const p = median(productStarts);
  const h = median(helloStarts);
  row('cold start to /readyz 200 (production build)', `${fmt(p)} ms (runs ${fmt(Math.min(...productStarts))}–${fmt(Math.max(...productStarts))}) vs bare Express hello ${fmt(h)} ms: ${fmt(p / h, 1)}×`, '≤ 500 ms', p <= 500);
  row('idle RSS after start (production build)', `${fmt(median(idle), 1)} MiB`, '≤ 80 MiB', median(idle) <= 80);
}

async function dialectRows(label: 'SQLite' | 'PostgreSQL', databaseUrl: string, goals: { express: number; http: number; events: number }) {
  const product = await startProduct(ucw.base, databaseUrl);
  const directSpec: RequestSpec = { kind: 'fixed', method: 'POST', path: '/connect-url', body: DIRECT_BODY, headers: { 'content-type': 'application/json' }, tokens };

  // POST /connect-url direct (v1 token fetch): throughput against both pass-throughs.
  const [p, e, h] = await rounds(
    [
      { name: 'product', base: product.base, pid: product.child.pid!, spec: () => directSpec },
      { name: 'express pass-through', base: expressPass.base, pid: expressPass.child.pid!, spec: () => directSpec },
      { name: 'node:http pass-through', base: httpPass.base, pid: httpPass.child.pid!, spec: () => directSpec },
    ],
    CONNECTIONS,
  );
  throughputRow(`POST /connect-url direct, v1 token, ${label}`, p!, 'Express pass-through', e!, goals.express);
  throughputRow(`POST /connect-url direct, v1 token, ${label}, vs node:http`, p!, 'node:http pass-through', h!, goals.http);

  // Added latency at one connection over the node:http pass-through.
  const p1: number[] = [];
  const h1: number[] = [];
  for (let r = 0; r < ROUNDS; r += 1) {
    const pair = [
      { base: product.base, into: p1 },
      { base: httpPass.base, into: h1 },
    ];
    if (r % 2) pair.reverse();
    for (const { base, into } of pair) into.push(await load<number>({ op: 'latency', base, seconds: SECONDS, spec: directSpec }));
  }
  const added = p1.map((x, i) => x - h1[i]!);
  row(
    `added p50 latency at 1 connection over node:http, ${label}`,
    `${fmt(median(p1), 2)} vs ${fmt(median(h1), 2)} ms: +${fmt(median(added), 2)} ms`,
    '≤ +1 ms',
    median(added) <= 1,
  );

  // Host page (popup: no upstream call): every load is counted, so each round gets fresh sessions.
  const sessionsFor = async (count: number, body: string, users = tokens) =>
    load<Array<{ sessionId: string; url: string; token: string }>>({ op: 'create-sessions', base: product.base, count, tokens: users, body });
  const [sample] = await sessionsFor(1, POPUP_BODY);
  const page = await request(sample!.url);
  const pageBody = await page.body.text();
  if (page.statusCode !== 200) throw new Error(`host page answered ${page.statusCode}`);
  const skip = new Set(['date', 'connection', 'keep-alive', 'content-length', 'transfer-encoding', 'etag']);
  const pageHeaders = Object.fromEntries(Object.entries(page.headers).filter(([name]) => !skip.has(name)).map(([name, value]) => [name, String(value)]));
  const pageFile = join(work, `page-${label}.json`);
  writeFileSync(pageFile, JSON.stringify({ headers: pageHeaders, body: pageBody }));
  const staticPage = await startServer('express-static', { BENCH_PAGE_FILE: pageFile });
  const pagePaths = async () => {
    // Sized for 6,000 loads a second at 100 loads a session: never runs out within a round.
    const sessions = await sessionsFor(Math.ceil((6_000 * Math.max(SECONDS, WARMUP_SECONDS)) / 100), POPUP_BODY);
    return { kind: 'paths', paths: sessions.map((s) => new URL(s.url).pathname + new URL(s.url).search) } satisfies RequestSpec;
  };
  const [hp, hs] = await rounds(
    [
      { name: 'product', base: product.base, pid: product.child.pid!, spec: pagePaths },
      { name: 'bare Express', base: staticPage.base, pid: staticPage.child.pid!, spec: () => ({ kind: 'paths', paths: [new URL(sample!.url).pathname] }) },
    ],
    CONNECTIONS,
  );
  throughputRow(`host page GET /connect/:id (popup), ${label}`, hp!, 'bare Express same bytes', hs!, 0.5);
  await stop(staticPage.child);

  // Signed POST /events (a step change on one of 64 sessions) against a bare hello-world POST.
  const eventSessions = (await sessionsFor(64, POPUP_BODY, [tokens[0]!])).map((s) => s.sessionId);
  const eventSpec: RequestSpec = { kind: 'webhook', secret: WEBHOOK_SECRET, userId: 'bench-user-0', sessionIds: eventSessions, event: 'step' };
  const helloSpec: RequestSpec = { kind: 'fixed', method: 'POST', path: '/hello', body: '{"type":"connect/stepChange","metadata":{}}', headers: { 'content-type': 'application/json' } };
  const [ev, he] = await rounds(
    [
      { name: 'product', base: product.base, pid: product.child.pid!, spec: () => eventSpec },
      { name: 'bare Express hello', base: hello.base, pid: hello.child.pid!, spec: () => helloSpec },
    ],
    CONNECTIONS,
  );
  throughputRow(`signed POST /events, ${label}`, ev!, 'bare Express hello POST', he!, goals.events);

  console.log(`  (product RSS after the ${label} rounds above: ${fmt(rssMiB(product.child.pid!))} MiB)`);
  await stop(product.child);
}

/**
 * SSE, on a product of its own (fresh SQLite file, no load before): 5,000 open streams, then
 * status-changing events (after a warm-up), paced for latency and flat out for rate. Measured the way the issue's
 * table was: streams opened on an idle product, so the RSS row is idle RSS plus what streams cost.
 */
async function streamRows() {
  const product = await startProduct(ucw.base, `sqlite:${join(work, 'streams.sqlite')}`);
  const streamSessions = await load<Array<{ sessionId: string; token: string }>>({ op: 'create-sessions', base: product.base, count: STREAMS, tokens: [tokens[0]!], body: POPUP_BODY });
  await sleep(500);
  const before = rssMiB(product.child.pid!);
  await load<number>({ op: 'open-streams', base: product.base, sessions: streamSessions.map((s) => ({ id: s.sessionId, token: s.token })) });
  await sleep(2_000);
  const after = rssMiB(product.child.pid!);
  const perStream = ((after - before) * 1024) / STREAMS;
  row(`RSS with ${fmt(STREAMS)} open SSE streams`, `${fmt(after)} MiB (+${fmt(after - before)} MiB, ${fmt(perStream, 1)} KiB a stream)`, '≤ 200 MiB, ≤ 15 KiB a stream', after <= 200 && perStream <= 15);

  // Warm-up, as every throughput row has: 500 paced events on 500 more streams (opened after the
  // RSS reading), so the measured run finds the ingest and fan-out code compiled.
  const warm = await load<Array<{ sessionId: string; token: string }>>({ op: 'create-sessions', base: product.base, count: 500, tokens: [tokens[0]!], body: POPUP_BODY });
  await load<number>({ op: 'open-streams', base: product.base, sessions: warm.map((s) => ({ id: s.sessionId, token: s.token })) });
  await load({ op: 'paced-events', base: product.base, rate: 500, secret: WEBHOOK_SECRET, userId: 'bench-user-0', sessionIds: warm.map((s) => s.sessionId) });

  const ids = streamSessions.map((s) => s.sessionId);
  const paced = await load<{ sent: number; rate: number; p50: number; p99: number; failures: number }>({
    op: 'paced-events',
    base: product.base,
    rate: 500,
    secret: WEBHOOK_SECRET,
    userId: 'bench-user-0',
    sessionIds: ids.slice(0, FANOUT_EVENTS),
  });
  row(
    'ingest-to-SSE-client latency at 500 ev/s, SQLite',
    `p50 ${fmt(paced.p50, 1)} ms, p99 ${fmt(paced.p99, 1)} ms over ${fmt(paced.sent)} events at ${fmt(paced.rate)} ev/s${paced.failures ? `, ${paced.failures} failed` : ''}`,
    'p99 ≤ 50 ms',
    paced.p99 <= 50 && paced.failures === 0,
  );
  const rest = ids.slice(FANOUT_EVENTS, FANOUT_EVENTS + INGEST_EVENTS);
  const flat = await load<CannonResult>({
    op: 'cannon',
    base: product.base,
    connections: CONNECTIONS,
    amount: rest.length,
    spec: { kind: 'webhook', secret: WEBHOOK_SECRET, userId: 'bench-user-0', sessionIds: rest, event: 'connected' },
  });
  row('status-changing events ingested (each fans out over SSE), SQLite', `${fmt(flat.rps)} ev/s over ${fmt(flat.total)} events${flat.bad ? `, ${flat.bad} failed` : ''}`, '≥ 600 ev/s', flat.rps >= 600 && flat.bad === 0);
  await load({ op: 'close-streams' });
  await stop(product.child);
}

try {
  await dialectRows('SQLite', `sqlite:${join(work, 'bench.sqlite')}`, { express: 0.85, http: 0.45, events: 0.35 });
  await streamRows();

  const database = `ucw_bff_bench_${process.pid}`;
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  await admin.query(`create database ${database}`);
  try {
    const url = new URL(PG_ADMIN_URL);
    url.pathname = `/${database}`;
    await dialectRows('PostgreSQL', url.toString(), { express: 0.85, http: 0.45, events: 0.25 });
  } finally {
    await admin.query(`drop database if exists ${database} with (force)`);
    await admin.end();
  }
} finally {
  await shutdown();
}

const failed = rows.filter((r) => !r.pass).length;
console.log(`${rows.length - failed} of ${rows.length} goals met; wall time ${fmt((performance.now() - benchStarted) / 1000)} s`);
