import { POPUP_BODY, WEBHOOK_SECRET, load, shutdown, startProduct, startServer, userTokens } from './harness.js';
import { spawn } from 'node:child_process';
import pg from 'pg';
const tokens = await userTokens(4);
const ucw = await startServer('fake-ucw');
const admin = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/test' }); await admin.connect();
const db = `ucw_bff_strace_${process.pid}`; await admin.query(`create database ${db}`); if (process.env.LOGSTMT) await admin.query(`alter database ${db} set log_statement = 'all'`);
const path = process.argv[2] ?? 'events';
try {
  const product = await startProduct(ucw.base, process.argv[3] === 'sqlite' ? 'sqlite:/tmp/strace-' + process.pid + '.sqlite' : `postgres://postgres@127.0.0.1:5432/${db}`);
  const sessions = await load<Array<{ sessionId: string; url: string }>>({ op: 'create-sessions', base: product.base, count: 200, tokens: [tokens[0]!], body: POPUP_BODY });
  const spec = path === 'events' ? { kind: 'webhook' as const, secret: WEBHOOK_SECRET, userId: 'bench-user-0', sessionIds: sessions.slice(0, 64).map((s) => s.sessionId), event: 'step' as const }
    : { kind: 'paths' as const, paths: sessions.map((s) => new URL(s.url).pathname + new URL(s.url).search) };
  await load({ op: 'cannon', base: product.base, connections: 10, seconds: 1, spec });
  const tracer = spawn('strace', ['-c', '-f', '-e', 'trace=writev,write,read,sendto,recvfrom', '-p', String(product.child.pid)], { stdio: ['ignore', 'inherit', 'inherit'] });
  await new Promise((r) => setTimeout(r, 300));
  const r = await load<{ total: number }>({ op: 'cannon', base: product.base, connections: 10, amount: 2000, spec });
  tracer.kill('SIGINT'); await new Promise((r) => tracer.once('exit', r));
  console.log('requests', r.total);
} finally { await shutdown(); await admin.query(`drop database if exists ${db} with (force)`); await admin.end(); }
