import type { Request, Response } from 'express';
import type { Kysely } from 'kysely';
import type { Database, ConnectSessionRow } from '../db/schema.js';
import { listSessionChanges } from './event-log.repository.js';
import { ENDED_WITHOUT_CONNECTION, isFinalStreamEvent, isPastExpiry } from './state-machine.js';
import type { SessionNotifier } from '../notify/session-notifier.js';

export interface SessionStreamDeps {
  db: Kysely<Database>;
  notifier: SessionNotifier;
  /** With verification on, `connected` is not the end: `dataReady` (or a failed verification) is. */
  verificationEnabled: boolean;
  heartbeatMs: number;
  clock: () => Date;
  /** Ends the session if its expiry has passed; the recorded ending then reaches the stream. */
  expireIfDue: (session: ConnectSessionRow) => Promise<ConnectSessionRow>;
}

/** Open streams, so shutdown can end them instead of waiting for clients to leave. */
export class StreamRegistry {
  readonly #open = new Set<(retryMs?: number) => void>();
  add(close: (retryMs?: number) => void): () => void {
    this.#open.add(close);
    return () => this.#open.delete(close);
  }
  /** Ends every stream; with `retryMs`, each first tells its client when to reconnect (SSE `retry:`). */
  closeAll(retryMs?: number): void {
    for (const close of [...this.#open]) close(retryMs);
  }
  get size(): number {
    return this.#open.size;
  }
}

const lastEventId = (req: Request): number => {
  const given = req.get('last-event-id') ?? (typeof req.query.lastEventId === 'string' ? req.query.lastEventId : undefined);
  return given && /^\d{1,15}$/.test(given) ? Number(given) : 0;
};

/**
 * Server-Sent Events of one session's state changes (`status`, `connected`, `verified`,
 * `dataReady`, `failed`, `verificationFailed`), replayed from the event log after
 * `Last-Event-ID`, so a reconnecting browser misses nothing. Every signal and every heartbeat
 * re-reads the log: a lost notification only delays an event, never drops it.
 */
export function streamSession(deps: SessionStreamDeps, registry: StreamRegistry, session: ConnectSessionRow, req: Request, res: Response): void {
  // HEAD reaches this GET handler too; it has no body, so it must not hold a stream open.
  if (req.method === 'HEAD') {
    res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-store' }).end();
    return;
  }
  res.writeHead(200, {
    'Content-Type': 'text/event-stream; charset=utf-8',
    'Cache-Control': 'no-store',
    Connection: 'keep-alive',
    'X-Accel-Buffering': 'no',
  });
  let seq = lastEventId(req);
  let closed = false;
  let reading = Promise.resolve();

  const close = (retryMs?: number) => {
    if (closed) return;
    closed = true;
    clearInterval(heartbeat);
    unsubscribe();
    unregister();
    if (retryMs !== undefined) res.write(`retry: ${retryMs}\n\n`);
    res.end();
  };

  const pump = () => {
    reading = reading.then(async () => {
      if (closed) return;
      const changes = await listSessionChanges(deps.db, session.id, seq);
      for (const change of changes) {
        const data = JSON.parse(change.metadata) as Record<string, unknown>;
        res.write(`id: ${change.seq}\nevent: ${change.type}\ndata: ${JSON.stringify({ sessionId: session.id, ...data })}\n\n`);
        seq = change.seq;
        if (isFinalStreamEvent(change.type, data, deps.verificationEnabled)) {
          close();
          return;
        }
      }
    }).catch(() => close());
  };

  // A fresh subscriber first learns where the session stands.
  if (seq === 0) res.write(`event: snapshot\ndata: ${JSON.stringify({ sessionId: session.id, status: session.status })}\n\n`);
  const unsubscribe = deps.notifier.subscribe(session.id, pump);
  const unregister = registry.add(close);
  const heartbeat = setInterval(() => {
    res.write(': heartbeat\n\n');
    // The sweep ends expired sessions too, but only every minute: an open stream need not wait.
    if (!ENDED_WITHOUT_CONNECTION.has(session.status) && isPastExpiry(session, deps.clock())) {
      deps.expireIfDue(session).catch(() => undefined);
    }
    pump();
  }, deps.heartbeatMs);
  heartbeat.unref();
  req.on('close', () => close());
  if (ENDED_WITHOUT_CONNECTION.has(session.status) && seq === 0) {
    pump();
    reading = reading.then(() => close());
    return;
  }
  pump();
}
