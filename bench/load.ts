/**
 * The load generator, in its own process so that it never competes with the measured server
 * for an event loop (`fork('bench/load.ts')`, commands over IPC, one at a time). It drives
 * autocannon for throughput and latency, and holds the SSE clients of the fan-out figures.
 */
import { createHmac } from 'node:crypto';
import http from 'node:http';
import autocannon from 'autocannon';
import { Agent, request } from 'undici';

export type RequestSpec =
  | { kind: 'fixed'; method: 'GET' | 'POST'; path: string; body?: string; headers?: Record<string, string>; tokens?: string[] }
  | { kind: 'paths'; paths: string[] }
  | { kind: 'webhook'; secret: string; userId: string; sessionIds: string[]; event: 'step' | 'connected' };

export interface CannonResult {
  rps: number;
  p50: number;
  p99: number;
  total: number;
  bad: number;
  /** Filled in by the bench: the server's CPU time over the round divided by its requests. */
  cpuUsPerRequest?: number;
}

export type Command =
  | { op: 'cannon'; base: string; connections: number; seconds?: number; amount?: number; spec: RequestSpec }
  | { op: 'latency'; base: string; seconds: number; spec: Extract<RequestSpec, { kind: 'fixed' }> }
  | { op: 'create-sessions'; base: string; count: number; tokens: string[]; body: string }
  | { op: 'open-streams'; base: string; sessions: Array<{ id: string; token: string }> }
  | { op: 'paced-events'; base: string; rate: number; secret: string; userId: string; sessionIds: string[] }
  | { op: 'close-streams' };

let webhookCounter = 0;
let stepCounter = 0;
const started = Date.now();

/** Standard Webhooks signature over `<id>.<timestamp>.<body>` (the product verifies the same). */
export function signedEvent(secret: string, body: string): Record<string, string> {
  webhookCounter += 1;
  const id = `msg_bench_${started}_${process.pid}_${webhookCounter}`;
  const timestamp = String(Math.floor(Date.now() / 1000));
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  const signature = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64');
  return { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': timestamp, 'webhook-signature': `v1,${signature}` };
}

/** A status-changing event for one session: memberConnected with a connection of its own. */
export function connectedEvent(userId: string, sessionId: string): string {
  return JSON.stringify({
    type: 'connect/memberConnected',
    userId,
    sessionId,
    metadata: { aggregator: 'mx', member_guid: `MBR-${sessionId}`, user_guid: `USR-${userId}`, ucpInstitutionId: 'bench-bank' },
  });
}

function requestOf(spec: RequestSpec): autocannon.Request {
  let i = 0;
  switch (spec.kind) {
    case 'fixed': {
      const tokens = spec.tokens ?? [];
      return {
        method: spec.method,
        path: spec.path,
        ...(spec.body ? { body: spec.body } : {}),
        headers: spec.headers ?? {},
        setupRequest: (req) => {
          if (tokens.length === 0) return req;
          i += 1;
          return { ...req, headers: { ...req.headers, authorization: `Bearer ${tokens[i % tokens.length]}` } };
        },
      };
    }
    case 'paths':
      return {
        method: 'GET',
        path: spec.paths[0]!,
        setupRequest: (req) => {
          i += 1;
          return { ...req, path: spec.paths[i % spec.paths.length]! };
        },
      };
    case 'webhook':
      return {
        method: 'POST',
        path: '/events',
        setupRequest: (req) => {
          i += 1;
          const sessionId = spec.sessionIds[i % spec.sessionIds.length]!;
          const body =
            spec.event === 'connected'
              ? connectedEvent(spec.userId, sessionId)
              : // A new step every time (a counter across rounds, not the round's `i`): the same content again would be a duplicate.
                JSON.stringify({ type: 'connect/stepChange', userId: spec.userId, sessionId, metadata: { current: `step-${started}-${(stepCounter += 1)}`, previous: 'bench' } });
          return { ...req, body, headers: signedEvent(spec.secret, body) };
        },
      };
  }
}

async function cannon(command: Extract<Command, { op: 'cannon' }>): Promise<CannonResult> {
  const started = performance.now();
  let lastResponse = started;
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: command.base,
        connections: command.connections,
        ...(command.amount ? { amount: command.amount } : { duration: command.seconds ?? 5 }),
        requests: [requestOf(command.spec)],
        timeout: 10,
      },
      (error: unknown, done: autocannon.Result) => (error ? reject(error instanceof Error ? error : new Error(String(error))) : resolve(done)),
    );
    instance.on('response', () => (lastResponse = performance.now()));
  });
  // A fixed amount ends at autocannon's next one-second tick, not at its last response, so its
  // `duration` rounds up to whole seconds (1,500 events answered in 1.6 s read as 498 a second).
  const seconds = command.amount ? (lastResponse - started) / 1000 : result.duration;
  const good = result['2xx'];
  return {
    rps: good / seconds,
    p50: result.latency.p50,
    p99: result.latency.p99,
    total: result.requests.total,
    bad: result.non2xx + result.errors + result.timeouts,
  };
}

