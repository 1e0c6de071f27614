/**
 * What the bench scripts share: the helper processes (fake UCW, anchors, the product as built),
 * the load generator in its own process, and the fixed secrets of the bench configuration.
 */
import { spawn, fork, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SignJWT } from 'jose';
import { request } from 'undici';
import type { Command } from './load.js';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');

export const JWT_SECRET = 'bench-hs256-secret-0123456789abcdefghijkl';
export const JWT_ISSUER = 'https://idp.bench.invalid';
export const JWT_AUDIENCE = 'ucw-bff-bench';
export const WEBHOOK_SECRET = `whsec_${Buffer.from('bench-webhook-secret-32-bytes!!!').toString('base64')}`;
export const UCW_TOKEN = 'bench-ucw-static-token';
export const APP_ORIGIN = 'https://app.example.com';
export const DIRECT_BODY = JSON.stringify({ jobTypes: ['transactions'], embed: 'direct', targetOrigin: APP_ORIGIN });
export const POPUP_BODY = JSON.stringify({ jobTypes: ['transactions'], embed: 'host', presentation: 'popup' });

/**
 * The product exactly as `npm run start:prod` runs it ("node [flags] <entry>"), so the bench
 * measures what production runs, whatever that script says.
 */
const startProd =
  // Another build to measure the same way (a baseline for an A/B comparison): BENCH_START_PROD="node /path/to/main.js".
  process.env.BENCH_START_PROD ?? (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts['start:prod']!;
const [, ...startProdArgs] = startProd.trim().split(/\s+/);
export const mainJs = resolve(root, startProdArgs.pop()!);
const prodNodeArgs = startProdArgs;
if (!existsSync(mainJs)) {
  process.stderr.write(`bench: ${mainJs} is missing. Run \`npm run build\` first (the bench measures the production build).\n`);
  process.exit(1);
}

export const work = mkdtempSync(join(tmpdir(), 'ucw-bff-bench-'));
export const children = new Set<ChildProcess>();
const stopAll = () => {
  for (const child of children) child.kill('SIGKILL');
};
process.on('exit', stopAll);
// Interrupted (Ctrl-C, a timeout): stop the children too, and leave no temporary files behind.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    stopAll();
    rmSync(work, { recursive: true, force: true });
    process.exit(130);
  });
}

// ---------------------------------------------------------------- processes

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

const tsx = { execArgv: ['--import', 'tsx'] };

export async function startServer(kind: string, env: Record<string, string> = {}): Promise<{ base: string; child: ChildProcess }> {
  const [script, args, loader] = kind.endsWith('.mjs') ? [join(root, 'bench', kind), [], {}] : [join(root, 'bench/servers.ts'), [kind], tsx];
  const child = fork(script, args, { ...loader, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  children.add(child);
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (message: { port: number }) => resolve(message.port));
    child.once('exit', (code) => reject(new Error(`${kind} exited with ${code}`)));
  });
  return { base: `http://127.0.0.1:${port}`, child };
}

export async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
  children.delete(child);
}

/** CPU time (user + system) a process has used so far, in ms (Linux /proc; 10 ms resolution). */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

export function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]);
  return kib / 1024;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `url` until it answers 200; resolves with the ms since `since`. */
export async function until200(url: string, since: number, child: ChildProcess): Promise<number> {
  for (;;) {
    if (child.exitCode !== null) throw new Error(`process exited with ${child.exitCode} before ${url} answered`);
    try {
      const res = await request(url, { method: url.endsWith('/hello') ? 'POST' : 'GET' });
      await res.body.dump();
      if (res.statusCode === 200) return performance.now() - since;
    } catch {
      // not listening yet
    }
    await sleep(5);
  }
}

/**
 * The glibc malloc settings the production image runs with (the Dockerfile's `MALLOC_*` ENV),
 * read from there so the bench runs the product in the environment production gives it.
 */
const imageMallocSettings = Object.fromEntries(
  [...readFileSync(join(root, 'Dockerfile'), 'utf8').matchAll(/\b(MALLOC_[A-Z_]+)=(\S+)/g)].map((match) => [match[1]!, match[2]!]),
);

export interface Product {
  base: string;
  child: ChildProcess;
  coldStartMs: number;
}

/** `entry`: another build's main.js to run instead of this one's (bench/ab.ts). */
export async function startProduct(ucwUrl: string, databaseUrl: string, nodeArgs: string[] = [], entry = mainJs): Promise<Product> {
  const port = await freePort();
  const env = {
    PATH: process.env.PATH ?? '',
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: String(port),
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    DATABASE_URL: databaseUrl,
    ALLOWED_ORIGINS: APP_ORIGIN,
    AUTH_JWT_SECRET: JWT_SECRET,
    AUTH_ISSUER: JWT_ISSUER,
    AUTH_AUDIENCE: JWT_AUDIENCE,
    SESSION_SECRET: 'bench-session-secret-0123456789abcdef',
    SESSION_MAX_LOADS: '100',
    UCW_URL: ucwUrl,
    UCW_API_VERSION: '1',
    UCW_AUTH: 'static',
    UCW_BEARER_TOKEN: UCW_TOKEN,
    WEBHOOK_SECRETS: WEBHOOK_SECRET,
    RATE_LIMIT_CONNECT_URL_PER_MIN: '100000',
    RATE_LIMIT_IP_PER_MIN: '1000000',
    ...imageMallocSettings,
  };
  const started = performance.now();
  // Logs go where a container's would, at the default level; /dev/null keeps the bench from paying for them.
  const child = spawn(process.execPath, [...prodNodeArgs, ...nodeArgs, entry], { cwd: work, env, stdio: ['ignore', 'ignore', 'inherit'] });
  children.add(child);
  const coldStartMs = await until200(`http://127.0.0.1:${port}/readyz`, started, child);
  return { base: `http://127.0.0.1:${port}`, child, coldStartMs };
}

// ---------------------------------------------------------------- load generator

const loader = fork(join(root, 'bench/load.ts'), [], { ...tsx, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
children.add(loader);
let commandId = 0;
const pendingCommands = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
loader.on('message', (message: { id: number; result?: unknown; error?: string }) => {
  const waiting = pendingCommands.get(message.id);
  pendingCommands.delete(message.id);
  if (message.error !== undefined) waiting?.reject(new Error(message.error));
  else waiting?.resolve(message.result);
});
export function load<T>(command: Command): Promise<T> {
  const id = ++commandId;
  return new Promise<T>((resolve, reject) => {
    pendingCommands.set(id, { resolve: resolve as (value: unknown) => void, reject });
    loader.send({ ...command, id });
  });
}


/** Bearer tokens for bench-user-0 … bench-user-<n-1>, as the platform would issue them. */
export function userTokens(n: number): Promise<string[]> {
  return Promise.all(
    Array.from({ length: n }, (_, i) =>
      new SignJWT({})
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(`bench-user-${i}`)
        .setIssuer(JWT_ISSUER)
        .setAudience(JWT_AUDIENCE)
        .setExpirationTime('2h')
        .sign(new TextEncoder().encode(JWT_SECRET)),
    ),
  );
}

/** Stops every process started here (SIGTERM, then SIGKILL after 15 s) and removes the work directory. */
export async function shutdown(): Promise<void> {
  for (const child of [...children]) if (child !== loader) await stop(child);
  loader.disconnect();
  rmSync(work, { recursive: true, force: true });
}
