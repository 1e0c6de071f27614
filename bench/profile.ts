/**
 * `npm run bench:profile -- [sqlite|postgres] [seconds]`: the production build under the bench's
 * loads with `node --cpu-prof`, one scenario after another (POST /connect-url direct, the host
 * page, signed POST /events, SSE fan-out over 5,000 streams). Writes a .cpuprofile (open it in Chrome DevTools) and prints the
 * functions and packages with the most self time. Needs `npm run build` first.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { SourceMap, type SourceMapPayload } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import pg from 'pg';
import { DIRECT_BODY, POPUP_BODY, WEBHOOK_SECRET, load, root, shutdown, startProduct, startServer, stop, userTokens, work } from './harness.js';
import type { CannonResult, RequestSpec } from './load.js';

const dialect = process.argv[2] === 'postgres' ? 'postgres' : 'sqlite';
const seconds = Number(process.argv[3] ?? 10);
const only = process.argv[4]; // optional: connect-url | host-page | events | fanout
const out = join(root, 'bench/profiles');
mkdirSync(out, { recursive: true });

const tokens = await userTokens(16);
const ucw = await startServer('fake-ucw');
let databaseUrl = `sqlite:${join(work, 'profile.sqlite')}`;
const database = `ucw_bff_profile_${process.pid}`;
const admin = new pg.Client({ connectionString: process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test' });
if (dialect === 'postgres') {
  await admin.connect();
  await admin.query(`create database ${database}`);
  const url = new URL(process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test');
  url.pathname = `/${database}`;
  databaseUrl = url.toString();
}
const before = new Set(readdirSync(out));
try {
  const product = await startProduct(ucw.base, databaseUrl, ['--cpu-prof', `--cpu-prof-dir=${out}`]);
  const sessions = (count: number, body: string, users = tokens) =>
    load<Array<{ sessionId: string; url: string; token: string }>>({ op: 'create-sessions', base: product.base, count, tokens: users, body });
  const run = async (name: string, spec: RequestSpec) => {
    if (only && only !== name) return;
    const result = await load<CannonResult>({ op: 'cannon', base: product.base, connections: 10, seconds, spec });
    console.log(`${name}: ${result.rps.toFixed(0)} rps, ${result.bad} bad`);
  };
  await run('connect-url', { kind: 'fixed', method: 'POST', path: '/connect-url', body: DIRECT_BODY, headers: { 'content-type': 'application/json' }, tokens });
  const pages = await sessions(Math.ceil((4_000 * seconds) / 100), POPUP_BODY);
  await run('host-page', { kind: 'paths', paths: pages.map((s) => new URL(s.url).pathname + new URL(s.url).search) });
  const eventSessions = (await sessions(64, POPUP_BODY, [tokens[0]!])).map((s) => s.sessionId);
  await run('events', { kind: 'webhook', secret: WEBHOOK_SECRET, userId: 'bench-user-0', sessionIds: eventSessions, event: 'step' });
  if (!only || only === 'fanout') {
    // The bench's SSE rows: 5,000 open streams, status-changing events paced at 500 ev/s, then flat out.
    const streams = await sessions(5_000, POPUP_BODY, [tokens[0]!]);
    await load({ op: 'open-streams', base: product.base, sessions: streams.map((s) => ({ id: s.sessionId, token: s.token })) });
    const ids = streams.map((s) => s.sessionId);
    const paced = await load<{ p50: number; p99: number; failures: number }>({ op: 'paced-events', base: product.base, rate: 500, secret: WEBHOOK_SECRET, userId: 'bench-user-0', sessionIds: ids.slice(0, 2_000) });
    console.log(`fanout: paced p50 ${paced.p50.toFixed(1)} ms, p99 ${paced.p99.toFixed(1)} ms, ${paced.failures} failed`);
    const flat = await load<CannonResult>({ op: 'cannon', base: product.base, connections: 10, amount: 2_500, spec: { kind: 'webhook', secret: WEBHOOK_SECRET, userId: 'bench-user-0', sessionIds: ids.slice(2_000, 4_500), event: 'connected' } });
    console.log(`fanout: flat out ${flat.rps.toFixed(0)} ev/s, ${flat.bad} bad`);
    await load({ op: 'close-streams' });
  }
  await stop(product.child);
} finally {
  await shutdown();
  if (dialect === 'postgres') {
    await admin.query(`drop database if exists ${database} with (force)`);
    await admin.end();
  }
}

const file = readdirSync(out).find((name) => !before.has(name) && name.endsWith('.cpuprofile'));
if (!file) throw new Error('no profile written');
console.log(`profile: ${join(out, file)}`);

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  hitCount?: number;
}
const profile = JSON.parse(readFileSync(join(out, file), 'utf8')) as { nodes: Node[] };
// The production build is a bundle: map each frame back through its source map to the
// original file (src/… or node_modules/<package>/…), so the tables name real places.
const maps = new Map<string, SourceMap | undefined>();
const original = (url: string, line: number, column: number): { where: string; line: number } => {
  const path = url.replace(/^file:\/\//, '');
  if (!maps.has(path)) maps.set(path, existsSync(`${path}.map`) ? new SourceMap(JSON.parse(readFileSync(`${path}.map`, 'utf8')) as SourceMapPayload) : undefined);
  const entry = maps.get(path)?.findEntry(line, column);
  if (!entry || !('originalSource' in entry)) return { where: path, line };
  return { where: resolve(dirname(path), entry.originalSource.replace(/^file:\/\//, '')), line: entry.originalLine };
};
const total = profile.nodes.reduce((sum, node) => sum + (node.hitCount ?? 0), 0);
const byFunction = new Map<string, number>();
const byPackage = new Map<string, number>();
for (const node of profile.nodes) {
  const hits = node.hitCount ?? 0;
  const { functionName, url, lineNumber: bundleLine, columnNumber } = node.callFrame;
  const mapped = url.startsWith('file://') ? original(url, bundleLine, columnNumber) : { where: url, line: bundleLine };
  const where = mapped.where.replace(`${root}/`, '');
  const lineNumber = mapped.line;
  const fn = `${functionName || '(anonymous)'} ${where}:${lineNumber + 1}`;
  byFunction.set(fn, (byFunction.get(fn) ?? 0) + hits);
  const pkg = /node_modules\/((@[^/]+\/)?[^/]+)/.exec(where)?.[1] ?? (where.startsWith('src/') ? 'ucw-bff' : where.startsWith('node:') ? 'node core' : where || functionName);
  byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + hits);
}
const top = (map: Map<string, number>, n: number) =>
  [...map].sort((a, b) => b[1] - a[1]).slice(0, n).map(([name, hits]) => `${((100 * hits) / total).toFixed(1).padStart(5)}%  ${name}`).join('\n');
console.log(`\nself time by package:\n${top(byPackage, 20)}\n\nself time by function:\n${top(byFunction, 40)}`);
