/**
 * `npm run bench:ab -- <baseline main.js> [sqlite|postgres] [connect-url|host-page|events|connected|fanout] [rounds]`:
 * this build against another (e.g. main's, built in a worktree) on one path, in alternating
 * rounds (AB BA AB…) in one run, so that a change is judged side by side, never by a lone
 * number. Prints each build's median rps and server CPU per request, and the per-round ratio.
 * Needs `npm run build` in both trees.
 */
import { join, resolve } from 'node:path';
import pg from 'pg';
import { DIRECT_BODY, POPUP_BODY, WEBHOOK_SECRET, cpuMs, load, mainJs, shutdown, startProduct, startServer, userTokens, work, type Product } from './harness.js';
import type { CannonResult, RequestSpec } from './load.js';

const [baselineArg, dialectArg = 'sqlite', path = 'connect-url', roundsArg = '6'] = process.argv.slice(2);
if (!baselineArg) throw new Error('usage: npm run bench:ab -- <baseline main.js> [sqlite|postgres] [connect-url|host-page|events|connected|fanout] [rounds]');
const ROUNDS = Number(roundsArg);
const SECONDS = 3;
/** Events per round of the connected path: each session connects once, so a round is a count, not a duration. */
const CONNECTED_EVENTS = 1_500;
const PG_ADMIN_URL = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