/** p50 in ms (fractional: autocannon rounds to whole ms) of back-to-back requests on one keep-alive connection. */
async function latency(command: Extract<Command, { op: 'latency' }>): Promise<number> {
  const agent = new Agent({ connections: 1 });
  const { spec } = command;
  const samples: number[] = [];
  const end = performance.now() + command.seconds * 1000;
  for (let i = 0; performance.now() < end; i += 1) {
    const token = spec.tokens?.[i % spec.tokens.length];
    const t = performance.now();
    const res = await request(`${command.base}${spec.path}`, {
      method: spec.method,
      headers: { ...spec.headers, ...(token ? { authorization: `Bearer ${token}` } : {}) },
      ...(spec.body ? { body: spec.body } : {}),
      dispatcher: agent,
    });
    await res.body.dump();
    // The first second warms the connection and the JIT.
    if (i > 20) samples.push(performance.now() - t);
  }
  await agent.close();
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)] ?? Number.NaN;
}

async function createSessions(command: Extract<Command, { op: 'create-sessions' }>) {
  const agent = new Agent({ connections: 10 });
  const out: Array<{ sessionId: string; url: string; token: string }> = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: 10 }, async () => {
      while (next < command.count) {
        const i = next++;
        const token = command.tokens[i % command.tokens.length]!;
        const res = await request(`${command.base}/connect-url`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: command.body,
          dispatcher: agent,
        });
        const json = (await res.body.json()) as { sessionId: string; url: string };
        if (res.statusCode !== 201) throw new Error(`POST /connect-url answered ${res.statusCode}: ${JSON.stringify(json)}`);
        out.push({ sessionId: json.sessionId, url: json.url, token });
      }
    }),
  );
  await agent.close();
  return out;
}

/** Open SSE clients by session id; `onStatus` fires at the first `status` event after the snapshot. */
const streams = new Map<string, { req: http.ClientRequest; onStatus?: () => void }>();

async function openStreams(command: Extract<Command, { op: 'open-streams' }>): Promise<number> {
  const base = new URL(command.base);
  let next = 0;
  // Open them a few hundred at a time: a realistic arrival, and no SYN flood on loopback.
  await Promise.all(
    Array.from({ length: 50 }, async () => {
      while (next < command.sessions.length) {
        const { id, token } = command.sessions[next++]!;
        await new Promise<void>((resolve, reject) => {
          const req = http.get(
            { host: base.hostname, port: base.port, path: `/connect-sessions/${id}/stream`, headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' }, agent: false },
            (res) => {
              if (res.statusCode !== 200) reject(new Error(`stream answered ${res.statusCode}`));
              res.setEncoding('utf8');
              let buffer = '';
              let snapshot = false;
              res.on('data', (chunk: string) => {
                buffer += chunk;
                let end: number;
                while ((end = buffer.indexOf('\n\n')) >= 0) {
                  const message = buffer.slice(0, end);
                  buffer = buffer.slice(end + 2);
                  if (message.startsWith('event: snapshot')) {
                    snapshot = true;
                    resolve();
                  } else if (snapshot && /^event: status$/m.test(message)) {
                    streams.get(id)?.onStatus?.();
                  }
                }
              });
              res.on('error', () => undefined);
            },
          );
          req.on('error', reject);
          streams.set(id, { req });
        });
      }
    }),
  );
  return streams.size;
}

async function pacedEvents(command: Extract<Command, { op: 'paced-events' }>) {
  const agent = new Agent({ connections: 32 });
  const latencies: number[] = [];
  let failures = 0;
  const interval = 1000 / command.rate;
  const t0 = performance.now();
  const pending: Array<Promise<void>> = [];
  for (let i = 0; i < command.sessionIds.length; i += 1) {
    const due = t0 + i * interval;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    const sessionId = command.sessionIds[i]!;
    const stream = streams.get(sessionId);
    if (!stream) throw new Error(`no stream open for ${sessionId}`);
    const body = connectedEvent(command.userId, sessionId);
    const sent = performance.now();
    pending.push(
      new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          failures += 1;
          resolve();
        }, 10_000);
        stream.onStatus = () => {
          clearTimeout(timer);
          latencies.push(performance.now() - sent);
          resolve();
        };
      }),
    );
    void request(`${command.base}/events`, { method: 'POST', headers: signedEvent(command.secret, body), body, dispatcher: agent })
      .then(async (res) => {
        await res.body.dump();
        if (res.statusCode !== 200) failures += 1;
      })
      .catch(() => {
        failures += 1;
      });
  }
  const sendSeconds = (performance.now() - t0) / 1000;
  await Promise.all(pending);
  await agent.close();
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? Number.NaN;
  return { sent: command.sessionIds.length, rate: command.sessionIds.length / sendSeconds, p50: at(0.5), p99: at(0.99), failures };
}

process.on('message', (command: Command & { id: number }) => {
  const run = async (): Promise<unknown> => {
    switch (command.op) {
      case 'cannon':
        return cannon(command);
      case 'latency':
        return latency(command);
      case 'create-sessions':
        return createSessions(command);
      case 'open-streams':
        return openStreams(command);
      case 'paced-events':
        return pacedEvents(command);
      case 'close-streams':
        for (const { req } of streams.values()) req.destroy();
        streams.clear();
        return 0;
    }
  };
  run().then(
    (result) => process.send?.({ id: command.id, result }),
    (error: unknown) => process.send?.({ id: command.id, error: error instanceof Error ? error.message : String(error) }),
  );
});
process.on('disconnect', () => process.exit(0));