const tokens = await userTokens(16);
const ucw = await startServer('fake-ucw');
const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
const databases: string[] = [];
async function databaseUrl(name: string): Promise<string> {
  if (dialectArg !== 'postgres') return `sqlite:${join(work, `${name}.sqlite`)}`;
  const database = `ucw_bff_ab_${name}_${process.pid}`;
  await admin.query(`create database ${database}`);
  databases.push(database);
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${database}`;
  return url.toString();
}

/** A fresh request spec for one round (host page links and event sessions are made per round). */
async function spec(product: Product): Promise<RequestSpec> {
  const sessions = (count: number, users: string[]) =>
    load<Array<{ sessionId: string; url: string }>>({ op: 'create-sessions', base: product.base, count, tokens: users, body: POPUP_BODY });
  if (path === 'connect-url') return { kind: 'fixed', method: 'POST', path: '/connect-url', body: DIRECT_BODY, headers: { 'content-type': 'application/json' }, tokens };
  if (path === 'host-page') return { kind: 'paths', paths: (await sessions(Math.ceil((4_000 * SECONDS) / 100), tokens)).map((s) => new URL(s.url).pathname + new URL(s.url).search) };
  // connected: a memberConnected into each of as many fresh sessions as the round sends (a new connection each).
  if (path === 'connected') return { kind: 'webhook', secret: WEBHOOK_SECRET, userId: 'bench-user-0', sessionIds: (await sessions(CONNECTED_EVENTS, [tokens[0]!])).map((s) => s.sessionId), event: 'connected' };
  return { kind: 'webhook', secret: WEBHOOK_SECRET, userId: 'bench-user-0', sessionIds: (await sessions(64, [tokens[0]!])).map((s) => s.sessionId), event: 'step' };
}

async function throughput(builds: Array<{ name: string; product: Product }>): Promise<void> {
  const results = builds.map(() => [] as CannonResult[]);
  for (let r = -1; r < ROUNDS; r += 1) {
    const order = r % 2 ? [0, 1] : [1, 0];
    for (const i of order) {
      const { product } = builds[i]!;
      // Made before the CPU reading: creating a round's sessions is not the path measured.
      const roundSpec = await spec(product);
      const amount = path === 'connected' ? { amount: r < 0 ? 500 : CONNECTED_EVENTS } : { seconds: r < 0 ? 1 : SECONDS };
      const cpuBefore = cpuMs(product.child.pid!);
      const result = await load<CannonResult>({ op: 'cannon', base: product.base, connections: 10, ...amount, spec: roundSpec });
      result.cpuUsPerRequest = ((cpuMs(product.child.pid!) - cpuBefore) * 1000) / Math.max(1, result.total);
      if (r >= 0) results[i]!.push(result); // round -1 warms both up
    }
  }
  console.log(`bench:ab ${path} on ${dialectArg}, ${ROUNDS} alternating rounds of ${path === 'connected' ? `${CONNECTED_EVENTS} events` : `${SECONDS} s`}`);
  builds.forEach((build, i) => {
    const rs = results[i]!;
    console.log(`  ${build.name.padEnd(10)} ${median(rs.map((x) => x.rps)).toFixed(0)} rps, ${median(rs.map((x) => x.cpuUsPerRequest!)).toFixed(0)} µs CPU/req, ${rs.reduce((n, x) => n + x.bad, 0)} bad`);
  });
  if (path === 'connect-url') {
    // The bench's added-latency row: requests back to back on one connection.
    const p50s = builds.map(() => [] as number[]);
    const spec = { kind: 'fixed' as const, method: 'POST' as const, path: '/connect-url', body: DIRECT_BODY, headers: { 'content-type': 'application/json' }, tokens };
    for (let r = 0; r < ROUNDS; r += 1) for (const i of r % 2 ? [0, 1] : [1, 0]) p50s[i]!.push(await load<number>({ op: 'latency', base: builds[i]!.product.base, seconds: SECONDS, spec }));
    builds.forEach((build, i) => console.log(`  ${build.name.padEnd(10)} p50 at 1 connection ${median(p50s[i]!).toFixed(2)} ms`));
  }
  const ratios = results[1]!.map((x, i) => x.rps / results[0]![i]!.rps);
  console.log(`  this/baseline rps: ${median(ratios).toFixed(2)}× (rounds ${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)})`);
}

/**
 * Ingest-to-SSE latency: per round and build, 1,000 open streams and 500 status-changing
 * events paced at 500 ev/s, each for a session whose stream is open (the bench's fan-out row, smaller).
 */
async function fanout(products: Product[]): Promise<void> {
  const p99s = products.map(() => [] as number[]);
  const p50s = products.map(() => [] as number[]);
  for (let r = 0; r < ROUNDS; r += 1) {
    for (const i of r % 2 ? [0, 1] : [1, 0]) {
      const base = products[i]!.base;
      const streams = await load<Array<{ sessionId: string; token: string }>>({ op: 'create-sessions', base, count: 1_000, tokens: [tokens[0]!], body: POPUP_BODY });
      await load({ op: 'open-streams', base, sessions: streams.map((s) => ({ id: s.sessionId, token: s.token })) });
      const paced = await load<{ p50: number; p99: number; failures: number }>({ op: 'paced-events', base, rate: 500, secret: WEBHOOK_SECRET, userId: 'bench-user-0', sessionIds: streams.slice(0, 500).map((s) => s.sessionId) });
      await load({ op: 'close-streams' });
      p50s[i]!.push(paced.p50);
      p99s[i]!.push(paced.p99);
    }
  }
  console.log(`bench:ab fanout on ${dialectArg}, ${ROUNDS} alternating rounds (1,000 streams, 500 events at 500 ev/s)`);
  ['baseline', 'this build'].forEach((name, i) => console.log(`  ${name.padEnd(10)} ingest-to-SSE p50 ${median(p50s[i]!).toFixed(1)} ms, p99 ${median(p99s[i]!).toFixed(1)} ms`));
}

try {
  if (dialectArg === 'postgres') await admin.connect();
  const builds = [
    { name: 'baseline', product: await startProduct(ucw.base, await databaseUrl('a'), [], resolve(baselineArg)) },
    { name: 'this build', product: await startProduct(ucw.base, await databaseUrl('b'), [], mainJs) },
  ];
  if (path === 'fanout') await fanout(builds.map((b) => b.product));
  else await throughput(builds);
} finally {
  await shutdown();
  for (const database of databases) await admin.query(`drop database if exists ${database} with (force)`);
  await admin.end().catch(() => undefined);
}
